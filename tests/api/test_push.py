"""Pushes from a v2/v3 satellite (docs/protocol.md, "Records" and "Pushes"): applied once, bad records
quarantined with their raw text, malformed bodies refused whole.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.queue.models import QuarantinedRecord
from apps.records.canonical import wire_record
from apps.records.models import Record
from tests.support import json_error, primary_upsert, record

pytestmark = pytest.mark.django_db


def location(record_id: str, *, sync_id: str, store: str = "STORE2", code: str = "A") -> dict[str, Any]:
    data = {"ID": record_id, "code": code, "store_ID": store}
    return record("Location", record_id, data, sync_id=sync_id, store_id=store)


def name(record_id: str, label: str, *, sync_id: str) -> dict[str, Any]:
    return record("name", record_id, {"ID": record_id, "name": label, "type": "patient"}, sync_id=sync_id)


def stored(record_type: str, record_id: str) -> dict[str, Any] | None:
    row = Record.objects.filter(record_type_id=record_type, record_id=record_id, is_deleted=False).first()
    return None if row is None else orjson.loads(row.data)


def test_a_push_answers_with_an_empty_error_and_what_was_applied(sat):
    response = sat.post("queued_records", [location("L1", sync_id="s1"), location("L2", sync_id="s2")])

    assert response.status_code == 200
    body = response.json()
    assert body["error"] == ""
    assert body["applied"] == 2
    assert body["quarantined"] == 0
    assert body["quarantinedRecords"] == []
    assert stored("Location", "L1") == {"ID": "L1", "code": "A", "store_ID": "STORE2"}


@pytest.mark.parametrize("key", ["Data", "data"])
def test_both_data_and_Data_are_accepted(sat, other, key):
    item = name("N1", "Clinic", sync_id="s1")
    item[key] = item.pop("Data")

    assert sat.push([item])["applied"] == 1
    assert other.pull()[0]["data"] == wire_record("name", {"ID": "N1", "name": "Clinic", "type": "patient"})


def test_a_single_object_body_is_accepted(sat):
    body = sat.push(location("L1", sync_id="s1"))  # type: ignore[arg-type]

    assert body["error"] == ""
    assert body["applied"] == 1
    assert stored("Location", "L1") is not None


def test_the_same_sync_id_pushed_twice_is_applied_once(sat, other):
    first = sat.push([name("N1", "v1", sync_id="A")])
    second = sat.push([name("N1", "v2", sync_id="B")])
    replay = sat.push([name("N1", "v1", sync_id="A")])

    assert (first["applied"], second["applied"]) == (1, 1)
    assert replay["applied"] == 0
    assert replay["duplicates"] == 1
    assert replay["error"] == ""
    received = other.drain()
    assert [r["data"]["name"] for r in received] == ["v2"]
    assert stored("name", "N1") == {"ID": "N1", "name": "v2", "type": "patient"}


def test_a_sync_id_repeated_within_one_batch_is_applied_once(sat):
    body = sat.push([location("L1", sync_id="A", code="first"), location("L1", sync_id="A", code="again")])

    assert body["applied"] == 1
    assert body["duplicates"] == 1
    assert stored("Location", "L1")["code"] == "first"


def test_a_long_sync_id_pushed_twice_is_applied_once(sat, other):
    long_id = "X" * 150
    sat.push([name("N1", "v1", sync_id=long_id)])
    sat.push([name("N1", "v2", sync_id="B")])

    replay = sat.push([name("N1", "v1", sync_id=long_id)])

    assert (replay["applied"], replay["duplicates"]) == (0, 1)
    assert stored("name", "N1") == {"ID": "N1", "name": "v2", "type": "patient"}


def test_deleting_a_record_of_another_sites_store_is_quarantined_and_changes_nothing(sat, other):
    primary_upsert("Location", "L3", {"ID": "L3", "code": "A", "store_ID": "STORE3"})
    other.drain()
    delete = {
        "SyncID": "s1",
        "RecordType": "Location",
        "RecordID": "L3",
        "SyncType": "D",
        "StoreID": "STORE3",
    }

    body = sat.push([delete])

    assert (body["applied"], body["quarantined"]) == (0, 1)
    assert body["quarantinedRecords"][0]["SyncID"] == "s1"
    assert stored("Location", "L3") is not None
    assert other.count() == 0


BAD_RECORDS: dict[str, dict[str, Any]] = {
    "unknown-record-type": record("no_such_table", "X1", {"ID": "X1"}, sync_id="bad-type", store_id="STORE2"),
    "value-not-of-its-type": record(
        "Location", "L8", {"ID": "L8", "store_ID": "STORE2", "Volume": "large"}, sync_id="bad-value"
    ),
    "missing-record-id": {
        "SyncID": "bad-id",
        "RecordType": "Location",
        "SyncType": "U",
        "StoreID": "STORE2",
        "Data": {"ID": "L9", "store_ID": "STORE2"},
    },
    "store-of-another-site": location("L3", sync_id="bad-store", store="STORE3"),
    "central-item-from-a-satellite": record(
        "item", "I1", {"ID": "I1", "item_name": "x"}, sync_id="bad-central"
    ),
    "record-id-not-the-data-id": record(
        "Location", "L4", {"ID": "L5", "store_ID": "STORE2"}, sync_id="bad-key", store_id="STORE2"
    ),
    "unknown-sync-type": {**location("L6", sync_id="bad-sync-type"), "SyncType": "X"},
}


@pytest.mark.parametrize("case", list(BAD_RECORDS))
def test_a_bad_record_is_quarantined_with_a_reason_and_the_good_ones_are_applied(sat, other, case):
    bad = BAD_RECORDS[case]
    batch = [location("L1", sync_id="good-1"), bad, location("L2", sync_id="good-2")]

    body = sat.push(batch)

    assert body["error"] == ""
    assert body["applied"] == 2
    assert body["quarantined"] == 1
    [refused] = body["quarantinedRecords"]
    assert refused["SyncID"] == bad["SyncID"]
    assert isinstance(refused["reason"], str) and len(refused["reason"].split()) >= 2
    assert set(Record.objects.exclude(record_type_id="store").values_list("record_type", "record_id")) == {
        ("Location", "L1"),
        ("Location", "L2"),
    }
    assert other.count() == 0


@pytest.mark.parametrize("case", list(BAD_RECORDS))
def test_the_quarantine_keeps_the_raw_record_and_the_reason(sat, case):
    bad = BAD_RECORDS[case]

    body = sat.push([bad])

    row = QuarantinedRecord.objects.get(site_id=2, sync_id=bad["SyncID"])
    assert orjson.loads(row.raw) == bad
    assert row.reason == body["quarantinedRecords"][0]["reason"]
    assert row.status == QuarantinedRecord.Status.PENDING


def test_a_replayed_bad_record_is_not_quarantined_twice(sat):
    bad = BAD_RECORDS["unknown-record-type"]
    sat.push([bad])

    sat.push([bad])

    assert QuarantinedRecord.objects.filter(site_id=2, sync_id=bad["SyncID"]).count() == 1


@pytest.mark.parametrize("case", ["unknown-record-type", "missing-record-id", "store-of-another-site"])
def test_a_replay_after_a_lost_answer_is_told_the_record_is_still_quarantined(sat, case):
    """A client whose first answer was lost must not take the replay's answer as "applied"."""
    bad = BAD_RECORDS[case]
    first = sat.push([bad, location("L1", sync_id="s1")])

    replay = sat.push([bad, location("L1", sync_id="s1")])

    assert replay["quarantinedRecords"] == first["quarantinedRecords"]
    assert (replay["applied"], replay["duplicates"], replay["quarantined"]) == (0, 1, 1)


