"""Table pull over HTTP: visibility, typed rows, keyset paging, errors; status, health and checks."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.db import DatabaseError
from django.test import Client

from apps.queue.services import primary_changes_apply
from apps.records.changes import Change
from apps.records.registry import get_registry
from tests.support import make_site
from tests.tablesync.conftest import TableClient, op

pytestmark = pytest.mark.django_db


def seed_items(count: int) -> set[str]:
    ids = [f"I{n:06d}" for n in range(count)]
    for start in range(0, count, 2000):
        written = primary_changes_apply(
            changes=[
                Change("item", i, "upsert", data={"ID": i, "item_name": f"Item {i}"})
                for i in ids[start : start + 2000]
            ]
        )
        assert not written.refused
    return set(ids)


def test_pull_returns_typed_rows_ordered_by_key(pos: TableClient):
    pos.push(
        op("product_stock", "insert", id="P2", product="B", qty=3),
        op("product_stock", "insert", id="P1", product="A", qty=1.5),
        op("sales", "insert", id="S1", store_id="STORE2", paid=False, lines=[{"sku": "A"}]),
    )
    body = pos.pull(tables=["product_stock", "sales"]).json()
    assert body == {
        "success": True,
        "data": {
            "product_stock": [
                {"id": "P1", "product": "A", "qty": 1.5},
                {"id": "P2", "product": "B", "qty": 3},
            ],
            "sales": [{"id": "S1", "store_id": "STORE2", "paid": False, "lines": [{"sku": "A"}]}],
        },
        "next": {"product_stock": None, "sales": None},
        "has_more": False,
        "limit": 1000,
    }


def test_pull_without_tables_returns_every_allowed_table_and_no_deleted_rows(pos: TableClient, settings):
    settings.SYNC_ALLOWED_TABLES = ["sales", "product_stock"]
    pos.push(
        op("sales", "insert", id="S1", store_id="STORE2"), op("sales", "insert", id="S2", store_id="STORE2")
    )
    pos.push(op("sales", "delete", id="S1"))
    body = pos.pull().json()
    assert body["data"] == {"sales": [{"id": "S2", "store_id": "STORE2"}], "product_stock": []}


def test_pull_shows_a_site_only_the_store_rows_routed_to_it(pos: TableClient):
    other = TableClient(make_site(3))
    other.push(op("sales", "insert", id="S3", store_id="STORE3"))
    pos.push(op("sales", "insert", id="S2", store_id="STORE2"))
    assert [r["id"] for r in pos.pull(tables=["sales"]).json()["data"]["sales"]] == ["S2"]
    assert [r["id"] for r in other.pull(tables=["sales"]).json()["data"]["sales"]] == ["S3"]


def test_paging_over_12000_rows_returns_each_row_exactly_once(pos: TableClient):
    expected = seed_items(12_000)
    seen: list[str] = []
    after: dict[str, str] = {}
    pages = 0
    while True:
        body = pos.pull(tables=["item"], limit=5000, after=after).json()
        pages += 1
        seen += [row["ID"] for row in body["data"]["item"]]
        if not body["has_more"]:
            assert body["next"] == {"item": None}
            break
        after = {"item": body["next"]["item"]}
    assert pages == 3
    assert len(seen) == len(expected) and set(seen) == expected
    assert seen == sorted(seen)


def test_limit_defaults_to_1000_and_is_capped_at_5000(pos: TableClient):
    seed_items(5_001)
    default = pos.pull(tables=["item"]).json()
    assert (len(default["data"]["item"]), default["limit"], default["has_more"]) == (1000, 1000, True)
    capped = pos.pull(tables=["item"], limit=20_000).json()
    assert (len(capped["data"]["item"]), capped["limit"]) == (5000, 5000)
    assert capped["next"] == {"item": "I004999"}


def test_get_pull_takes_tables_limit_and_a_cursor_per_table(pos: TableClient):
    pos.push(*[op("product_stock", "insert", id=f"P{n}", product="A", qty=n) for n in range(5)])
    first = pos.get("/sync/pull?tables=product_stock&limit=2").json()
    assert [r["id"] for r in first["data"]["product_stock"]] == ["P0", "P1"]
    assert first["next"] == {"product_stock": "P1"}
    rest = pos.get("/sync/pull?tables=product_stock&limit=10&after.product_stock=P1").json()
    assert [r["id"] for r in rest["data"]["product_stock"]] == ["P2", "P3", "P4"]
    assert rest["has_more"] is False


@pytest.mark.parametrize(
    ("body", "error", "reason"),
    [
        ({"tables": ["sales", "users"]}, "Invalid table", "'users' is not synced here"),
        ({"tables": ["item"], "after": {"users": "x"}}, "Invalid table", "'users'"),
        ({"limit": 0}, "Invalid request", "limit: expected a whole number"),
        ({"limit": "many"}, "Invalid request", "limit: expected a whole number"),
        ({"tables": "sales,users"}, "Invalid table", "'users'"),
        ({"tables": [1]}, "Invalid request", "tables: expected an array"),
    ],
)
def test_pull_refuses_bad_requests_in_words(pos: TableClient, body, error: str, reason: str):
    response = pos.pull(**body)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert response.json()["error"] == error
    assert reason in response.json()["reason"]


def test_pull_with_no_tables_configured_says_so(pos: TableClient, settings):
    settings.SYNC_ALLOWED_TABLES = []
    response = pos.pull()
    assert response.status_code == 400
    assert response.json()["error"] == "No tables configured"


def test_a_database_failure_during_pull_is_a_503(pos: TableClient, monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr("apps.tablesync.selectors.visible_rows", broken)
    response = pos.pull(tables=["sales"])
    assert response.status_code == 503
    assert response.json()["success"] is False and response.json()["error"] == "Pull sync failed"


def test_status_and_health_gain_their_keys(operator_tables):
    status = Client().get("/sync/status").json()
    assert status["success"] is True and status["status"] == "ok"
    assert status["allowed_tables"] == ["sales", "product_stock", "Location", "name", "item"]
    health = Client().get("/health").json()
    assert health == {"status": "ok", "message": "Sync API running"}


def test_status_reports_an_unavailable_database(monkeypatch):
    def broken(self):
        raise DatabaseError("gone")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", broken)
    response = Client().get("/sync/status")
    assert response.status_code == 503
    body = response.json()
    assert (body["success"], body["status"], body["error"]) == (False, "error", "Database unavailable")


def test_an_unknown_allowed_table_is_a_startup_check_error(settings):
    settings.SYNC_ALLOWED_TABLES = ["item", "sales"]
    errors = [m for m in run_checks() if m.id == "tablesync.E002"]
    assert len(errors) == 1 and "sales" in errors[0].msg


def test_a_bad_registry_extension_is_a_startup_check_error(settings, tmp_path):
    extension = tmp_path / "tables.json"
    extension.write_text('{"record_types": [{"name": "sales", "table_number": 12}]}')
    settings.SYNC_REGISTRY_EXTENSION = str(extension)
    get_registry.cache_clear()
    try:
        errors = [m for m in run_checks() if m.id == "tablesync.E001"]
    finally:
        get_registry.cache_clear()
    assert len(errors) == 1 and "1000 or more" in errors[0].msg
