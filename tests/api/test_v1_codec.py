"""The v1 codec on its own: field numbers in, the same Change as the v2/v3 codec; and back out.

The HTTP behaviour (quarantine, routing, auth) is in test_v1_endpoints.py; these pin down the
translation rules and the words of every refusal, which name the offending number.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from apps.api.codecs import named, numbered
from apps.queue.selectors import QueuedRecord
from apps.records.changes import Change, Refusal
from apps.records.registry import get_registry

UNIT = get_registry().types["unit"]  # ID 1, units 2, comment 3, order_number 4
UNIT_NUMBER = UNIT.table_number
ID, UNITS, COMMENT, ORDER = (UNIT.fields[n] for n in ("ID", "units", "comment", "order_number"))


def v1(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "SyncID": "s1",
        "TableNumber": UNIT_NUMBER,
        "RecordID": "U1",
        "KeyFieldID": ID,
        "SyncType": "U",
        "StoreID": "",
        "fields": [ID, UNITS, COMMENT],
        "values": ["U1", "tab", ""],
    }
    item.update(overrides)
    return item


def decoded(item: dict[str, Any]) -> Change:
    result = numbered.decode_record(item)
    assert isinstance(result, Change), result
    return result


def refused(item: dict[str, Any]) -> Refusal:
    result = numbered.decode_record(item)
    assert isinstance(result, Refusal), result
    return result


def comparable(change: Change) -> tuple[Any, ...]:
    return (change.record_type, change.record_id, change.action, change.data, change.store_id, change.sync_id)


def test_an_upsert_decodes_to_the_same_change_as_the_named_codec() -> None:
    by_name = named.decode_record(
        {
            "SyncID": "s1",
            "RecordType": "unit",
            "RecordID": "U1",
            "SyncType": "U",
            "StoreID": "",
            "Data": {"ID": "U1", "units": "tab", "comment": ""},
        }
    )
    assert isinstance(by_name, Change)
    change = decoded(v1())
    assert comparable(change) == comparable(by_name)
    assert orjson.loads(change.raw) == v1()


def test_numbers_sent_as_text_are_read_as_numbers() -> None:
    item = v1(
        TableNumber=str(UNIT_NUMBER), KeyFieldID=str(ID), fields=[str(ID), str(UNITS)], values=["U1", "tab"]
    )
    change = decoded(item)
    assert change.record_type == "unit"
    assert change.data == {"ID": "U1", "units": "tab"}


def test_the_key_field_is_filled_from_the_record_id_when_the_fields_leave_it_out() -> None:
    change = decoded(v1(fields=[UNITS], values=["box"]))
    assert change.data == {"units": "box", "ID": "U1"}


def test_scalar_values_are_taken_as_the_text_a_pull_would_send() -> None:
    change = decoded(v1(fields=[ID, UNITS, COMMENT, ORDER], values=["U1", True, None, 7]))
    assert change.data == {"ID": "U1", "units": "true", "comment": "", "order_number": "7"}


def test_a_delete_carries_no_data_and_ignores_stray_fields() -> None:
    change = decoded(v1(SyncType="D", fields=[99], values=[]))
    assert (change.action, change.record_id, change.data) == ("delete", "U1", None)


def test_a_merge_names_the_record_merged_away_and_the_one_kept() -> None:
    item = v1(SyncType="M", mergeIDtokeep="U2", mergeIDtodelete="U1", RecordID="U1")
    del item["fields"], item["values"]
    change = decoded(item)
    assert (change.action, change.record_id, change.merge_keep_id) == ("merge", "U1", "U2")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"TableNumber": 999}, "unknown TableNumber 999"),
        ({"TableNumber": None}, "TableNumber is missing"),
        ({"TableNumber": "item"}, 'TableNumber "item" is not a whole number'),
        (
            {"fields": [ID, 77], "values": ["U1", "x"]},
            f"unknown field number 77 in table {UNIT_NUMBER} (unit)",
        ),
        ({"fields": [ID, UNITS], "values": ["U1"]}, "'fields' has 2 entries but 'values' has 1"),
        ({"fields": None}, "needs 'fields' and 'values' arrays"),
        ({"values": "U1"}, "needs 'fields' and 'values' arrays"),
        ({"fields": [ID, "two"], "values": ["U1", "x"]}, 'fields[1] = "two" is not a field number'),
        ({"fields": [ID, True], "values": ["U1", "x"]}, "fields[1] = true is not a field number"),
        ({"fields": [ID, UNITS, UNITS], "values": ["U1", "a", "b"]}, f"field number {UNITS} (units) appears"),
        ({"fields": [ID, UNITS], "values": ["U1", {"a": 1}]}, f"the value of field {UNITS} (units) is not"),
        ({"KeyFieldID": None}, f"KeyFieldID is missing: the key of unit (table {UNIT_NUMBER}) is field {ID}"),
        (
            {"KeyFieldID": "ID"},
            f'KeyFieldID "ID" is not a whole number: the key of unit (table {UNIT_NUMBER})',
        ),
        ({"KeyFieldID": UNITS}, f"KeyFieldID {UNITS} is not the key of unit (table {UNIT_NUMBER})"),
        ({"RecordID": ""}, f"the record has no key: RecordID is empty (it is the value of field {ID}, ID"),
        ({"RecordID": "U2"}, f"RecordID 'U2' does not agree with the key field {ID} (ID) = 'U1'"),
        ({"SyncType": "X"}, "unknown SyncType 'X'"),
    ],
)
def test_an_unreadable_record_is_refused_with_a_reason_that_names_the_culprit(
    overrides: dict[str, Any], reason: str
) -> None:
    item = v1(**overrides)
    refusal = refused(item)
    assert reason in refusal.reason
    # Quarantine keeps the record as sent, so an operator can fix and replay it.
    assert orjson.loads(refusal.change.raw) == item
    assert refusal.change.sync_id == "s1"


def test_a_refusal_names_the_record_type_once_the_table_is_known() -> None:
    assert refused(v1(fields=[77], values=["x"])).change.record_type == "unit"
    assert refused(v1(TableNumber=999)).change.record_type == ""


def test_a_delete_needs_a_key_too() -> None:
    assert "KeyFieldID 2 is not the key" in refused(v1(SyncType="D", KeyFieldID=UNITS)).reason
    assert "the record has no key" in refused(v1(SyncType="D", RecordID="")).reason


def test_a_batch_is_split_into_changes_and_refusals_in_order() -> None:
    changes, refusals = numbered.decode_records(
        [
            v1(SyncID="a"),
            v1(SyncID="b", TableNumber=999),
            v1(SyncID="c", RecordID="U3", values=["U3", "", ""]),
        ]
    )
    assert [c.sync_id for c in changes] == ["a", "c"]
    assert [r.change.sync_id for r in refusals] == ["b"]


def queued(change_type: str, wire: dict[str, str], merged_into: str = "") -> QueuedRecord:
    return QueuedRecord(
        sync_id=41,
        record_type="unit",
        record_id="U1",
        change_type=change_type,
        store_id="",
        wire=orjson.dumps(wire).decode(),
        merged_into=merged_into,
    )


def test_a_pulled_record_carries_its_fields_in_number_order_with_string_values() -> None:
    row = queued("U", {"order_number": "3", "units": "tab", "ID": "U1", "comment": ""})
    assert orjson.loads(numbered.encode_records([row])) == [
        {
            "SyncID": "41",
            "TableNumber": UNIT_NUMBER,
            "RecordID": "U1",
            "KeyFieldID": ID,
            "SyncType": "U",
            "StoreID": "",
            "fields": [ID, UNITS, COMMENT, ORDER],
            "values": ["U1", "tab", "", "3"],
        }
    ]


def test_a_pulled_delete_has_no_fields_and_a_merge_names_both_records() -> None:
    deleted, merged = orjson.loads(
        numbered.encode_records([queued("D", {"ID": "U1"}), queued("M", {"ID": "U1"}, merged_into="U2")])
    )
    assert "fields" not in deleted and "values" not in deleted
    assert (deleted["SyncType"], deleted["KeyFieldID"]) == ("D", ID)
    assert "fields" not in merged
    assert (merged["mergeIDtokeep"], merged["mergeIDtodelete"]) == ("U2", "U1")


def test_what_is_pulled_decodes_back_to_the_same_data() -> None:
    wire = {"ID": "U1", "units": "tab", "comment": "é ✓", "order_number": "2"}
    [envelope] = orjson.loads(numbered.encode_records([queued("I", wire)]))
    assert decoded(envelope).data == wire
