"""Faults against a real multi-worker gunicorn on loopback, serving the test database (MariaDB only).

A worker killed with SIGKILL while it serves a push, a lost push response, a replay racing its first
attempt, every database connection dropped mid-drain (what a database restart does to the workers),
an unreachable database, and chunked and oversized bodies. In every case each answered push is applied
exactly once, nothing acknowledged is served again, and nothing is lost.

A push is held at a known point without timing: the test locks a record the push must update, from its
own connection, and waits until InnoDB reports the push's lock wait.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.db import connection, connections

from apps.queue.models import PushedSyncId
from apps.records.models import Record
from apps.records.transfers import counterpart_id
from tests.support import basic_auth, make_site, primary_upsert, record, statements_running, wait_until

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.skipif(connection.vendor != "mysql", reason="needs MySQL/MariaDB and gunicorn"),
    pytest.mark.django_db(transaction=True),
]

BODY_LIMIT = 1 << 20
# The statements a push waits in: reading its existing records FOR UPDATE, and claiming its SyncIDs.
LOCK_EXISTING = "SELECT id, record_id, store_id, ref_id, transfer_name_id"
CLAIM = "INSERT INTO queue_pushedsyncid"
SERVER_ENV = {
    "SYNC_AUTH_SITE_CACHE_SECONDS": "0",
    "SYNC_MAX_BODY_BYTES": str(BODY_LIMIT),
    "DATABASE_CONN_MAX_AGE": "600",
}


def database_url(name: str | None = None, port: int | None = None) -> str:
    db = connection.settings_dict
    host = db["HOST"] or "127.0.0.1"
    return f"mysql://{db['USER']}:{db['PASSWORD']}@{host}:{port or db['PORT']}/{name or db['NAME']}"


@contextmanager
def gunicorn(url: str, tmp_path: Path, workers: int = 2) -> Iterator[Any]:
    from bench.server import Gunicorn  # needs mysqlclient: imported only where MariaDB runs

    saved = {k: os.environ.get(k) for k in SERVER_ENV}
    os.environ.update(SERVER_ENV)
    try:
        server = Gunicorn(url, tmp_path / "gunicorn.log", workers=workers)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Any]:
    with gunicorn(database_url(), tmp_path) as running:
        yield running


class Site:
    """A satellite talking to the gunicorn server over real HTTP."""

    def __init__(self, server: Any, site_id: int) -> None:
        self.server, self.site_id = server, site_id
        self.headers = {
            "Authorization": basic_auth(f"site{site_id}", "pass"),
            "msupply-site-uuid": f"device-{site_id}",
            "Content-Type": "application/json",
        }

    def path(self, call: str, **query: Any) -> str:
        params = {"from_site": self.site_id, "to_site": 1, **query}
        return f"/sync/v3/{call}?" + "&".join(f"{k}={v}" for k, v in params.items())

    def request(self, method: str, call: str, body: Any = None, **query: Any) -> tuple[int, Any, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=120)
        try:
            data = None if body is None else body if isinstance(body, bytes) else orjson.dumps(body)
            conn.request(method, self.path(call, **query), body=data, headers=self.headers)
            response = conn.getresponse()
            return response.status, response.getheaders(), orjson.loads(response.read() or b"null")
        finally:
            conn.close()

    def push(self, records: list[dict]) -> dict:
        status, _, body = self.request("POST", "queued_records", records)
        assert status == 200, body
        return body

    def drain(self, batch: int = 7, on_each: Callable[[int], None] | None = None) -> list[dict]:
        received: list[dict] = []
        while True:
            status, _, records = self.request("GET", "queued_records", limit=batch)
            assert status == 200, records
            if not records:
                return received
            received.extend(records)
            status, _, body = self.request(
                "POST", "acknowledged_records", {"SyncRecordIDs": [r["SyncID"] for r in records]}
            )
            assert (status, body) == (200, {"error": ""})
            if on_each:
                on_each(len(received))


def invoices(count: int, *, prefix: str = "T") -> list[dict]:
    """Finalised customer invoices from store 2 to store 3's name: each must reach site 3 exactly once,
    as a supplier invoice of store 3 (docs/protocol.md, "Transfers")."""
    return [
        record(
            "transact",
            f"{prefix}{n}",
            {
                "ID": f"{prefix}{n}",
                "store_ID": "STORE2",
                "name_ID": "NAME_STORE3",
                "type": "ci",
                "status": "fn",
            },
            sync_id=f"{prefix}-sync-{n}",
        )
        for n in range(count)
    ]


def received_ids(batch: list[dict]) -> list[str]:
    """What site 3 receives for the invoices: the supplier invoice made for each."""
    return sorted(counterpart_id("si", r["RecordID"], "STORE3") for r in batch)


@contextmanager
def record_locked(record_id: str) -> Iterator[None]:
    """Hold a row lock on a stored record from a connection of our own, until the block ends."""
    from bench.server import DbParams

    params = DbParams.from_url(database_url())
    holder = params.connect()
    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM records_record WHERE record_id = %s FOR UPDATE", [record_id])
        yield
    finally:
        holder.rollback()
        holder.close()


def processes() -> str:
    """What the database's connections are doing, for a failure message."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, command, state, LEFT(info, 80) FROM information_schema.processlist")
        listed = "; ".join(map(repr, cursor.fetchall()))
        cursor.execute(
            "SELECT trx_mysql_thread_id, trx_state, trx_isolation_level FROM information_schema.innodb_trx"
        )
        return listed + " | trx: " + "; ".join(map(repr, cursor.fetchall()))


