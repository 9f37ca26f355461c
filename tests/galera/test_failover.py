"""Failover on a 3-node MariaDB Galera cluster, through real gunicorn workers.

One gunicorn (2 workers) per node, each with DATABASE_URL pointing at its own node. Twelve satellites
(threads) push their own records and transfers to each other, pull and acknowledge, each request going
to the next gunicorn in turn, while the primary edits central records on node 3. Once a third of the
pushes have been answered, node 2 is killed with SIGKILL; it is restarted after more pushes and
rejoins. A client treats a 503 (with Retry-After) and a connection error as "try again, elsewhere";
anything else unexpected (a 500 above all) fails the test.

Afterwards: the cluster is back to 3 synced nodes; every node holds the same rows, and exactly the
latest state of every record anyone wrote; every SyncID pushed is remembered once; every site's
replica, built only from its own pushes and what it pulled, equals what is routed to it; no
acknowledged entry was delivered again and no record was sent back to the site that wrote it.

Runs only with GALERA_URLS (the nodes' DATABASE_URLs, comma-separated; `scripts/galera.sh urls`) and
DATABASE_URL pointing at node 1; the cluster is driven with scripts/galera.sh.
"""

from __future__ import annotations

import http.client
import os
import random
import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import environ
import orjson
import pytest
from django.db import connection, connections

from apps.queue.models import PushedSyncId, QuarantinedRecord, QueueEntry
from apps.queue.services import primary_changes_apply
from apps.records.canonical import wire_record
from apps.records.changes import Change
from apps.records.models import Record
from tests.support import GALERA_URLS, basic_auth, make_site, record, use_galera_node

pytestmark = [
    pytest.mark.galera,
    pytest.mark.skipif(len(GALERA_URLS) != 3, reason="needs a 3-node Galera cluster in GALERA_URLS"),
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
GALERA_SCRIPT = ROOT / "scripts" / "galera.sh"
SITES = tuple(range(2, 14))
ROUNDS = 8
PULL_LIMIT = 15
KILLED_NODE = 2  # neither the test's own connection (node 1) nor the primary's editor (node 3)
PRIMARY_NODE = 3
KILL_AFTER_PUSHES = len(SITES) * ROUNDS // 3
RESTART_AFTER_PUSHES = len(SITES) * ROUNDS * 2 // 3
REQUEST_DEADLINE_SECONDS = 180  # one call may be retried until then (the cluster stalls a few seconds
# after a node dies, and a rejoining node refuses work until it is synced)
CLIENT_TIMEOUT_SECONDS = 60

Key = tuple[str, str]
# The field of each record type that holds the round it was written in (transfer headers have none).
VERSION_FIELD = {"Location": "Volume", "trans_line": "quantity", "item": "default_pack_size"}


class UnexpectedResponse(Exception):
    pass


@dataclass
class Traffic:
    """What the clients saw, shared by all of them."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: dict[int, int] = field(default_factory=dict)
    connection_errors: int = 0
    answered_pushes: int = 0
    pushes_reached: dict[int, threading.Event] = field(default_factory=dict)

    def count(self, status: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def push_answered(self) -> None:
        with self.lock:
            self.answered_pushes += 1
            for threshold, event in self.pushes_reached.items():
                if self.answered_pushes >= threshold:
                    event.set()


@dataclass
class Gunicorns:
    ports: list[int]
    processes: list[subprocess.Popen]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def node_url(url: str, database: str) -> str:
    """The node's URL with the test database in place of the configured one."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def start_gunicorns(database: str) -> Gunicorns:
    ports, processes = [], []
    for url in GALERA_URLS:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": node_url(url, database),
            # The test's sites were created with the fast hasher of tests/conftest.py.
            "PASSWORD_HASHERS": "django.contrib.auth.hashers.MD5PasswordHasher",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DEBUG": "false",
        }
        command = [sys.executable, "-m", "gunicorn", "syncserver.wsgi", "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", "2", "--timeout", "120", "--graceful-timeout", "5", "--log-level", "warning"]
        processes.append(subprocess.Popen(command, cwd=ROOT, env=env))
        ports.append(port)
    gunicorns = Gunicorns(ports, processes)
    deadline = time.monotonic() + 60
    for port in ports:
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                gunicorns.stop()
                raise AssertionError(f"gunicorn on port {port} did not answer within 60 s")
            time.sleep(0.2)
    return gunicorns


