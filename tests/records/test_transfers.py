"""Transfers between stores on different sites, through HTTP: the other party gets a document of its own.

Site 2 (STORE2) and site 3 (STORE3) are satellites, site 4 (STORE4) a bystander; STORE9 is served by the
primary itself (on no satellite).
"""

from __future__ import annotations

from typing import Any

import pytest

from apps.queue.models import QueueEntry
from apps.records.models import Record
from apps.records.transfers import counterpart_id
from apps.sites.services import store_create
from tests.support import SyncClient, client_for, make_site, primary_upsert, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def sites(version: str) -> dict[int, SyncClient]:
    clients = {site_id: client_for(make_site(site_id), version=version) for site_id in (2, 3, 4)}
    store_create(store_id="STORE9", name="Store STORE9", site_id=None, name_id="NAME_STORE9")
    QueueEntry.objects.all().delete()  # the store records creating the stores queued
    return clients


def invoice(
    record_id: str, *, status: str = "fn", to: str = "NAME_STORE3", sync_id: str, **extra: Any
) -> dict:
    data = {
        "ID": record_id,
        "store_ID": "STORE2",
        "name_ID": to,
        "type": "ci",
        "status": status,
        "invoice_num": 12,
        "comment": "monthly supply",
        **extra,
    }
    return record("transact", record_id, data, sync_id=sync_id, store_id="STORE2")


def invoice_line(record_id: str, *, invoice_id: str, sync_id: str, quantity: int = 5) -> dict:
    data = {
        "ID": record_id,
        "transaction_ID": invoice_id,
        "item_ID": "ITEM1",
        "item_name": "Paracetamol",
        "item_line_ID": "BATCH_OF_STORE2",
        "batch": "B-1",
        "expiry_date": "2027-01-31",
        "pack_size": 10,
        "quantity": quantity,
        "cost_price": 2,
        "sell_price": 3,
        "type": "stock_out",
        "location_ID": "SHELF_OF_STORE2",
    }
    return record("trans_line", record_id, data, sync_id=sync_id, store_id="STORE2")


