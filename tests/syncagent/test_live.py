"""The agent against a live primary: pushes reach the primary and the other sites, transfers travel
between two agents, a full snapshot rebuilds the mirror, and the primary's refusals stop the agent."""

from __future__ import annotations

import orjson
import pytest

from apps.queue.models import PushedSyncId, QueueEntry
from apps.records.canonical import wire_record
from apps.records.models import Record, RecordType
from apps.records.transfers import counterpart_id
from apps.sites.models import Site, Store
from syncagent import Stopped
from syncagent.state import ERROR, PENDING, SYNCED
from tests.support import primary_upsert

pytestmark = pytest.mark.django_db(transaction=True)


def transfer(agent, record_id: str, *, comment: str = "", to_name: str = "NAME_STORE3") -> str:
    data = {"ID": record_id, "store_ID": "STORE2", "name_ID": to_name, "type": "ci", "status": "fn"}
    if comment:
        data["comment"] = comment
    return agent.enqueue(record_type="transact", record_id=record_id, data=data, store_id="STORE2")


def line(agent, record_id: str, *, transaction: str) -> str:
    data = {"ID": record_id, "transaction_ID": transaction, "item_ID": "I1", "quantity": "5"}
    return agent.enqueue(record_type="trans_line", record_id=record_id, data=data, store_id="STORE2")


def stored(record_type: str, record_id: str) -> dict:
    return orjson.loads(Record.objects.get(record_type=record_type, record_id=record_id).data)


def queued_ids(site_id: int) -> set[str]:
    return set(
        Record.objects.filter(
            pk__in=QueueEntry.objects.filter(site_id=site_id).values("record_id")
        ).values_list("record_id", flat=True)
    )


def test_an_enqueued_change_reaches_the_primary_and_the_other_sites_queue(satellite):
    a = satellite(2)
    sync_id = a.agent.enqueue(
        record_type="name", record_id="N1", data={"ID": "N1", "type": "patient", "name": "Clinic"}
    )
    a.agent.enqueue(
        record_type="Location",
        record_id="L1",
        data={"ID": "L1", "code": "F1", "store_ID": "STORE2"},
        store_id="STORE2",
    )

    result = a.agent.cycle()

    assert (result.online, result.pushed, result.error) == (True, 2, "")
    assert stored("name", "N1")["name"] == "Clinic"
    assert stored("Location", "L1")["code"] == "F1"
    assert PushedSyncId.objects.filter(site_id=2, sync_id=sync_id).exists()
    assert queued_ids(3) == {"N1"}  # the store's location stays home
    assert queued_ids(2) == set()  # no echo
    assert [e.status for e in a.agent.state.entries()] == [SYNCED, SYNCED]


def test_two_agents_sync_a_transfer_between_them(satellite):
    a, b = satellite(2), satellite(3)
    transfer(a.agent, "T1", comment="first")
    line(a.agent, "TL1", transaction="T1")
    line(a.agent, "TL2", transaction="T1")

    a.agent.run(until_idle=True)
    b.agent.run(until_idle=True)

    # The receiving store gets a supplier invoice of its own, linked to the one sent, with its lines.
    mirror = b.agent.state.mirror()
    supplier_invoice = counterpart_id("si", "T1", "STORE3")
    assert {key for key in mirror if key[0] == "transact"} == {("transact", supplier_invoice)}
    header = mirror[("transact", supplier_invoice)]
    assert (header["store_ID"], header["linked_transaction_id"], header["comment"]) == (
        "STORE3",
        "T1",
        "first",
    )
    lines = [data for (kind, _), data in mirror.items() if kind == "trans_line"]
    assert len(lines) == 2 and {data["transaction_ID"] for data in lines} == {supplier_invoice}
    assert queued_ids(3) == set()  # acknowledged

    # An edit of the released invoice stays with the sender: nothing new reaches either side.
    transfer(a.agent, "T1", comment="edited after release")
    a.agent.run(until_idle=True)
    b.agent.run(until_idle=True)

    assert b.agent.state.mirror() == mirror
    assert a.agent.state.mirror() == {}  # nothing comes back to the sender


STORES = {("store", "STORE2"), ("store", "STORE3")}


def routed_to(site_id: int) -> dict[tuple[str, str], dict]:
    """What the primary routes to a site, read from the central store (not through the API)."""
    site = Site.objects.get(pk=site_id)
    stores = list(site.stores.values_list("pk", flat=True))
    names = list(site.stores.values_list("name_id", flat=True))
    rows = Record.objects.filter(is_deleted=False).select_related("record_type")
    forwarding = set(RecordType.objects.filter(scope="transfer").values_list("name", flat=True))
    expected = {}
    for r in rows:
        scope = r.record_type.scope
        forwarded = scope == "transfer" or r.record_type.parent_type in forwarding
        if (scope == "central" and not r.store_id) or (
            scope != "central" and (r.store_id in stores or (forwarded and r.transfer_name_id in names))
        ):
            expected[(r.record_type_id, r.record_id)] = orjson.loads(r.wire)
    return expected


