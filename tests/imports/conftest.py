"""Fixtures of the import tests: a file root, a local HTTP server, schedules made by the services."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from apps.imports.models import ImportSchedule
from apps.imports.services import schedule_create


@dataclass
class Page:
    body: bytes
    status: int = 200
    content_type: str = "text/csv"
    location: str = ""


@dataclass
class LocalServer:
    """An http.server on 127.0.0.1 in a thread, serving `pages` by path (query strings are recorded)."""

    pages: dict[str, Page] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    server_state = LocalServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server_state.requested.append(self.path)
            page = server_state.pages.get(self.path.split("?")[0])
            if page is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            if page.location:
                self.send_header("Location", page.location)
            self.send_header("Content-Length", str(len(page.body)))
            self.end_headers()
            self.wfile.write(page.body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server_state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def file_root(tmp_path: Path, settings) -> Path:
    root = tmp_path / "imports"
    root.mkdir()
    settings.IMPORTS_FILE_ROOT = root
    return root


def write_csv(root: Path, name: str, lines: list[str]) -> str:
    (root / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return name


def xlsx_bytes(rows: list[list[Any]], sheet: str = "Items") -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Cover"
    book.active.append(["not the data"])
    data = book.create_sheet(sheet)
    for row in rows:
        data.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_schedule(
    path: str, *, name: str = "Items", record_type: str = "item", **config: Any
) -> ImportSchedule:
    return schedule_create(
        name=name, record_type=record_type, source_kind="csv", config={"path": path, **config}
    )
