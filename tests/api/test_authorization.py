"""Authorization matrix through HTTP: site 2 against site 3's stores, records and queue.

Every endpoint and every sync type (insert/update, delete, merge) in every wire format: each attempt is
refused (403, or quarantined with a reason) and site 3's records and queue are exactly as they were.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from apps.api.replay import replay_quarantined
from apps.queue.models import QuarantinedRecord, QueueEntry
from apps.records.models import Record
from apps.records.registry import get_registry
from tests.support import SyncClient, client_for, json_error, make_site, primary_upsert, record

pytestmark = pytest.mark.django_db

VERSIONS = ["v1", "v2", "v3"]


def wire(version: str, record_type: str, record_id: str, data: dict[str, str] | None, **kw: str) -> dict:
    """One pushed record in the version's wire format."""
    if version != "v1":
        return record(record_type, record_id, data or {}, **kw)
    spec = get_registry().types[record_type]
    item: dict[str, Any] = {
        "SyncID": kw["sync_id"],
        "TableNumber": spec.table_number,
        "RecordID": record_id,
        "KeyFieldID": spec.fields[spec.key_field],
        "SyncType": kw.get("sync_type", "U"),
        "StoreID": kw.get("store_id", ""),
    }
    if data is not None:
        item["fields"] = [spec.fields[n] for n in data]
        item["values"] = list(data.values())
    return item


def merge(version: str, record_type: str, keep: str, drop: str, *, sync_id: str, store_id: str) -> dict:
    item = wire(version, record_type, drop, None, sync_id=sync_id, store_id=store_id, sync_type="M")
    item.update({"mergeIDtokeep": keep, "mergeIDtodelete": drop})
    return item


def records_state() -> list[tuple]:
    """Every stored record with a checksum of its data: what a refused change must leave alone."""
    return [
        (r.record_type_id, r.record_id, r.store_id, r.transfer_name_id, r.is_deleted, _digest(r.data))
        for r in Record.objects.order_by("record_type_id", "record_id")
    ]


def queue_state(site_id: int) -> list[tuple[int, int]]:
    return list(QueueEntry.objects.filter(site_id=site_id).order_by("id").values_list("id", "record_id"))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(params=VERSIONS)
