"""Table push over HTTP: allowlist, all or nothing, insert/update/delete semantics, fan-out."""

from __future__ import annotations

import orjson
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.queue.models import SyncLog
from apps.records.models import Record
from tests.support import client_for, make_site, record
from tests.tablesync.conftest import TableClient, op

pytestmark = pytest.mark.django_db


def stored(table: str, record_id: str) -> dict | None:
    row = Record.objects.filter(record_type_id=table, record_id=record_id, is_deleted=False).first()
    return None if row is None else orjson.loads(row.data)


def sale(sale_id: str, **fields) -> dict:
    return {"id": sale_id, "store_id": "STORE2", **fields}


def test_insert_stores_typed_rows_and_answers_with_counts(pos: TableClient):
    response = pos.push(
        op("sales", "insert", **sale("S1", total=12.5, paid=True, lines=[{"sku": "A", "qty": 2}])),
        op("product_stock", "insert", id=7, product="A", qty=40),
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True, "applied": 2, "unchanged": 0, "skipped": 0}
    assert stored("sales", "S1") == sale("S1", total=12.5, paid=True, lines=[{"sku": "A", "qty": 2}])
    assert stored("product_stock", "7") == {"id": 7, "product": "A", "qty": 40}


def test_a_retried_batch_succeeds_and_changes_nothing(pos: TableClient):
    batch = [op("sales", "insert", **sale("S1", total=3)), op("sales", "insert", **sale("S2", total=4))]
    assert pos.push(*batch).json()["applied"] == 2
    modified = list(Record.objects.order_by("pk").values_list("modified_at", flat=True))
    assert pos.push(*batch).json() == {"success": True, "applied": 0, "unchanged": 2, "skipped": 0}
    assert list(Record.objects.order_by("pk").values_list("modified_at", flat=True)) == modified


def test_a_table_not_allowed_is_refused_with_its_index_and_nothing_applies(pos: TableClient):
    response = pos.push(op("sales", "insert", **sale("S1")), op("users", "insert", id="U1"))
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and body["error"] == "Invalid table" and body["index"] == 1
    assert "'users' is not synced here" in body["reason"]
    assert not Record.objects.filter(record_type_id="sales").exists()


def test_a_registry_table_outside_the_allowlist_is_refused(pos: TableClient, settings):
    settings.SYNC_ALLOWED_TABLES = ["sales"]
    response = pos.push(op("product_stock", "insert", id=1, product="A", qty=1))
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid table"
    assert not Record.objects.filter(record_type_id="product_stock").exists()


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"table": "sales", "action": "upsert", "data": {"id": "S9"}}, "action 'upsert' is not one of"),
        ({"table": "sales", "action": "insert", "data": ["S9"]}, "data must be an object"),
        ({"table": "sales", "action": "insert", "data": {"total": 1}}, "key field 'id'"),
        ({"table": "sales", "action": "insert", "data": {"id": "S9", "total": "lots"}}, "is not a number"),
        ("sales", "expected an object"),
    ],
)
def test_one_bad_operation_refuses_the_whole_batch(pos: TableClient, bad, reason: str):
    response = pos.push(op("sales", "insert", **sale("S1")), op("sales", "insert", **sale("S2")), bad)
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and body["index"] == 2
    assert reason in body["reason"]
    assert not Record.objects.exists() or not Record.objects.filter(record_type_id="sales").exists()


