"""Ownership as real mSupply has it (docs/protocol.md, "Ownership"), decided on the stored record.

A mobile store creates and edits its patients (including ones created elsewhere that its store can see
through name_store_join), their insurance policies, notes and drug reactions, its prescribers and its
own store data. What belongs to another site is refused, and a push can never move a record away from
another site's store by naming its own.
"""

from __future__ import annotations

import itertools
from typing import Any

import orjson
import pytest

from apps.records.models import Record
from tests.support import client_for, make_site, primary_upsert, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def sites() -> dict[int, Any]:
    return {n: client_for(make_site(n)) for n in (2, 3)}


def patient(record_id: str, **fields: str) -> dict[str, str]:
    return {"ID": record_id, "type": "patient", "name": f"Patient {record_id}", **fields}


sync_ids = (f"S{n}" for n in itertools.count())


def push_one(client, record_type: str, record_id: str, data: dict[str, Any] | None, *, store: str = ""):
    if data is None:
        item = {"SyncID": next(sync_ids), "RecordType": record_type, "RecordID": record_id, "SyncType": "D"}
        return client.push([{**item, "StoreID": store}])
    return client.push([record(record_type, record_id, data, sync_id=next(sync_ids), store_id=store)])


def stored(record_type: str, record_id: str) -> Record:
    return Record.objects.get(record_type_id=record_type, record_id=record_id)


# The ownership table: (table, what the satellite does) -> applied or refused --------------------------
def test_a_site_creates_and_edits_its_own_patients(sites):
    assert push_one(sites[2], "name", "P1", patient("P1"))["applied"] == 1
    assert push_one(sites[2], "name", "P1", patient("P1", phone="555"))["applied"] == 1
    assert orjson.loads(stored("name", "P1").wire)["phone"] == "555"


def test_a_site_edits_a_patient_created_elsewhere_that_its_store_can_see(sites):
    primary_upsert("name", "P9", patient("P9"))
    primary_upsert("name_store_join", "J9", {"ID": "J9", "name_ID": "P9", "store_ID": "STORE2"})

    body = push_one(sites[2], "name", "P9", patient("P9", phone="555"))

    assert (body["applied"], body["quarantined"]) == (1, 0)
    assert stored("name", "P9").source_site_id == 2


def test_a_patient_no_store_of_the_site_can_see_is_refused(sites):
    primary_upsert("name", "P9", patient("P9"))
    primary_upsert("name_store_join", "J9", {"ID": "J9", "name_ID": "P9", "store_ID": "STORE3"})

    body = push_one(sites[2], "name", "P9", patient("P9", phone="555"))

    assert body["quarantined"] == 1
    assert "no store of this site can see it" in body["quarantinedRecords"][0]["reason"]
    assert orjson.loads(stored("name", "P9").wire)["phone"] == ""


@pytest.mark.parametrize("kind", ["facility", "store", ""])
def test_names_other_than_patients_are_edited_on_the_primary_only(sites, kind):
    body = push_one(sites[2], "name", "N1", {"ID": "N1", "name": "Supplier", "type": kind})
    assert body["quarantined"] == 1
    assert "whose type is patient" in body["quarantinedRecords"][0]["reason"]


def test_a_central_supplier_cannot_be_turned_into_a_patient_by_a_satellite(sites):
    primary_upsert("name", "SUP", {"ID": "SUP", "name": "Supplier", "type": "facility"})
    primary_upsert("name_store_join", "J1", {"ID": "J1", "name_ID": "SUP", "store_ID": "STORE2"})

    body = push_one(sites[2], "name", "SUP", patient("SUP"))

    assert body["quarantined"] == 1
    assert orjson.loads(stored("name", "SUP").wire)["type"] == "facility"


@pytest.mark.parametrize(
    ("record_type", "data"),
    [
        ("nameInsuranceJoin", {"ID": "X1", "nameID": "P1", "policyNumberFull": "1"}),
        ("name_note", {"ID": "X1", "name_ID": "P1", "note": "n"}),
        ("adverse_drug_reaction", {"ID": "X1", "name_ID": "P1", "data": "{}"}),
    ],
)
def test_patient_data_is_created_by_the_site_and_edited_where_the_patient_is_visible(
    sites, record_type, data
):
    push_one(sites[2], "name", "P1", patient("P1"))
    assert push_one(sites[2], record_type, "X1", data)["applied"] == 1
    # Site 3 cannot see the patient: it may not change the record site 2 created.
    refused = push_one(sites[3], record_type, "X1", {**data, "ID": "X1"} | {"extra": "x"})
    assert refused["quarantined"] == 1
    # Once one of its stores sees the patient, it may.
    primary_upsert("name_store_join", "J3", {"ID": "J3", "name_ID": "P1", "store_ID": "STORE3"})
    assert push_one(sites[3], record_type, "X1", {**data, "extra": "y"})["applied"] == 1


def test_prescribers_of_the_sites_store_are_its_own(sites):
    clinician = {"ID": "C1", "code": "DR", "store_ID": "STORE2", "registration_code": "R1"}
    assert push_one(sites[2], "clinician", "C1", clinician)["applied"] == 1
    assert push_one(sites[3], "clinician", "C1", {**clinician, "store_ID": "STORE3"})["quarantined"] == 1


@pytest.mark.parametrize("record_type", ["item", "unit", "store", "list_master"])
def test_other_central_data_is_edited_on_the_primary_only(sites, record_type):
    body = push_one(sites[2], record_type, "X1", {"ID": "X1"})
    assert body["quarantined"] == 1
    assert "central data, edited on the primary only" in body["quarantinedRecords"][0]["reason"]


# Decided on the stored record, before the change is applied --------------------------------------------
def test_a_site_cannot_take_another_sites_record_by_pushing_it_with_its_own_store(sites):
    primary_upsert("Location", "L3", {"ID": "L3", "code": "A", "store_ID": "STORE3"})
    sites[3].drain()

    body = push_one(
        sites[2], "Location", "L3", {"ID": "L3", "code": "mine", "store_ID": "STORE2"}, store="STORE2"
    )

    assert body["quarantined"] == 1
    assert "belongs to store STORE3" in body["quarantinedRecords"][0]["reason"]
    location = stored("Location", "L3")
    assert (location.store_id, orjson.loads(location.wire)["code"]) == ("STORE3", "A")
    assert sites[3].count() == 0
    # Nor delete it afterwards.
    assert push_one(sites[2], "Location", "L3", None, store="STORE2")["quarantined"] == 1
    assert not stored("Location", "L3").is_deleted


def test_a_site_cannot_take_another_sites_transaction_and_its_lines(sites):
    primary_upsert("transact", "T3", {"ID": "T3", "store_ID": "STORE3", "name_ID": "NAME_X", "type": "ci"})
    primary_upsert("trans_line", "TL3", {"ID": "TL3", "transaction_ID": "T3"}, store_id="STORE3")

    body = push_one(
        sites[2], "transact", "T3", {"ID": "T3", "store_ID": "STORE2", "type": "ci"}, store="STORE2"
    )

    assert body["quarantined"] == 1
    assert stored("transact", "T3").store_id == "STORE3"
    sites[2].initial_dump(full=True)
    assert not [r for r in sites[2].drain() if r["RecordID"] in ("T3", "TL3")]