def test_snapshot_full_rebuilds_the_mirror_as_the_primary_routes_it(satellite):
    a = satellite(2)
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Paracetamol"})
    primary_upsert("unit", "U1", {"ID": "U1", "units": "box"})
    primary_upsert("Location", "L2", {"ID": "L2", "code": "A", "store_ID": "STORE2"})
    primary_upsert("Location", "L3", {"ID": "L3", "code": "B", "store_ID": "STORE3"})
    a.agent.cycle()
    # The mirror drifts: a record deleted on the primary meanwhile, and junk of its own.
    a.agent.state.mirror_apply({"RecordType": "item", "RecordID": "GONE", "SyncType": "U", "data": {}})
    Record.objects.filter(record_id="U1").update(is_deleted=True)

    snapshot = a.agent.snapshot(full=True)

    assert a.agent.state.mirror() == routed_to(2)
    # With the central records of both stores, which every dump carries.
    assert set(a.agent.state.mirror()) == {("item", "I1"), ("Location", "L2"), *STORES}
    assert snapshot["full"] and snapshot["total"] == 4 == snapshot["queued"]
    assert snapshot["counts"] == {"Location": 1, "item": 1, "store": 2}
    assert a.agent.status()["last_snapshot"] == snapshot


def test_snapshot_full_brings_a_transfer_from_another_store(satellite):
    a, b = satellite(2), satellite(3)
    transfer(a.agent, "T1")
    line(a.agent, "TL1", transaction="T1")
    a.agent.cycle()
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Paracetamol"})

    b.agent.snapshot(full=True)

    assert b.agent.state.mirror() == routed_to(3)
    supplier_invoice = counterpart_id("si", "T1", "STORE3")
    mirrored = set(b.agent.state.mirror())
    assert {key for key in mirrored if key[0] != "trans_line"} == {
        ("transact", supplier_invoice),
        ("item", "I1"),
        *STORES,
    }
    assert sum(kind == "trans_line" for kind, _ in mirrored) == 1


def test_a_quarantined_entry_becomes_an_error_at_once_with_the_reason(satellite):
    a = satellite(2)
    bad = a.agent.enqueue(
        record_type="Location", record_id="L3", data={"ID": "L3", "code": "A", "store_ID": "STORE3"}
    )
    good = a.agent.enqueue(
        record_type="Location", record_id="L2", data={"ID": "L2", "code": "A", "store_ID": "STORE2"}
    )

    result = a.agent.cycle()

    entries = {e.sync_id: e for e in a.agent.state.entries()}
    assert (entries[bad].status, entries[bad].attempts) == (ERROR, 0)
    assert "quarantined by the primary" in entries[bad].last_error and "STORE3" in entries[bad].last_error
    assert entries[good].status == SYNCED
    assert result.quarantined == 1

    # Once the cause is fixed on the primary, retry-errors sends it again under a new SyncID (the
    # primary remembers the old one as pushed, so the same one would count as a duplicate).
    Store.objects.filter(pk="STORE3").update(site_id=2)
    assert a.agent.retry_errors()["requeued"] == 1
    a.agent.cycle()

    (retried,) = [e for e in a.agent.state.entries() if e.record_id == "L3"]
    assert retried.status == SYNCED and retried.sync_id != bad
    assert stored("Location", "L3")["store_ID"] == "STORE3"


def test_a_wrong_password_stops_the_agent_with_a_clear_message_and_uses_no_attempt(satellite):
    a = satellite(2, password="wrong")
    a.agent.enqueue(
        record_type="name", record_id="N1", data={"ID": "N1", "type": "patient", "name": "Clinic"}
    )

    with pytest.raises(Stopped, match=r"HTTP 401.*password"):
        a.agent.run()

    (entry,) = a.agent.state.entries()
    assert (entry.status, entry.attempts) == (PENDING, 0)
    assert a.slept == []
    assert "401" in a.agent.status()["stopped"]


def test_another_device_stops_the_agent_with_the_primarys_words(satellite):
    satellite(2).agent.cycle()  # binds site 2 to its device
    thief = satellite(2, hardware_id="another-device")
    thief.agent.enqueue(
        record_type="name", record_id="N1", data={"ID": "N1", "type": "patient", "name": "Clinic"}
    )

    with pytest.raises(Stopped, match="registration doesn't match"):
        thief.agent.cycle()

    assert thief.agent.state.entries()[0].attempts == 0
    assert not Record.objects.filter(record_id="N1").exists()


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_older_api_versions_push_and_pull_the_same_records(satellite, version):
    a = satellite(2, api_version=version, site_id=2)
    a.agent.enqueue(
        record_type="Location",
        record_id="L1",
        data={"ID": "L1", "code": "F1", "store_ID": "STORE2"},
        store_id="STORE2",
    )
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Paracetamol"})

    result = a.agent.cycle()

    assert (result.pushed, result.quarantined, result.pulled) == (1, 0, 1)
    assert stored("Location", "L1") == {"ID": "L1", "code": "F1", "store_ID": "STORE2"}
    assert a.agent.state.mirror() == {
        ("item", "I1"): wire_record("item", {"ID": "I1", "item_name": "Paracetamol"})
    }