def test_an_operation_the_site_may_not_make_rolls_back_what_was_already_written(pos: TableClient):
    make_site(3)
    # Valid in shape, refused by ownership inside the transaction: store STORE3 is not the pusher's.
    response = pos.push(
        op("sales", "insert", **sale("S1")),
        op("product_stock", "insert", id=1, product="A", qty=1),
        op("sales", "insert", id="S3", store_id="STORE3"),
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body == {
        "success": False,
        "error": "Operation refused",
        "reason": "operation 2: store STORE3 is not active on this site",
        "index": 2,
    }
    assert not Record.objects.filter(record_type_id__in=["sales", "product_stock"]).exists()


def test_central_mSupply_data_stays_edited_on_the_primary_only(pos: TableClient):
    response = pos.push(op("item", "insert", ID="I1", item_name="Paracetamol"))
    assert response.status_code == 400
    assert "central data, edited on the primary only" in response.json()["reason"]


def test_update_merges_fields_into_the_stored_record(pos: TableClient):
    pos.push(op("sales", "insert", **sale("S1", total=5, paid=False, note="counter 1")))
    response = pos.push(op("sales", "update", id="S1", paid=True))
    assert response.json()["applied"] == 1
    assert stored("sales", "S1") == sale("S1", total=5, paid=True, note="counter 1")


def test_operations_on_one_record_compose_in_order_within_a_batch(pos: TableClient):
    response = pos.push(
        op("sales", "insert", **sale("S1", total=5, paid=False)),
        op("sales", "update", id="S1", total=7),
        op("sales", "update", id="S1", paid=True, note="paid cash"),
        op("sales", "insert", **sale("S2", total=1)),
        op("sales", "delete", id="S2"),
        op("sales", "insert", **sale("S3", total=1)),
        op("sales", "delete", id="S3"),
        op("sales", "insert", **sale("S3", total=2)),
    )
    assert response.status_code == 200, response.content
    # S2 ends deleted without ever existing: nothing to do.
    assert response.json() == {"success": True, "applied": 2, "unchanged": 0, "skipped": 1}
    assert stored("sales", "S1") == sale("S1", total=7, paid=True, note="paid cash")
    assert stored("sales", "S2") is None
    assert stored("sales", "S3") == sale("S3", total=2)


def test_update_of_a_missing_record_creates_it_with_the_given_fields(pos: TableClient):
    pos.push(op("sales", "update", **sale("S1", total=1)))
    assert stored("sales", "S1") == sale("S1", total=1)


def test_delete_tombstones_and_a_delete_of_nothing_is_skipped(pos: TableClient):
    pos.push(op("sales", "insert", **sale("S1")))
    response = pos.push(op("sales", "delete", id="S1"), op("sales", "delete", id="NEVER"))
    assert response.json() == {"success": True, "applied": 1, "unchanged": 0, "skipped": 1}
    row = Record.objects.get(record_type_id="sales", record_id="S1")
    assert row.is_deleted and row.change_type == "D"
    assert not Record.objects.filter(record_id="NEVER").exists()


def test_a_table_push_reaches_msupply_satellites_queues_and_not_its_own(pos: TableClient):
    satellite = client_for(make_site(3))
    own_queue = client_for(pos.site, hardware_id=None)
    response = pos.push(op("name", "insert", ID="N1", name="Walk-in customer", type="patient", customer=True))
    assert response.status_code == 200, response.content
    pulled = satellite.pull()
    assert [(r["RecordType"], r["RecordID"], r["data"]["name"]) for r in pulled] == [
        ("name", "N1", "Walk-in customer")
    ]
    assert pulled[0]["data"]["customer"] == "true"  # the v3 wire form of the typed value
    assert own_queue.count() == 0  # no echo


def test_the_sync_alias_is_the_push(pos: TableClient):
    response = pos.push(op("sales", "insert", **sale("S1")), path="/sync")
    assert response.status_code == 200, response.content
    assert response.json()["applied"] == 1
    assert stored("sales", "S1") == sale("S1")


def test_device_id_is_kept_in_the_sync_log(pos: TableClient):
    pos.push(op("sales", "insert", **sale("S1")), device_id="till-3")
    log = SyncLog.objects.get(site=pos.site, call="table_push")
    assert (log.device_id, log.pushed, log.applied, log.status_code) == ("till-3", 1, 1, 200)
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("admin", "a@example.org", "pw"))
    page = admin.get("/admin/queue/synclog/?call=table_push").content.decode()
    assert "till-3" in page


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (b"{}", "operations: required"),
        (b'{"operations": {"table": "sales"}}', "operations: expected an array"),
    ],
)
def test_a_malformed_body_is_refused_in_words(pos: TableClient, body: bytes, reason: str):
    response = pos.post("/sync/push", body)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert reason in response.json()["reason"]


def test_the_site_credentials_lockout_and_hardware_binding_apply(operator_tables, settings):
    site = make_site(2)
    wrong = TableClient(site, password="wrong")
    response = wrong.push(op("sales", "insert", **sale("S1")))
    assert response.status_code == 401
    assert response.json()["success"] is False
    settings.SYNC_AUTH_MAX_FAILURES = 2
    wrong.push(op("sales", "insert", **sale("S1")))
    assert TableClient(site).push(op("sales", "insert", **sale("S1"))).status_code == 429

    bound = TableClient(make_site(4), hardware_id="till-A")
    assert bound.push(op("product_stock", "insert", id=1, product="A", qty=1)).status_code == 200
    thief = TableClient(bound.site, hardware_id="till-B")
    response = thief.push(op("product_stock", "insert", id=1, product="A", qty=99))
    assert response.status_code == 403
    assert response.json()["success"] is False
    assert "registered to another device" in response.json()["error"]
    assert stored("product_stock", "1")["qty"] == 1


def test_an_msupply_push_of_a_store_record_is_seen_by_the_table_pull_of_that_site_only(pos: TableClient):
    make_site(3)
    satellite = client_for(pos.site, hardware_id=None)
    location = {"ID": "LOC1", "code": "F1", "Description": "Fridge 1", "store_ID": "STORE2"}
    result = satellite.push([record("Location", "LOC1", location, sync_id="A1", store_id="STORE2")])
    assert result["applied"] == 1
    body = pos.pull(tables=["Location"]).json()
    assert body["data"] == {"Location": [location]}
    other = TableClient(make_site(5))
    assert other.pull(tables=["Location"]).json()["data"] == {"Location": []}