def in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def body() -> None:
        try:
            outcome["value"] = target()
        except BaseException as exc:  # the test asserts on it
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=body)
    thread.start()
    return thread, outcome


def wait_for_workers(server: Any) -> None:
    def answering() -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            conn.request("GET", "/health")
            ok = conn.getresponse().status == 200
            conn.close()
            return ok and len(server.worker_pids()) >= server.workers
        except OSError:
            return False

    wait_until(answering, what="gunicorn to answer again")


@pytest.fixture
def sites(server: Any) -> tuple[Site, Site]:
    make_site(2)
    make_site(3)
    # T0 exists already, so a push that updates it can be held on its row lock.
    primary_upsert(
        "transact", "T0", {"ID": "T0", "store_ID": "STORE2", "name_ID": "NAME_STORE3", "comment": "before"}
    )
    site2, site3 = Site(server, 2), Site(server, 3)
    site3.drain()
    return site2, site3


def assert_each_invoice_once(site3: Site, batch: list[dict]) -> None:
    received = site3.drain()
    ids = [r["RecordID"] for r in received]
    assert sorted(ids) == received_ids(batch), ids
    assert site3.drain() == []  # nothing served again after acknowledgement
    sent = Record.objects.filter(record_type_id="transact", created_by_site_id__gt=1)
    stored = sent.exclude(record_id="T0").count()
    assert stored == len([r for r in batch if r["RecordID"] != "T0"])


def test_a_worker_killed_while_serving_a_push_loses_nothing_and_applies_once(server, sites):
    site2, site3 = sites
    batch = invoices(6)
    with record_locked("T0"):
        thread, outcome = in_thread(lambda: site2.push(batch))
        wait_until(
            lambda: statements_running(LOCK_EXISTING) > 0 or outcome,
            what="the push to wait on T0",
            explain=processes,
        )
        assert not outcome, f"the push did not wait on T0: {outcome}"
        for pid in server.worker_pids():  # the one serving the push is among them
            os.kill(pid, signal.SIGKILL)
        thread.join(120)
    assert "error" in outcome, "the killed worker answered"
    wait_for_workers(server)
    wait_until(lambda: statements_running(LOCK_EXISTING) == 0, what="the killed push's statement to end")
    assert not PushedSyncId.objects.exists()  # it rolled back whole

    again = site2.push(batch)
    replay = site2.push(batch)

    assert (again["applied"], again["duplicates"]) == (len(batch), 0)
    assert (replay["applied"], replay["duplicates"]) == (0, len(batch))
    assert_each_invoice_once(site3, batch)


