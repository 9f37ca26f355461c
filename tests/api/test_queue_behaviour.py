"""Queue semantics seen by a v2/v3 satellite (docs/protocol.md, "Records" and "Queues"): peek then
acknowledge, oldest first, newest state under a new SyncID, and the pull format (lowercase `data`, string
values).
"""

from __future__ import annotations

import pytest

from apps.queue.services import primary_changes_apply
from apps.records.changes import Change
from apps.records.registry import get_registry
from tests.support import primary_delete, primary_upsert, record

pytestmark = pytest.mark.django_db


def unit(unit_id: str, label: str = "") -> None:
    primary_upsert("unit", unit_id, {"ID": unit_id, "units": label or f"unit {unit_id}"})


def ids(records: list[dict]) -> list[str]:
    return [r["RecordID"] for r in records]


def test_a_pull_does_not_remove_records(sat):
    unit("U1")
    unit("U2")

    first = sat.pull(10)
    second = sat.pull(10)

    assert ids(first) == ["U1", "U2"]
    assert second == first
    assert sat.count() == 2


def test_acknowledging_removes_exactly_the_acknowledged_records(sat):
    for unit_id in ("U1", "U2", "U3"):
        unit(unit_id)
    pulled = sat.pull(10)

    sat.ack([pulled[1]["SyncID"]])

    assert sat.pull(10) == [pulled[0], pulled[2]]
    assert sat.count() == 2


def test_records_are_pulled_oldest_first(sat):
    for unit_id in ("U3", "U1", "U2"):
        unit(unit_id)

    assert ids(sat.pull(10)) == ["U3", "U1", "U2"]
    assert ids(sat.pull(1)) == ["U3"]


def test_a_record_changed_again_before_ack_is_sent_once_in_its_newest_state_under_a_new_sync_id(sat):
    unit("U1", "first")
    unit("U2")
    old = sat.pull(10)
    assert ids(old) == ["U1", "U2"]
    old_sync_id = old[0]["SyncID"]

    unit("U1", "second")
    pulled = sat.pull(10)

    assert ids(pulled) == ["U2", "U1"]
    newest = pulled[1]
    assert newest["data"]["units"] == "second"
    assert newest["SyncID"] != old_sync_id


def test_acknowledging_the_old_sync_id_keeps_the_newer_change_queued(sat):
    unit("U1", "first")
    old_sync_id = sat.pull()[0]["SyncID"]
    unit("U1", "second")

    sat.ack([old_sync_id])

    assert sat.count() == 1
    pulled = sat.pull(10)
    assert ids(pulled) == ["U1"]
    assert pulled[0]["data"]["units"] == "second"
    sat.ack([pulled[0]["SyncID"]])
    assert sat.count() == 0


def test_the_count_equals_the_number_of_records_a_big_pull_returns(sat):
    for unit_id in ("U1", "U2", "U3", "U4"):
        unit(unit_id)
    primary_upsert("Location", "L1", {"ID": "L1", "store_ID": "STORE2"})
    primary_delete("unit", "U4")

    assert sat.count() == len(sat.pull(1000)) == 5


def test_pulled_records_carry_lowercase_data_with_every_value_a_string(sat, other):
    name = {
        "ID": "N1",
        "type": "patient",
        "name": "Clinic",
        "margin": 10,
        "freightfac": 1.5,
        "customer": True,
        "supplier": False,
        "comment": None,
    }
    assert sat.push([record("name", "N1", name, sync_id="s1")])["applied"] == 1

    pulled = other.pull()

    assert len(pulled) == 1
    envelope = pulled[0]
    assert "Data" not in envelope
    assert {"SyncID", "RecordType", "RecordID", "SyncType", "StoreID", "data"} <= set(envelope)
    assert all(isinstance(value, str) for key, value in envelope.items() if key != "data")
    expected = {
        "ID": "N1",
        "type": "patient",
        "name": "Clinic",
        "margin": "10",
        "freightfac": "1.5",
        "customer": "true",
        "supplier": "false",
        "comment": "",
    }
    assert {key: envelope["data"][key] for key in expected} == expected
    # The whole record: every field of the table, each a string.
    assert set(envelope["data"]) == set(get_registry().types["name"].fields)
    assert all(isinstance(value, str) for value in envelope["data"].values())


def test_a_deletion_arrives_as_sync_type_d_without_data(sat, other):
    sat.push([record("name", "N1", {"type": "patient", "ID": "N1", "name": "Clinic"}, sync_id="s1")])
    other.drain()

    sat.push([{"SyncID": "s2", "RecordType": "name", "RecordID": "N1", "SyncType": "D", "StoreID": ""}])
    pulled = other.pull(10)

    assert len(pulled) == 1
    assert pulled[0]["SyncType"] == "D"
    assert pulled[0]["RecordID"] == "N1"
    assert pulled[0]["RecordType"] == "name"
    assert "data" not in pulled[0] and "Data" not in pulled[0]


def test_a_deletion_on_the_primary_arrives_as_sync_type_d_without_data(sat):
    unit("U1")
    sat.drain()

    primary_delete("unit", "U1")
    pulled = sat.pull(10)

    assert [(r["RecordID"], r["SyncType"]) for r in pulled] == [("U1", "D")]
    assert "data" not in pulled[0]


def test_a_merge_pushed_by_a_satellite_arrives_elsewhere_as_a_merge(sat, other):
    assert get_registry().types["name"].satellite_may_create
    sat.push(
        [
            record("name", "KEEP", {"type": "patient", "ID": "KEEP", "name": "Clinic"}, sync_id="s1"),
            record(
                "name", "GONE", {"type": "patient", "ID": "GONE", "name": "Clinic (duplicate)"}, sync_id="s2"
            ),
        ]
    )
    other.drain()

    result = sat.push(
        [
            {
                "SyncID": "s3",
                "RecordType": "name",
                "RecordID": "GONE",
                "SyncType": "M",
                "StoreID": "",
                "mergeIDtokeep": "KEEP",
                "mergeIDtodelete": "GONE",
            }
        ]
    )
    pulled = other.pull(10)

    assert result["applied"] == 1
    assert len(pulled) == 1
    assert pulled[0]["SyncType"] == "M"
    assert pulled[0]["RecordType"] == "name"
    assert pulled[0]["mergeIDtokeep"] == "KEEP"
    assert pulled[0]["mergeIDtodelete"] == "GONE"


def test_a_merge_made_on_the_primary_arrives_as_a_merge(sat):
    unit("KEEP")
    unit("GONE")
    sat.drain()

    primary_changes_apply(
        changes=[Change(record_type="unit", record_id="GONE", action="merge", merge_keep_id="KEEP")]
    )
    pulled = sat.pull(10)

    assert len(pulled) == 1
    assert pulled[0]["SyncType"] == "M"
    assert (pulled[0]["mergeIDtokeep"], pulled[0]["mergeIDtodelete"]) == ("KEEP", "GONE")