def test_a_replay_of_a_record_the_operator_resolved_is_a_plain_duplicate(sat):
    bad = BAD_RECORDS["unknown-record-type"]
    sat.push([bad])
    QuarantinedRecord.objects.filter(sync_id=bad["SyncID"]).update(status=QuarantinedRecord.Status.DISCARDED)

    replay = sat.push([bad])

    assert (replay["duplicates"], replay["quarantined"], replay["quarantinedRecords"]) == (1, 0, [])


GOOD_THEN_NUMBER = b"[" + orjson.dumps(location("L1", sync_id="s1")) + b", 1]"


@pytest.mark.parametrize(
    "body",
    [b"[1, 2]", b'"x"', b"{not json", b"", b"42", b"null", GOOD_THEN_NUMBER],
    ids=["numbers", "string", "invalid-json", "empty", "number", "null", "good-record-then-number"],
)
def test_a_body_that_is_not_an_array_of_objects_is_refused_whole_with_400(sat, body):
    json_error(sat.post("queued_records", body), 400)

    assert not Record.objects.exclude(record_type_id="store").exists()
    assert not QuarantinedRecord.objects.exists()


def test_a_refused_body_does_not_consume_its_sync_ids(sat):
    json_error(sat.post("queued_records", GOOD_THEN_NUMBER), 400)

    assert sat.push([location("L1", sync_id="s1")])["applied"] == 1


# Text that would break a hand-built SQL literal: quotes, backslashes, a statement separator, format
# markers, control characters, and characters outside the BMP.
AWKWARD_TEXTS = [
    'O\'Brien \\ "quoted" ; DROP TABLE records_record; --',
    "100% %s %(name)s {}",
    "line\nbreak\ttab\r\u0000nul\u001a",
    "naïve café ✓ 😀 中文",
    "",
]


def test_awkward_text_is_stored_and_delivered_exactly_as_pushed(sat, other):
    records = [
        name(f"N{i} {text[:40]}", text, sync_id=f"s{i}")
        | {"Data": {"ID": f"N{i} {text[:40]}", "name": text, "type": "patient"}}
        for i, text in enumerate(AWKWARD_TEXTS)
    ]

    assert sat.push(records)["applied"] == len(AWKWARD_TEXTS)

    for item in records:
        assert stored("name", item["RecordID"]) == item["Data"]
    pulled = {r["RecordID"]: r["data"] for r in other.pull()}
    assert pulled == {item["RecordID"]: wire_record("name", item["Data"]) for item in records}


def test_a_batch_larger_than_one_statement_is_written_whole(sat, other, monkeypatch):
    # A tiny statement size makes the write path split the batch (on MariaDB) as a large push would.
    monkeypatch.setattr("apps.lib.sql.MAX_STATEMENT_BYTES", 300)
    records = [name(f"N{i}", f"clinic {i}", sync_id=f"s{i}") for i in range(25)]

    with CaptureQueriesContext(connection) as captured:
        assert sat.push(records)["applied"] == 25

    upserts = [q for q in captured.captured_queries if "INSERT INTO records_record" in q["sql"]]
    if connection.vendor == "mysql":
        assert len(upserts) > 1
    else:  # SQLite binds the rows itself: one executemany whatever the size
        assert len(upserts) == 1
    assert sorted(r["RecordID"] for r in other.pull()) == sorted(f"N{i}" for i in range(25))