class Satellite:
    """One site speaking v3 over HTTP to the gunicorns in turn, retrying what may be retried."""

    def __init__(self, site: int, ports: list[int], traffic: Traffic) -> None:
        self.site = site
        self.ports = ports
        self.traffic = traffic
        self.turn = site
        self.auth = basic_auth(f"site{site}", "pass")

    def call(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        query = {"from_site": self.site, "to_site": 1, **query}
        url = f"/sync/v3/{path}?" + "&".join(f"{k}={v}" for k, v in query.items())
        payload = None if body is None else orjson.dumps(body)
        headers = {"Authorization": self.auth, "msupply-site-uuid": f"device-{self.site}"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        deadline = time.monotonic() + REQUEST_DEADLINE_SECONDS
        while True:
            self.turn += 1
            port = self.ports[self.turn % len(self.ports)]
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT_SECONDS)
                conn.request(method, url, body=payload, headers=headers)
                response = conn.getresponse()
                status, content = response.status, response.read()
                retry_after = response.getheader("Retry-After")
                conn.close()
            except (OSError, http.client.HTTPException):
                with self.traffic.lock:
                    self.traffic.connection_errors += 1
                status, content, retry_after = 0, b"", None
            if status:
                self.traffic.count(status)
            if status == 200:
                return orjson.loads(content)
            if status == 503:
                if not (retry_after or "").isdigit():
                    raise UnexpectedResponse(f"503 without Retry-After on {method} {path}: {content!r}")
            elif status != 0:
                raise UnexpectedResponse(f"{status} on {method} {path} via port {port}: {content[:500]!r}")
            if time.monotonic() > deadline:
                raise UnexpectedResponse(f"{method} {path} was not answered in {REQUEST_DEADLINE_SECONDS} s")
            # The next gunicorn is tried at once; a short pause keeps a client from spinning while the
            # cluster evicts the dead node (this is back-off, not a timing assertion).
            time.sleep(0.1)


@dataclass
class Outcome:
    written: dict[Key, dict[str, Any]] = field(default_factory=dict)
    partner_of: dict[str, int] = field(default_factory=dict)
    sync_ids: set[str] = field(default_factory=set)
    replica: dict[Key, dict[str, str]] = field(default_factory=dict)
    # Every delivery: (key, SyncID, the record's round), in the order received.
    delivered: list[tuple[Key, str, int]] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    redelivered_after_ack: list[tuple[Key, str]] = field(default_factory=list)


def receive(outcome: Outcome, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        key = (row["RecordType"], row["RecordID"])
        if row["SyncID"] in outcome.acknowledged:
            outcome.redelivered_after_ack.append((key, row["SyncID"]))
        version = row["data"].get(VERSION_FIELD.get(key[0], ""), "-1")
        outcome.delivered.append((key, row["SyncID"], int(version)))
        outcome.replica[key] = row["data"]


def pull_and_acknowledge(client: Satellite, outcome: Outcome) -> int:
    rows = client.call("GET", "queued_records", limit=PULL_LIMIT)
    receive(outcome, rows)
    sync_ids = [row["SyncID"] for row in rows]
    if sync_ids:
        assert client.call("POST", "acknowledged_records", {"SyncRecordIDs": sync_ids}) == {"error": ""}
        outcome.acknowledged.update(sync_ids)
    return len(rows)


@dataclass
class Push:
    """One batch of a satellite: its envelopes, and the changes they make."""

    site: int
    serial: int
    outcome: Outcome
    envelopes: list[dict[str, Any]] = field(default_factory=list)
    changes: list[tuple[Key, dict[str, Any]]] = field(default_factory=list)

    def add(self, key: Key, data: dict[str, Any], sync_type: str = "U") -> None:
        self.serial += 1
        sync_id = f"{self.site}-{self.serial}"
        store = f"STORE{self.site}"
        self.envelopes.append(record(*key, data, sync_id=sync_id, store_id=store, sync_type=sync_type))
        self.changes.append((key, data))
        self.outcome.sync_ids.add(sync_id)


def satellite(client: Satellite, outcome: Outcome) -> None:
    site = client.site
    rng = random.Random(site)
    store = f"STORE{site}"
    serial = 0
    for round_ in range(ROUNDS):
        push = Push(site, serial, outcome)
        for index in rng.sample(range(6), 3):
            key = ("Location", f"Location-{site}-{index}")
            push.add(key, {"ID": key[1], "store_ID": store, "code": f"r{round_}", "Volume": round_})
        partner = rng.choice([s for s in SITES if s != site])
        transact_id = f"T-{site}-{round_}"
        outcome.partner_of[transact_id] = partner
        header = {"ID": transact_id, "store_ID": store, "name_ID": f"NAME_STORE{partner}", "hold": False}
        push.add(("transact", transact_id), header, "I")
        for line in range(2):
            line_id = f"{transact_id}-L{line}"
            push.add(
                ("trans_line", line_id), {"ID": line_id, "transaction_ID": transact_id, "quantity": round_}
            )
        serial = push.serial
        body = client.call("POST", "queued_records", push.envelopes)
        n = len(push.envelopes)
        # A push whose response was lost is sent again: then some or all of it are duplicates.
        assert body["received"] == n and body["applied"] + body["duplicates"] == n, body
        assert body["quarantined"] == 0, body
        client.traffic.push_answered()
        for key, data in push.changes:
            outcome.written[key] = data
            outcome.replica[key] = wire_record(key[0], data)
        for _ in range(2):
            pull_and_acknowledge(client, outcome)


def primary_editor(outcome: Outcome, stop: threading.Event) -> None:
    """Central items edited on the primary (node 3): each edit fans out to all twelve sites."""
    use_galera_node(PRIMARY_NODE - 1)
    rng = random.Random("primary")
    for round_ in range(ROUNDS):
        changes = []
        for index in sorted(rng.sample(range(10), 4)):
            record_id = f"item-{index}"
            data = {"ID": record_id, "item_name": f"r{round_}", "default_pack_size": round_}
            changes.append(Change(record_type="item", record_id=record_id, action="upsert", data=data))
            outcome.written[("item", record_id)] = data
        assert primary_changes_apply(changes=changes).refused == []
        if stop.wait(0.5):  # spread the edits over the run
            return


def galera(*args: str) -> str:
    result = subprocess.run(
        [str(GALERA_SCRIPT), *args], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"galera.sh {' '.join(args)}: {result.stdout}\n{result.stderr}"
    return result.stdout


def node_connection(index: int, database: str):
    import MySQLdb

    config = environ.Env.db_url_config(GALERA_URLS[index])
    conn = MySQLdb.connect(
        host=config["HOST"],
        port=int(config["PORT"]),
        user=config["USER"],
        password=config["PASSWORD"],
        database=database,
        charset="utf8mb4",
    )
    conn.autocommit(True)
    return conn


def wait_for_synced_cluster(database: str) -> None:
    deadline = time.monotonic() + 180
    while True:
        states = []
        for index in range(3):
            try:
                conn = node_connection(index, database)
                cursor = conn.cursor()
                cursor.execute(
                    "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_size', "
                    "'wsrep_local_state_comment')"
                )
                states.append(dict(cursor.fetchall()))
                conn.close()
            except Exception as exc:  # a node still starting
                states.append({"error": str(exc)})
        if all(
            s.get("wsrep_cluster_size") == "3" and s.get("wsrep_local_state_comment") == "Synced"
            for s in states
        ):
            return
        assert time.monotonic() < deadline, f"the cluster did not converge: {states}"
        time.sleep(1)


def node_contents(index: int, database: str) -> dict[str, Any]:
    conn = node_connection(index, database)
    cursor = conn.cursor()
    contents: dict[str, Any] = {}
    cursor.execute(
        f"SELECT record_type, record_id, data, is_deleted FROM {Record._meta.db_table} "
        "ORDER BY record_type, record_id"
    )
    contents["records"] = cursor.fetchall()
    cursor.execute(f"SELECT site_id, sync_id FROM {PushedSyncId._meta.db_table} ORDER BY site_id, sync_id")
    contents["pushed"] = cursor.fetchall()
    for model in (QueueEntry, QuarantinedRecord):
        cursor.execute(f"SELECT COUNT(*) FROM {model._meta.db_table}")
        contents[model.__name__] = cursor.fetchone()[0]
    tables = ", ".join(m._meta.db_table for m in (Record, PushedSyncId, QueueEntry))
    cursor.execute(f"CHECKSUM TABLE {tables}")
    contents["checksums"] = cursor.fetchall()
    conn.close()
    return contents


def routed_sites(key: Key, partner_of: dict[str, int], writer: int | None) -> set[int]:
    if key[0] == "item":
        return set(SITES)
    # Invoices not finalised and their lines stay with their store (transfers: docs/protocol.md).
    return {writer}


def test_killing_a_node_mid_sync_loses_nothing_duplicates_nothing_and_the_cluster_converges():
    database = connection.settings_dict["NAME"]
    for site in SITES:
        make_site(site)
    traffic = Traffic()
    kill_at, restart_at = threading.Event(), threading.Event()
    traffic.pushes_reached = {KILL_AFTER_PUSHES: kill_at, RESTART_AFTER_PUSHES: restart_at}
    outcomes = {site: Outcome() for site in SITES}
    central = Outcome()
    errors: list[str] = []
    clients_done = threading.Event()
    stop_editor = threading.Event()
    gunicorns = start_gunicorns(database)
    try:

        def run(name: str, target: Any, *args: Any) -> threading.Thread:
            def body() -> None:
                try:
                    target(*args)
                except BaseException:
                    errors.append(f"{name}:\n{traceback.format_exc()}")
                finally:
                    connections.close_all()

            return threading.Thread(target=body, name=name)

        clients = {site: Satellite(site, gunicorns.ports, traffic) for site in SITES}
        threads = [run(f"site{s}", satellite, clients[s], outcomes[s]) for s in SITES]
        editor = run("primary", primary_editor, central, stop_editor)
        for thread in [*threads, editor]:
            thread.start()

        def watch() -> None:
            for thread in threads:
                thread.join()
            clients_done.set()
            kill_at.set()
            restart_at.set()

        watcher = threading.Thread(target=watch)
        watcher.start()
        # The failure, mid-sync: the clients are still running when the node dies.
        assert kill_at.wait(REQUEST_DEADLINE_SECONDS)
        assert not clients_done.is_set(), "the clients stopped early:\n" + "\n".join(errors)
        galera("kill", str(KILLED_NODE))
        killed_at = time.monotonic()
        restart_at.wait(REQUEST_DEADLINE_SECONDS * 2)
        galera("restart", str(KILLED_NODE))
        down_seconds = time.monotonic() - killed_at
        watcher.join()
        stop_editor.set()
        editor.join()
        assert errors == [], "\n".join(errors)
        wait_for_synced_cluster(database)

        # Every site drains what is left, through every gunicorn (node 2's included, now rejoined).
        for site in SITES:
            while pull_and_acknowledge(clients[site], outcomes[site]):
                pass
    finally:
        stop_editor.set()
        gunicorns.stop()
        if "down" in galera("status"):
            galera("restart", str(KILLED_NODE))

    # What the clients saw, for the CI log (docs/scaling.md quotes a run).
    print(
        f"\nfailover: node {KILLED_NODE} down for {down_seconds:.0f} s until synced again; "
        f"answered pushes {traffic.answered_pushes}; statuses {traffic.statuses}; "
        f"connection errors {traffic.connection_errors}"
    )
    # The clients saw the outage only as retryable answers.
    assert set(traffic.statuses) <= {200, 503}, traffic.statuses
    assert traffic.statuses.get(503, 0) + traffic.connection_errors > 0, "the outage was never noticed"

    # Every node holds the same rows.
    wait_for_synced_cluster(database)
    contents = [node_contents(index, database) for index in range(3)]
    assert contents[1] == contents[0] and contents[2] == contents[0]
    # (The central records of the sites' stores, written when the stores were made, are not traffic.)
    stored = {(t, i): (data, deleted) for t, i, data, deleted in contents[0]["records"] if t != "store"}

    # Exactly the latest state of every record written, each once; every pushed SyncID remembered once.
    writer_of: dict[Key, int | None] = {key: None for key in central.written}
    latest: dict[Key, dict[str, Any]] = dict(central.written)
    partner_of: dict[str, int] = {}
    for site, outcome in outcomes.items():
        assert not set(latest) & set(outcome.written)
        latest.update(outcome.written)
        writer_of.update(dict.fromkeys(outcome.written, site))
        partner_of.update(outcome.partner_of)
    assert {key: (orjson.loads(data), bool(deleted)) for key, (data, deleted) in stored.items()} == {
        key: (data, False) for key, data in latest.items()
    }
    pushed = [(site, sync_id) for site, outcome in outcomes.items() for sync_id in outcome.sync_ids]
    assert sorted(contents[0]["pushed"]) == sorted(pushed)
    assert contents[0]["QuarantinedRecord"] == 0
    assert contents[0]["QueueEntry"] == 0

    # Every routed change reached its site, nothing came back to its writer, nothing acknowledged came
    # again, and each record's versions arrived in order.
    for site, outcome in outcomes.items():
        expected = {
            key: wire_record(key[0], data)
            for key, data in latest.items()
            if site in routed_sites(key, partner_of, writer_of[key])
        }
        assert outcome.replica == expected, f"site {site}"
        echoed = [key for key, _, _ in outcome.delivered if writer_of.get(key) == site]
        assert echoed == [], f"site {site} was sent back its own changes"
        assert outcome.redelivered_after_ack == [], f"site {site}"
        rounds: dict[Key, int] = {}
        for key, _, round_ in outcome.delivered:
            assert round_ >= rounds.get(key, -1), f"site {site} received an older {key} after a newer one"
            rounds[key] = round_
