"""The database server restarted under a running multi-worker gunicorn (MariaDB only).

The test starts a MariaDB of its own (scripts/mariadb.sh with a throwaway data folder and port), so it
can stop and start the server process without disturbing the suite's database. While the server is
down every call is answered 503 with Retry-After and changes nothing; once it is back, the workers
reconnect by themselves: nothing answered before the restart is lost, and sync carries on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.support import record

from .test_gunicorn_faults import Site

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.skipif(connection.vendor != "mysql", reason="needs MySQL/MariaDB and gunicorn"),
    pytest.mark.skipif(
        not (shutil.which("mariadbd") or shutil.which("mysqld")), reason="needs the MariaDB server binaries"
    ),
]

ROOT = Path(__file__).resolve().parents[2]
SITE_ID = 2
PASSWORD = "pass"  # the password the faults tests' Site logs in with
STORE_ID = "STORE_CLINIC"


class OwnMariaDB:
    """A MariaDB server only this test uses, started and stopped with the project's script."""

    def __init__(self, folder: Path, port: int) -> None:
        self.env = {
            **os.environ,
            "MARIADB_DIR": str(folder),
            "MARIADB_PORT": str(port),
            "MARIADB_BUFFER_POOL_SIZE": "64M",
        }

    def script(self, action: str) -> str:
        done = subprocess.run(
            [str(ROOT / "scripts" / "mariadb.sh"), action],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    @property
    def url(self) -> str:
        return self.script("url")


@pytest.fixture
def mariadb(tmp_path: Path) -> Iterator[OwnMariaDB]:
    from bench.server import free_port

    # A short folder name: the server's socket path must stay under the system's limit.
    server = OwnMariaDB(tmp_path / "db", free_port())
    server.script("start")
    try:
        yield server
    finally:
        server.script("clean")


def manage(url: str, *args: str) -> None:
    from bench.server import PYTHON, server_env

    subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=server_env(url), check=True, capture_output=True
    )


def lines(prefix: str, count: int) -> list[dict[str, Any]]:
    """Stock lines of the site's own store: records a satellite may create."""
    return [
        record(
            "item_line",
            f"{prefix}{n}",
            {"ID": f"{prefix}{n}", "store_ID": STORE_ID, "item_ID": "ITEM1", "batch": f"B{n}"},
            sync_id=f"{prefix}-sync-{n}",
            store_id=STORE_ID,
        )
        for n in range(count)
    ]


def stored_ids(url: str) -> set[str]:
    from bench.server import DbParams

    db = DbParams.from_url(url).connect()
    try:
        with db.cursor() as cursor:
            cursor.execute("SELECT record_id FROM records_record WHERE record_type = 'item_line'")
            return {row[0] for row in cursor.fetchall()}
    finally:
        db.close()


def test_a_database_restart_costs_a_503_while_down_and_nothing_after(mariadb: OwnMariaDB, tmp_path: Path):
    from bench.server import Gunicorn

    url = mariadb.url
    manage(url, "migrate", "--no-input", "-v", "0")
    manage(url, "createsite", str(SITE_ID), f"site{SITE_ID}", "--password", PASSWORD)
    manage(url, "createstore", STORE_ID, "Clinic", "--site", str(SITE_ID), "--name-id", "NAME_CLINIC")
    server = Gunicorn(url, tmp_path / "gunicorn.log", workers=2)
    site = Site(server, SITE_ID)
    try:
        before = lines("BEFORE", 20)
        status, _, answer = site.request("POST", "queued_records", before)
        assert (status, answer["applied"]) == (200, 20), answer

        mariadb.script("stop")
        # Enough calls to reach every worker: each has lost its connection.
        for _ in range(server.workers * 2):
            status, headers, answer = site.request("POST", "queued_records", lines("DOWN", 3))
            assert status == 503, answer
            assert "Retry-After" in dict(headers)
            assert "database" in answer["error"]

        mariadb.script("start")
        for _ in range(server.workers * 2):  # every worker reconnects on its next request
            status, _, count = site.request("GET", "queued_records/count")
            assert status == 200, count

        after = lines("AFTER", 20)
        status, _, answer = site.request("POST", "queued_records", after)
        assert (status, answer["applied"]) == (200, 20), answer
        # The push refused while the database was down changed nothing: sent again, it is applied.
        status, _, answer = site.request("POST", "queued_records", lines("DOWN", 3))
        assert (status, answer["applied"], answer["duplicates"]) == (200, 3, 0), answer
        # Sending the first batch again is answered as duplicates: the restart lost no pushed SyncID.
        status, _, answer = site.request("POST", "queued_records", before)
        assert (status, answer["applied"], answer["duplicates"]) == (200, 0, 20), answer
    finally:
        server.stop()

    expected = {r["RecordID"] for r in before + after + lines("DOWN", 3)}
    assert stored_ids(url) == expected