def by_type(pulled: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for r in pulled:
        grouped.setdefault(r["RecordType"], []).append(r)
    return grouped


def test_a_finalised_customer_invoice_becomes_one_supplier_invoice_in_the_receiving_store(sites):
    body = sites[2].push(
        [
            invoice("CI1", sync_id="s1"),
            invoice_line("CL1", invoice_id="CI1", sync_id="s2"),
            invoice_line("CL2", invoice_id="CI1", sync_id="s3", quantity=7),
        ]
    )
    assert body["applied"] == 3 and body["quarantined"] == 0

    pulled = by_type(sites[3].drain())
    assert sorted(pulled) == ["trans_line", "transact"]
    [si] = pulled["transact"]
    data = si["data"]
    assert si["RecordID"] == data["ID"] != "CI1"
    assert len(data["ID"]) == 32 and data["ID"] == data["ID"].upper()
    assert (data["type"], data["status"], data["store_ID"], si["StoreID"]) == ("si", "nw", "STORE3", "STORE3")
    assert (data["name_ID"], data["linked_transaction_id"]) == ("NAME_STORE2", "CI1")
    assert int(data["invoice_num"]) < 1
    lines = pulled["trans_line"]
    assert sorted(int(line["data"]["quantity"]) for line in lines) == [5, 7]
    for line in lines:
        d = line["data"]
        assert d["transaction_ID"] == data["ID"] and d["ID"] not in ("CL1", "CL2")
        assert (d["item_ID"], d["batch"], d["expiry_date"], d["pack_size"]) == (
            "ITEM1",
            "B-1",
            "2027-01-31",
            "10",
        )
        # The receiver paid what the sender charged; the sender's batch and shelf stay the sender's.
        assert (d["cost_price"], d["sell_price"], d["type"]) == ("3", "3", "stock_in")
        assert d["item_line_ID"] not in ("", "BATCH_OF_STORE2") and d["location_ID"] == ""
        assert d["linked_trans_line_ID"] in ("CL1", "CL2")
    # The sender's own invoice stays home; nobody else hears of it; no echo.
    assert "CI1" not in {r["RecordID"] for r in sites[3].drain()}
    assert [sites[n].count() for n in (2, 4)] == [0, 0]


def test_replaying_or_editing_the_released_invoice_creates_nothing_new(sites):
    first = [invoice("CI1", sync_id="s1"), invoice_line("CL1", invoice_id="CI1", sync_id="s2")]
    sites[2].push(first)
    assert len(sites[3].drain()) == 2

    replay = sites[2].push(first)
    sites[2].push([invoice("CI1", sync_id="s3", comment="edited after release")])

    assert replay["duplicates"] == 2
    assert sites[3].count() == 0
    assert (
        Record.objects.filter(record_type_id="transact", data__contains='"linked_transaction_id"').count()
        == 1
    )


def test_an_invoice_edited_before_release_is_transferred_once_when_finalised(sites):
    sites[2].push(
        [invoice("CI1", status="cn", sync_id="s1"), invoice_line("CL1", invoice_id="CI1", sync_id="s2")]
    )
    sites[2].push([invoice_line("CL1", invoice_id="CI1", sync_id="s3", quantity=9)])
    assert sites[3].count() == 0

    sites[2].push([invoice("CI1", sync_id="s4")])

    pulled = by_type(sites[3].drain())
    assert [int(line["data"]["quantity"]) for line in pulled["trans_line"]] == [9]
    assert len(pulled["transact"]) == 1


def test_lines_that_arrive_after_their_released_header_join_the_new_supplier_invoice(sites):
    sites[2].push([invoice("CI1", sync_id="s1")])
    [si] = sites[3].drain()

    sites[2].push([invoice_line("CL1", invoice_id="CI1", sync_id="s2")])
    sites[2].push([invoice_line("CL1", invoice_id="CI1", sync_id="s3", quantity=6)])

    [line] = sites[3].drain()
    assert line["data"]["transaction_ID"] == si["RecordID"]
    assert line["data"]["quantity"] == "5"


def test_lines_arriving_after_the_receiver_received_the_goods_are_not_added(sites):
    sites[2].push([invoice("CI1", sync_id="s1")])
    [si] = sites[3].drain()
    sites[3].push(
        [record("transact", si["RecordID"], {**si["data"], "status": "fn"}, sync_id="r1", store_id="STORE3")]
    )

    sites[2].push([invoice_line("CL1", invoice_id="CI1", sync_id="s2")])

    assert sites[3].count() == 0


def test_an_invoice_to_a_store_on_the_same_site_or_to_a_customer_is_left_to_the_site(sites):
    store_create(store_id="STORE2B", name="Second store", site_id=2, name_id="NAME_STORE2B")
    QueueEntry.objects.all().delete()
    sites[2].push(
        [invoice("CI1", to="NAME_STORE2B", sync_id="s1"), invoice("CI2", to="A_PATIENT", sync_id="s2")]
    )

    assert [sites[n].count() for n in (2, 3, 4)] == [0, 0, 0]
    assert Record.objects.filter(record_type_id="transact").count() == 2


def test_a_store_served_by_the_primary_gets_its_supplier_invoice_too(sites):
    sites[2].push([invoice("CI1", to="NAME_STORE9", sync_id="s1")])

    si = Record.objects.get(record_type_id="transact", record_id=counterpart_id("si", "CI1", "STORE9"))
    assert (si.store_id, si.source_site_id) == ("STORE9", 1)
    assert [sites[n].count() for n in (3, 4)] == [0, 0]


def test_an_invoice_finalised_on_the_primary_is_transferred_to_the_satellite(sites):
    primary_upsert(
        "transact",
        "CI9",
        {"ID": "CI9", "store_ID": "STORE9", "name_ID": "NAME_STORE3", "type": "ci", "status": "fn"},
    )

    [si] = sites[3].drain()
    assert (si["data"]["store_ID"], si["data"]["name_ID"]) == ("STORE3", "NAME_STORE9")


def requisition(record_id: str, *, status: str, sync_id: str) -> dict:
    data = {
        "ID": record_id,
        "store_ID": "STORE2",
        "name_ID": "NAME_STORE3",
        "type": "request",
        "status": status,
        "daysToSupply": 30,
        "serial_number": 4,
    }
    return record("requisition", record_id, data, sync_id=sync_id, store_id="STORE2")


def requisition_line(record_id: str, *, requisition_id: str, sync_id: str) -> dict:
    data = {"ID": record_id, "requisition_ID": requisition_id, "item_ID": "ITEM1", "Cust_stock_order": 40}
    return record("requisition_line", record_id, data, sync_id=sync_id, store_id="STORE2")


def test_a_request_requisition_becomes_one_response_in_the_supplying_store_and_its_status_returns(sites):
    request = [
        requisition("RQ1", status="sg", sync_id="s1"),
        requisition_line("RL1", requisition_id="RQ1", sync_id="s2"),
    ]
    sites[2].push(request)
    assert sites[3].count() == 0

    # Sent (confirmed), then pushed again with its line: one response.
    sites[2].push([requisition("RQ1", status="cn", sync_id="s3")])
    sites[2].push([requisition("RQ1", status="cn", sync_id="s4"), *request[1:]])

    pulled = by_type(sites[3].drain())
    [response] = pulled["requisition"]
    data = response["data"]
    assert (data["type"], data["status"], data["store_ID"], data["name_ID"]) == (
        "response",
        "sg",
        "STORE3",
        "NAME_STORE2",
    )
    assert data["linked_requisition_id"] == "RQ1" and int(data["serial_number"]) < 1
    [line] = pulled["requisition_line"]
    assert (line["data"]["requisition_ID"], line["data"]["Cust_stock_order"]) == (data["ID"], "40")
    assert line["data"]["linked_requisition_line_ID"] == "RL1"

    sites[3].push(
        [record("requisition", data["ID"], {**data, "status": "fn"}, sync_id="r1", store_id="STORE3")]
    )

    [back] = sites[2].drain()
    assert (back["RecordID"], back["data"]["status"]) == ("RQ1", "fn")
    assert sites[3].count() == 0 and sites[4].count() == 0


def test_the_supplier_invoice_of_an_answered_request_names_the_request(sites):
    sites[2].push([requisition("RQ1", status="cn", sync_id="s1")])
    [response] = sites[3].drain()
    invoice_data = {
        "ID": "CI3",
        "store_ID": "STORE3",
        "name_ID": "NAME_STORE2",
        "type": "ci",
        "status": "fn",
        "requisition_ID": response["RecordID"],
    }
    sites[3].push([record("transact", "CI3", invoice_data, sync_id="r1", store_id="STORE3")])

    [si] = sites[2].drain()
    assert (si["data"]["linked_transaction_id"], si["data"]["requisition_ID"]) == ("CI3", "RQ1")
