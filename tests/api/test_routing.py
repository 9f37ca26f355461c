"""Routing of changes to satellites' queues, and what an initial dump queues (docs/protocol.md, "Queues")."""

from __future__ import annotations

import pytest

from apps.records.transfers import counterpart_id
from apps.sites.models import Site, Store
from tests.support import SyncClient, client_for, make_site, primary_delete, primary_upsert, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def sites(version: str) -> dict[int, SyncClient]:
    return {site_id: client_for(make_site(site_id), version=version) for site_id in (2, 3, 4)}


def ids(records: list[dict]) -> list[str]:
    return [r["RecordID"] for r in records]


def transact(record_id: str, *, store: str = "STORE2", other_party: str, sync_id: str) -> dict:
    data = {"ID": record_id, "store_ID": store, "name_ID": other_party, "type": "ci", "status": "fn"}
    return record("transact", record_id, data, sync_id=sync_id, store_id=store)


def trans_line(record_id: str, *, transaction: str, store: str = "STORE2", sync_id: str) -> dict:
    data = {"ID": record_id, "transaction_ID": transaction, "item_ID": "I1", "quantity": "5"}
    return record("trans_line", record_id, data, sync_id=sync_id, store_id=store)


def location(record_id: str, *, store: str = "STORE2", sync_id: str, code: str = "A") -> dict:
    data = {"ID": record_id, "code": code, "store_ID": store}
    return record("Location", record_id, data, sync_id=sync_id, store_id=store)


# Fan-out ----------------------------------------------------------------------------------------------
def test_central_data_from_the_primary_reaches_every_active_satellite_and_no_inactive_one(sites):
    Site.objects.filter(pk=4).update(is_active=False)

    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Paracetamol"})

    assert ids(sites[2].pull()) == ["I1"]
    assert ids(sites[3].pull()) == ["I1"]
    Site.objects.filter(pk=4).update(is_active=True)
    assert sites[4].count() == 0


def test_store_data_pushed_by_a_site_reaches_nobody_else(sites):
    result = sites[2].push(
        [location("L1", sync_id="s1"), transact("T1", other_party="NAME_OF_A_CUSTOMER", sync_id="s2")]
    )

    assert result["applied"] == 2
    assert [sites[n].count() for n in (2, 3, 4)] == [0, 0, 0]


def test_store_data_changed_on_the_primary_reaches_only_the_site_of_its_store(sites):
    primary_upsert("Location", "L3", {"ID": "L3", "code": "A", "store_ID": "STORE3"})

    assert [sites[n].count() for n in (2, 3, 4)] == [0, 1, 0]
    assert ids(sites[3].pull()) == ["L3"]


def test_a_transfer_reaches_the_other_partys_site_as_its_own_document_with_its_lines(sites):
    result = sites[2].push(
        [
            transact("T1", other_party="NAME_STORE3", sync_id="s1"),
            trans_line("TL1", transaction="T1", sync_id="s2"),
            trans_line("TL2", transaction="T1", sync_id="s3"),
        ]
    )

    assert result["applied"] == 3
    received = sites[3].pull(10)
    supplier_invoice = counterpart_id("si", "T1", "STORE3")
    assert [r["RecordType"] for r in received] == ["transact", "trans_line", "trans_line"]
    assert received[0]["RecordID"] == supplier_invoice
    assert {r["data"]["transaction_ID"] for r in received[1:]} == {supplier_invoice}
    # The sender's own invoice and lines stay on the sender's site.
    assert not {"T1", "TL1", "TL2"} & set(ids(received))
    assert sites[4].count() == 0
    assert sites[2].count() == 0


def test_lines_pushed_before_their_header_follow_it_to_the_other_partys_site(sites):
    sites[2].push([trans_line("TL1", transaction="T1", sync_id="s1")])
    assert sites[3].count() == 0

    sites[2].push([transact("T1", other_party="NAME_STORE3", sync_id="s2")])

    received = sites[3].pull(10)
    assert [r["RecordType"] for r in received] == ["transact", "trans_line"]
    assert received[1]["data"]["linked_trans_line_ID"] == "TL1"
    assert sites[4].count() == 0


def test_a_transaction_whose_other_party_is_not_a_store_stays_home(sites):
    sites[2].push(
        [
            transact("T1", other_party="NAME_OF_A_PATIENT", sync_id="s1"),
            trans_line("TL1", transaction="T1", sync_id="s2"),
        ]
    )

    assert [sites[n].count() for n in (3, 4)] == [0, 0]