def world(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Site 3 owns a location, an invoice with a line and a name it created; site 2 is the attacker."""
    version = request.param
    site2, site3 = make_site(2), make_site(3)
    owner = client_for(site3, version="v3")
    body = owner.push(
        [
            record("Location", "L3", {"ID": "L3", "code": "A", "store_ID": "STORE3"}, sync_id="o1"),
            record("Location", "L3b", {"ID": "L3b", "code": "B", "store_ID": "STORE3"}, sync_id="o2"),
            record("transact", "T3", {"ID": "T3", "store_ID": "STORE3", "name_ID": "NAME_X"}, sync_id="o3"),
            record("trans_line", "TL3", {"ID": "TL3", "transaction_ID": "T3"}, sync_id="o4"),
            record("name", "N3", {"ID": "N3", "type": "patient", "name": "made by site 3"}, sync_id="o5"),
        ]
    )
    assert body["applied"] == 5, body
    primary_upsert("unit", "U1", {"ID": "U1", "units": "tab"})
    return {"version": version, "attacker": client_for(site2, version=version), "owner": owner}


def attacks(version: str) -> dict[str, dict]:
    """Every way a push could touch site 3's data, by name."""
    return {
        "move a location to my store": wire(
            version,
            "Location",
            "L3",
            {"ID": "L3", "code": "X", "store_ID": "STORE2"},
            sync_id="a1",
            store_id="STORE2",
        ),
        "edit a location in its store": wire(
            version,
            "Location",
            "L3",
            {"ID": "L3", "code": "X", "store_ID": "STORE3"},
            sync_id="a2",
            store_id="STORE3",
        ),
        "delete a location": wire(
            version, "Location", "L3", None, sync_id="a3", store_id="STORE2", sync_type="D"
        ),
        "merge two locations": merge(version, "Location", "L3", "L3b", sync_id="a4", store_id="STORE2"),
        "take over an invoice": wire(
            version,
            "transact",
            "T3",
            {"ID": "T3", "store_ID": "STORE2", "name_ID": "NAME_STORE2"},
            sync_id="a5",
            store_id="STORE2",
        ),
        "add a line to its invoice": wire(
            version,
            "trans_line",
            "TL9",
            {"ID": "TL9", "transaction_ID": "T3"},
            sync_id="a6",
            store_id="STORE2",
        ),
        "move a line to my invoice": wire(
            version,
            "trans_line",
            "TL3",
            {"ID": "TL3", "transaction_ID": "T2"},
            sync_id="a7",
            store_id="STORE2",
        ),
        "edit a name it created": wire(
            version,
            "name",
            "N3",
            {"ID": "N3", "type": "patient", "name": "mine now"},
            sync_id="a8",
            store_id="STORE2",
        ),
        "delete a name it created": wire(
            version, "name", "N3", None, sync_id="a9", store_id="STORE2", sync_type="D"
        ),
        "edit central data": wire(
            version, "unit", "U1", {"ID": "U1", "units": "x"}, sync_id="a10", store_id="STORE2"
        ),
    }


@pytest.mark.parametrize("attack", list(attacks("v3")))
def test_a_push_touching_another_sites_data_is_quarantined_and_changes_nothing(world, attack):
    attacker: SyncClient = world["attacker"]
    # The attacker's own invoice, so "move a line to my invoice" has a target.
    attacker_invoice = wire(
        world["version"],
        "transact",
        "T2",
        {"ID": "T2", "store_ID": "STORE2", "name_ID": "NAME_X"},
        sync_id="own",
        store_id="STORE2",
    )
    assert attacker.push([attacker_invoice])["applied"] == 1
    before, queue3 = records_state(), queue_state(3)

    body = attacker.push([attacks(world["version"])[attack]])

    assert (body["applied"], body["quarantined"]) == (0, 1), body
    assert body["quarantinedRecords"][0]["reason"]
    assert records_state() == before
    assert queue_state(3) == queue3
    # A full dump of the attacker never hands it site 3's records.
    attacker.initial_dump(full=True)
    pulled = {r["RecordID"] for r in attacker.drain()}
    assert not pulled & {"L3", "L3b", "T3", "TL3"}


def test_a_replay_of_a_quarantined_takeover_is_refused_on_the_stored_owner(world):
    attacker: SyncClient = world["attacker"]
    attacker.push([attacks(world["version"])["move a location to my store"]])
    before = records_state()

    result = replay_quarantined(quarantined=QuarantinedRecord.objects.all())

    assert result.replayed == 0 and result.still_refused == 1
    assert "STORE3" in result.reasons[0]
    assert records_state() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "queued_records"),
        ("get", "queued_records/count"),
        ("post", "queued_records"),
        ("post", "acknowledged_records"),
        ("get", "initial_dump"),
    ],
)
def test_every_queue_endpoint_refuses_another_sites_from_site(world, method, path):
    attacker: SyncClient = world["attacker"]
    before, queue3 = records_state(), queue_state(3)
    url = attacker.url(path, from_site=3, limit=10)
    if method == "get":
        response = attacker.client.get(url, **attacker.headers())
    else:
        body = b'{"SyncRecordIDs": []}' if "ack" in path else b"[]"
        response = attacker.client.post(url, body, content_type="application/json", **attacker.headers())

    assert "is not the site these credentials belong to" in json_error(response, 403)
    assert records_state() == before
    assert queue_state(3) == queue3


def test_acknowledging_another_sites_sync_ids_removes_nothing(world):
    make_site(4)  # a third site, so site 3's queue is not the only one
    primary_upsert("unit", "U2", {"ID": "U2", "units": "box"})
    queue3 = queue_state(3)
    assert queue3

    world["attacker"].ack([str(entry_id) for entry_id, _ in queue3])

    assert queue_state(3) == queue3


def test_site_info_refuses_another_sites_name(world):
    if world["version"] == "v1":
        pytest.skip("GET site exists in v2 and v3 only")
    attacker: SyncClient = world["attacker"]
    response = attacker.get("site", site_name="site3")

    assert "does not match the credentials" in json_error(response, 403)


def test_another_sites_password_does_not_open_a_site():
    make_site(2, password="two")
    make_site(3, password="three")
    impostor = SyncClient(site_id=3, name="site3", password="two")

    assert impostor.get("queued_records/count").status_code == 401
