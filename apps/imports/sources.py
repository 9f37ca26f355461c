"""Reading a data source into a table of rows: CSV, xlsx, a public Google Sheet, or one SQL SELECT.

Every failure is a SourceError whose text says what is wrong and what to do; nothing is written
before a source has been read whole. Secrets (database passwords, tokens in URLs) come from the
environment at run time and never appear in an error.
"""

from __future__ import annotations

import csv
import io
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings

from .models import DataSource

Value = str | int | float | bool | None


class SourceError(Exception):
    """The source could not be read; the run fails and nothing is written."""


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Value]] = field(default_factory=list)


def read_source(source: DataSource) -> Table:
    timeout = source.timeout_seconds or settings.IMPORTS_READ_TIMEOUT_SECONDS
    if source.kind == DataSource.Kind.CSV:
        return parse_csv(_file_or_url(source, timeout))
    if source.kind == DataSource.Kind.XLSX:
        return parse_xlsx(
            _file_or_url(source, timeout), sheet_name=source.sheet_name, cell_range=source.cell_range
        )
    if source.kind == DataSource.Kind.GOOGLE_SHEET:
        url = google_sheet_csv_url(source.url, sheet_name=source.sheet_name, cell_range=source.cell_range)
        return parse_csv(download(url, timeout=timeout, google=True))
    if source.kind == DataSource.Kind.SQL:
        from .sql_source import read_sql  # it builds on this module's Table and errors

        return read_sql(connection=source.connection, query=source.query, timeout=timeout)
    raise SourceError(f"Unknown source kind '{source.kind}'.")


# Files and URLs -----------------------------------------------------------------------------------
def resolve_path(relative: str) -> Path:
    """A file under IMPORTS_FILE_ROOT; anything that escapes the root is refused."""
    root = Path(settings.IMPORTS_FILE_ROOT).resolve()
    if not relative:
        raise SourceError("The source has neither a path nor a URL.")
    candidate = (root / relative).resolve()
    if Path(relative).is_absolute() or not candidate.is_relative_to(root):
        raise SourceError(
            f"The path '{relative}' is outside IMPORTS_FILE_ROOT; give a path relative to that folder."
        )
    return candidate


def _file_or_url(source: DataSource, timeout: float) -> bytes:
    if source.url:
        return download(source.url, timeout=timeout)
    path = resolve_path(source.path)
    try:
        with path.open("rb") as handle:
            data = handle.read(settings.IMPORTS_MAX_SOURCE_BYTES + 1)
    except FileNotFoundError as exc:
        raise SourceError(f"The file '{source.path}' does not exist under IMPORTS_FILE_ROOT.") from exc
    except OSError as exc:
        raise SourceError(f"The file '{source.path}' cannot be read: {exc.strerror or exc}.") from exc
    return _capped(data)


def _capped(data: bytes) -> bytes:
    if len(data) > settings.IMPORTS_MAX_SOURCE_BYTES:
        raise SourceError(
            f"The source is larger than IMPORTS_MAX_SOURCE_BYTES ({settings.IMPORTS_MAX_SOURCE_BYTES} bytes)."
        )
    return data


def _shown(url: str) -> str:
    """The URL without its query string or credentials, which may hold a token."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"


def download(url: str, *, timeout: float, google: bool = False) -> bytes:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise SourceError(f"Only http and https URLs can be read, not '{_shown(url)}'.")
    request = urllib.request.Request(url, headers={"User-Agent": "syncserver-imports"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            final_url = response.geturl()
            content_type = response.headers.get_content_type()
            data = _capped(response.read(settings.IMPORTS_MAX_SOURCE_BYTES + 1))
    except urllib.error.HTTPError as exc:
        if google and exc.code in (401, 403):
            raise SourceError(_ACCESS_DENIED) from exc
        raise SourceError(f"{_shown(url)} answered HTTP {exc.code} {exc.reason}.") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceError(f"{_shown(url)} could not be read: {reason}.") from exc
    if google and (_is_login_page(final_url) or content_type == "text/html"):
        # A private sheet does not answer 403: Google redirects to its sign-in page (HTML).
        raise SourceError(_ACCESS_DENIED)
    return data


_ACCESS_DENIED = (
    "Access denied: the Google Sheet is not public. Share it as 'Anyone with the link can view' "
    "(or publish it), then run the import again."
)


def _is_login_page(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    return host.startswith("accounts.") or "ServiceLogin" in url


_SHEET_ID = re.compile(r"^https://docs\.google\.com/spreadsheets/d/([A-Za-z0-9_-]+)")


def google_sheet_csv_url(url: str, *, sheet_name: str, cell_range: str) -> str:
    """The CSV export URL of a sheet: its gviz CSV export for a docs.google.com link, or `url` itself
    (an export URL already) with `sheet` and `range` added."""
    if not url:
        raise SourceError("A Google Sheet source needs the sheet's URL.")
    match = _SHEET_ID.match(url)
    base = f"https://docs.google.com/spreadsheets/d/{match.group(1)}/gviz/tq" if match else url
    params = {"tqx": "out:csv"} if match else {}
    if sheet_name:
        params["sheet"] = sheet_name
    if cell_range:
        params["range"] = cell_range
    if not params:
        return base
    return f"{base}{'&' if '?' in base else '?'}{urllib.parse.urlencode(params)}"


# Parsing ------------------------------------------------------------------------------------------
def parse_csv(data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"The CSV is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV.") from exc
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        rows = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise SourceError(f"The CSV cannot be read at line {reader.line_num}: {exc}.") from exc
    return _table(rows)


def _delimiter(text: str) -> str:
    """Comma, semicolon (spreadsheets in many locales) or tab: whichever the header line uses most.

    Decided on the header alone, which holds names rather than free text, so a comma inside a value
    cannot change how the file is split.
    """
    header = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {delimiter: header.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_xlsx(data: bytes, *, sheet_name: str = "", cell_range: str = "") -> Table:
    try:
        import openpyxl
    except ImportError as exc:  # an optional extra
        raise SourceError("Reading .xlsx needs openpyxl: pip install 'syncserver[imports]'.") from exc
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise SourceError(f"The file is not an .xlsx workbook ({type(exc).__name__}: {exc}).") from exc
    try:
        if sheet_name and sheet_name not in book.sheetnames:
            raise SourceError(
                f"The workbook has no sheet '{sheet_name}'; it has {', '.join(book.sheetnames)}."
            )
        sheet = book[sheet_name] if sheet_name else book.worksheets[0]
        try:
            cells = sheet[cell_range] if cell_range else sheet.iter_rows()
        except ValueError as exc:
            raise SourceError(f"The range '{cell_range}' is not a cell range such as A1:F500.") from exc
        rows = [[cell.value for cell in row] for row in cells]
    finally:
        book.close()
    return _table([r for r in rows if any(v not in (None, "") for v in r)])


def plain_value(value: Any) -> Value:
    """A cell or column value as JSON can hold it, the same way on every run (so re-runs change nothing)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 1e15 else value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _table(rows: list[list[Any]]) -> Table:
    if not rows:
        return Table(columns=[])
    header = [str(v).strip() if v is not None else "" for v in rows[0]]
    while header and not header[-1]:
        header.pop()
    if "" in header:
        raise SourceError(f"Header column {header.index('') + 1} has no name; every column needs one.")
    seen: set[str] = set()
    for name in header:
        if name.lower() in seen:
            raise SourceError(f"The column '{name}' appears twice in the header.")
        seen.add(name.lower())
    width = len(header)
    body = [[plain_value(v) for v in (list(r) + [None] * width)[:width]] for r in rows[1:]]
    return Table(columns=header, rows=body)