# No echo ----------------------------------------------------------------------------------------------
def test_a_pushed_change_is_not_queued_back_to_the_pushing_site(sites):
    sites[2].push([record("name", "N1", {"type": "patient", "ID": "N1", "name": "Clinic"}, sync_id="s1")])

    assert sites[2].count() == 0
    assert ids(sites[3].pull()) == ["N1"]


def test_a_push_removes_the_pushers_pending_older_copy_of_the_record(sites):
    primary_upsert("Location", "L1", {"ID": "L1", "code": "from the primary", "store_ID": "STORE2"})
    primary_upsert("unit", "U1", {"ID": "U1", "units": "box"})
    assert sorted(ids(sites[2].pull(10))) == ["L1", "U1"]

    sites[2].push([location("L1", sync_id="s1", code="from the satellite")])

    assert ids(sites[2].pull(10)) == ["U1"]


# initial_dump -----------------------------------------------------------------------------------------
def dumped_ids(rows: list[dict]) -> list[str]:
    """The ids of a dump's records but the central store records, which every dump carries."""
    return [r["RecordID"] for r in rows if r["RecordType"] != "store"]


def test_every_dump_carries_the_store_records(sites):
    for full in (False, True):
        sites[2].initial_dump(full=full)
        stores = [r["RecordID"] for r in sites[2].drain() if r["RecordType"] == "store"]
        assert sorted(stores) == sorted(Store.objects.values_list("pk", flat=True))


@pytest.fixture
def catalogue(sites) -> None:
    """Items I1 and I2; only I1 is joined to site 2's store (I2 to another site's store)."""
    primary_upsert("item_store_join", "J1", {"ID": "J1", "item_ID": "I1", "store_ID": "STORE2"})
    primary_upsert("item_store_join", "J2", {"ID": "J2", "item_ID": "I2", "store_ID": "STORE3"})
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Paracetamol"})
    primary_upsert("item", "I2", {"ID": "I2", "item_name": "Amoxicillin"})
    for client in sites.values():
        client.drain()


def test_the_mobile_dump_holds_only_the_items_joined_to_the_sites_store(sites, catalogue):
    body = sites[2].initial_dump()

    received = sites[2].drain()
    assert body["NumRecords"] == len(received)
    assert sorted(dumped_ids(received)) == ["I1", "J1"]


def test_the_full_dump_holds_every_item(sites, catalogue):
    body = sites[2].initial_dump(full=True)

    received = sites[2].drain()
    assert body["NumRecords"] == len(received)
    assert sorted(dumped_ids(received)) == ["I1", "I2", "J1"]


def test_a_dump_replaces_what_was_queued_before(sites, catalogue):
    primary_upsert("unit", "U1", {"ID": "U1", "units": "box"})
    assert sites[2].count() == 1

    sites[2].initial_dump(full=True)
    sites[2].initial_dump(full=True)

    assert sorted(dumped_ids(sites[2].drain())) == ["I1", "I2", "J1", "U1"]


@pytest.mark.parametrize("full", [False, True], ids=["mobile", "full"])
def test_a_dump_queues_referenced_tables_before_the_tables_that_refer_to_them(sites, full):
    # Created in the reverse of the order the dump must use.
    primary_upsert("trans_line", "TL1", {"ID": "TL1", "transaction_ID": "T1"}, store_id="STORE2")
    primary_upsert("transact", "T1", {"ID": "T1", "store_ID": "STORE2", "name_ID": "NAME_OF_A_CUSTOMER"})
    primary_upsert("item_store_join", "J1", {"ID": "J1", "item_ID": "I1", "store_ID": "STORE2"})
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Paracetamol"})

    sites[2].initial_dump(full=full)

    assert dumped_ids(sites[2].pull(10)) == ["I1", "J1", "T1", "TL1"]


@pytest.mark.parametrize("full", [False, True], ids=["mobile", "full"])
def test_a_dump_on_a_live_site_keeps_its_pending_deletes(sites, catalogue, full):
    primary_upsert("unit", "U1", {"ID": "U1", "units": "box"})
    sites[2].drain()  # the site holds U1
    primary_delete("unit", "U1")

    sites[2].initial_dump(full=full)
    received = sites[2].drain()

    assert [r["SyncType"] for r in received if r["RecordID"] == "U1"] == ["D"]
