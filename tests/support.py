"""Helpers for tests: sites with stores, and a client that speaks the sync protocol over HTTP."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.db import connection
from django.test import Client

from apps.queue.models import QueueEntry
from apps.sites.models import Site
from apps.sites.services import site_create, store_create, sync_user_create

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "msupply-samples"
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason="the mSupply samples (../shared/msupply-samples) are not beside this clone"
)


def mariadb_in_parallel(
    why: str = "SQLite serialises writers, so there is no parallelism to test",
) -> list[Any]:
    """The marks of a module whose tests open real parallel connections: MySQL/MariaDB only, each test
    in real transactions (`pytestmark = mariadb_in_parallel()`)."""
    return [
        pytest.mark.mariadb,
        pytest.mark.skipif(connection.vendor != "mysql", reason=f"needs MySQL/MariaDB: {why}"),
        pytest.mark.django_db(transaction=True),
    ]


# The DATABASE_URLs of a Galera cluster's nodes (comma-separated; `scripts/galera.sh urls`), when the
# suite runs on one: DATABASE_URL is then node 1, and threads of concurrency tests spread over all.
GALERA_URLS = [url for url in os.environ.get("GALERA_URLS", "").split(",") if url]


def use_galera_node(index: int) -> None:
    """Point this thread's database connection at node `index` (modulo their number) of the cluster in
    GALERA_URLS, keeping the test database; without a cluster, change nothing."""
    from django.db import connections

    if not GALERA_URLS:
        return
    import environ

    node = environ.Env.db_url_config(GALERA_URLS[index % len(GALERA_URLS)])
    current = connections["default"]
    settings_dict = {**current.settings_dict, "HOST": node["HOST"], "PORT": node["PORT"]}
    current.close()
    connections["default"] = type(current)(settings_dict, "default")


def sha256_hex(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def basic_auth(name: str, password: str) -> str:
    token = base64.b64encode(f"{name}:{sha256_hex(password)}".encode()).decode()
    return f"Basic {token}"


@dataclass
class SyncClient:
    """A satellite talking to the primary over HTTP, the way real clients do."""

    site_id: int
    name: str
    password: str
    version: str = "v3"
    hardware_id: str | None = "device-1"
    client: Client | None = None

    def __post_init__(self) -> None:
        self.client = self.client or Client()

    def headers(self) -> dict[str, str]:
        headers = {"HTTP_AUTHORIZATION": basic_auth(self.name, self.password)}
        if self.hardware_id is not None:
            headers["HTTP_MSUPPLY_SITE_UUID"] = self.hardware_id
        return headers

    def url(self, path: str, **query: Any) -> str:
        params = {"from_site": self.site_id, "to_site": 1, **query}
        text = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
        return f"/sync/{self.version}/{path}?{text}"

    def get(self, path: str, **query: Any):
        return self.client.get(self.url(path, **query), **self.headers())

    def post(self, path: str, body: Any, **query: Any):
        payload = body if isinstance(body, bytes) else orjson.dumps(body)
        return self.client.post(
            self.url(path, **query), payload, content_type="application/json", **self.headers()
        )

    # The protocol's calls -----------------------------------------------------------------------
    def count(self) -> int:
        response = self.get("queued_records/count")
        assert response.status_code == 200, response.content
        return response.json()["NumRecords"]

    def pull(self, limit: int = 500) -> list[dict[str, Any]]:
        response = self.get("queued_records", limit=limit)
        assert response.status_code == 200, response.content
        return response.json()

    def ack(self, sync_ids: list[str]) -> None:
        response = self.post("acknowledged_records", {"SyncRecordIDs": sync_ids})
        assert response.status_code == 200, response.content
        assert response.json() == {"error": ""}

    def push(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        response = self.post("queued_records", records)
        assert response.status_code == 200, response.content
        return response.json()

    def initial_dump(self, full: bool = False) -> dict[str, Any]:
        response = self.get("initial_dump", type="full" if full else None)
        assert response.status_code == 200, response.content
        return response.json()

    def drain(self, batch: int = 500) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        while True:
            records = self.pull(batch)
            if not records:
                return received
            received.extend(records)
            self.ack([r["SyncID"] for r in records])


def make_site(
    site_id: int, *, password: str = "pass", stores: list[str] | None = None, name: str | None = None
) -> Site:
    """A site with its stores, and every queue empty: creating a store writes its central `store`
    record, which is queued to every site; a test starts as after those were drained."""
    site = site_create(site_id=site_id, name=name or f"site{site_id}", password=password)
    for store_id in stores if stores is not None else [f"STORE{site_id}"]:
        store_create(store_id=store_id, name=f"Store {store_id}", site_id=site_id, name_id=f"NAME_{store_id}")
    QueueEntry.objects.all().delete()
    return site


def make_user(username: str, *, password: str = "pass", stores: list[str], admin: bool = False):
    return sync_user_create(username=username, password=password, store_ids=stores, is_admin=admin)


def client_for(site: Site, *, password: str = "pass", version: str = "v3", **kwargs: Any) -> SyncClient:
    return SyncClient(site_id=site.pk, name=site.name, password=password, version=version, **kwargs)


def record(
    record_type: str,
    record_id: str,
    data: dict[str, Any],
    *,
    sync_id: str,
    store_id: str = "",
    sync_type: str = "U",
) -> dict[str, Any]:
    return {
        "SyncID": sync_id,
        "RecordType": record_type,
        "RecordID": record_id,
        "SyncType": sync_type,
        "StoreID": store_id,
        "Data": data,
    }


# Helpers of the v2/v3 behaviour suite -----------------------------------------------------------------
def json_error(response: Any, status: int) -> str:
    """The `error` text of a JSON refusal with `status`, checked to be words rather than nothing."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = orjson.loads(response.content)
    assert isinstance(body, dict), body
    message = body.get("error")
    assert isinstance(message, str) and len(message.split()) >= 2, body
    return message


def primary_upsert(record_type: str, record_id: str, data: dict[str, Any], *, store_id: str = "") -> None:
    """A record created or edited on the primary itself (admin, loadrecords), fanned out to the sites."""
    from apps.queue.services import primary_changes_apply
    from apps.records.changes import Change

    change = Change(
        record_type=record_type, record_id=record_id, action="upsert", data=data, store_id=store_id
    )
    written = primary_changes_apply(changes=[change])
    assert not written.refused, written.refused


def primary_delete(record_type: str, record_id: str) -> None:
    from apps.queue.services import primary_changes_apply
    from apps.records.changes import Change

    written = primary_changes_apply(
        changes=[Change(record_type=record_type, record_id=record_id, action="delete")]
    )
    assert not written.refused, written.refused


def wait_until(condition: Any, *, what: str, limit: float = 120.0, explain: Any = None) -> None:
    """Poll for a state of the database or a server; the limit only bounds a hang, nothing is timed.

    `explain`, when given, is called on giving up, to say what the system was doing instead."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}" + (f": {explain()}" if explain else ""))
        time.sleep(0.05)


def statements_running(prefix: str) -> int:
    """Connections executing a statement that starts with `prefix` (MySQL/MariaDB only): a statement
    held on a lock is still running, so this finds it waiting wherever it waits."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.processlist "
            "WHERE command = 'Query' AND id <> CONNECTION_ID() AND info LIKE %s",
            [prefix.replace("%", r"\%") + "%"],
        )
        return cursor.fetchone()[0]