def test_a_lost_push_response_is_answered_as_duplicates_when_sent_again(server, sites):
    site2, site3 = sites
    batch = invoices(8)
    body = orjson.dumps(batch)
    with socket.create_connection(("127.0.0.1", server.port)) as raw:
        head = [f"POST {site2.path('queued_records')} HTTP/1.1", "Host: 127.0.0.1"]
        head += [f"{k}: {v}" for k, v in site2.headers.items()] + [f"Content-Length: {len(body)}"]
        raw.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        # Closed without reading: the response is lost on the way.

    again = site2.push(batch)
    third = site2.push(batch)

    # Whichever attempt claimed the SyncIDs first applied the batch; the other counted duplicates.
    assert (again["applied"], again["duplicates"]) in [(0, len(batch)), (len(batch), 0)], again
    assert (third["applied"], third["duplicates"]) == (0, len(batch)), third
    assert_each_invoice_once(site3, batch)


def test_a_replay_racing_its_first_attempt_waits_and_is_answered_as_duplicates(server, sites):
    site2, site3 = sites
    batch = invoices(5)  # T0 is among them: the first attempt waits on its lock
    with record_locked("T0"):
        first, first_outcome = in_thread(lambda: site2.push(batch))
        wait_until(
            lambda: statements_running(LOCK_EXISTING) >= 1,
            what="the first attempt to wait on T0",
            explain=processes,
        )
        replay, replay_outcome = in_thread(lambda: site2.push(batch))
        wait_until(
            lambda: statements_running(CLAIM) >= 1,
            what="the replay to wait on the claimed SyncIDs",
            explain=processes,
        )
    first.join(120)
    replay.join(120)

    answers = sorted(
        (o["value"]["applied"], o["value"]["duplicates"]) for o in (first_outcome, replay_outcome)
    )
    assert answers == [(0, len(batch)), (len(batch), 0)], (first_outcome, replay_outcome)
    assert_each_invoice_once(site3, batch)


def test_dropped_database_connections_mid_drain_cost_no_failed_request(server, sites):
    site2, site3 = sites
    batch = invoices(30, prefix="D")
    site2.push(batch[:15])
    site2.push(batch[15:])

    killed: list[int] = []

    def drop_the_workers_connections(received: int) -> None:
        if received < 14 or received >= 21:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()",
                [connection.settings_dict["NAME"]],
            )
            for (thread_id,) in cursor.fetchall():
                cursor.execute(f"KILL CONNECTION {int(thread_id)}")
                killed.append(thread_id)

    received = site3.drain(batch=7, on_each=drop_the_workers_connections)

    assert killed, "no worker held a connection to drop"
    assert sorted(r["RecordID"] for r in received) == received_ids(batch)
    assert site3.drain() == []


def test_an_unreachable_database_is_503_with_retry_after(tmp_path):
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with gunicorn(database_url(port=closed_port), tmp_path, workers=1) as down:
        status, headers, body = Site(down, 2).request("GET", "queued_records/count")

    assert status == 503, body
    assert "database is unreachable" in body["error"]
    assert int(dict(headers)["Retry-After"]) > 0


def test_chunked_push_and_acknowledgement_are_read_whole(server, sites):
    site2, site3 = sites
    batch = invoices(4, prefix="C")

    def chunked(method: str, site: Site, call: str, document: Any) -> tuple[int, Any]:
        data = orjson.dumps(document)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        conn.request(
            method,
            site.path(call),
            body=iter([data[:10], data[10:]]),
            headers={**site.headers, "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        response = conn.getresponse()
        result = response.status, orjson.loads(response.read())
        conn.close()
        return result

    status, pushed = chunked("POST", site2, "queued_records", batch)
    assert (status, pushed["applied"]) == (200, len(batch)), pushed

    _, _, pulled = site3.request("GET", "queued_records", limit=100)
    assert len(pulled) == len(batch)
    status, acked = chunked("POST", site3, "acknowledged_records", [r["SyncID"] for r in pulled])
    assert (status, acked) == (200, {"error": ""})
    _, _, count = site3.request("GET", "queued_records/count")
    assert count == {"NumRecords": 0}


def test_a_body_over_the_limit_is_answered_413_not_a_broken_pipe(server, sites):
    site2, _ = sites
    big = [record("Location", "L1", {"ID": "L1", "code": "x" * (3 * BODY_LIMIT)}, sync_id="big")]

    status, _, body = site2.request("POST", "queued_records", big)

    assert status == 413
    assert f"the limit is {BODY_LIMIT}" in body["error"]
    assert not Record.objects.filter(record_id="L1").exists()
