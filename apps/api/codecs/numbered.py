"""The v1 wire format: records by table and field numbers (docs/protocol-v1.md).

In: `{"SyncID", "TableNumber", "RecordID", "KeyFieldID", "SyncType", "StoreID", "fields": [int...],
"values": [str...]}`; `fields` and `values` are parallel, deletes carry neither, merges carry
`mergeIDtokeep`/`mergeIDtodelete` as in v2. The numbers are translated through the record-type registry
into the same `Change` the v2/v3 codec produces, so both formats share one store and one queue.
Out: the same envelope, built from the stored `Record.wire` (already string-valued), with the fields in
field-number order.

Whatever cannot be translated becomes a `Refusal` whose reason names the offending number, so an
integrator can find it in the published schema (GET /sync/v1/schema).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import orjson

from apps.queue.selectors import QueuedRecord, QueuedRow
from apps.records.changes import Change, Refusal
from apps.records.fieldtypes import text_wire
from apps.records.registry import RecordTypeSpec, get_registry

from .common import SYNC_TYPES, refusal, split_decoded, text


def decode_records(items: list[dict[str, Any]]) -> tuple[list[Change], list[Refusal]]:
    return split_decoded(map(decode_record, items))


def _number(value: Any) -> int | None:
    """A table or field number: an int, or its decimal text (some clients quote every scalar)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    # ASCII digits only: str.isdigit() also accepts '²' and other digits int() cannot read.
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def _shown(item: dict[str, Any], key: str) -> str:
    """Why a number is unusable, quoting what was sent (as JSON, so 'null' and '"7a"' read right)."""
    if item.get(key) in (None, ""):
        return "is missing"
    return f"{orjson.dumps(item[key]).decode()} is not a whole number"


def decode_record(item: dict[str, Any]) -> Change | Refusal:
    known = {
        "sync_id": text(item.get("SyncID")),
        "record_type": "",
        "record_id": text(item.get("RecordID")),
        "store_id": text(item.get("StoreID")),
    }
    table_number = _number(item.get("TableNumber"))
    if table_number is None:
        return refusal(item, f"TableNumber {_shown(item, 'TableNumber')}", **known)
    spec = get_registry().by_number.get(table_number)
    if spec is None:
        return refusal(
            item, f"unknown TableNumber {table_number}: see GET /sync/v1/schema for the tables", **known
        )
    known["record_type"] = spec.name
    key_number = spec.fields[spec.key_field]

    sync_type = text(item.get("SyncType")).upper()
    action = SYNC_TYPES.get(sync_type)
    if action is None:
        return refusal(item, f"unknown SyncType '{sync_type}' (expected I, U, D or M)", **known)

    key_field_id = _number(item.get("KeyFieldID"))
    if key_field_id is None:
        return refusal(
            item,
            f"KeyFieldID {_shown(item, 'KeyFieldID')}: the key of {spec.name} "
            f"(table {table_number}) is field {key_number} ({spec.key_field})",
            **known,
        )
    if key_field_id != key_number:
        return refusal(
            item,
            f"KeyFieldID {key_field_id} is not the key of {spec.name} (table {table_number}): "
            f"its key is field {key_number} ({spec.key_field})",
            **known,
        )

    merge_keep = ""
    if action == "merge":
        merge_keep = text(item.get("mergeIDtokeep"))
        known["record_id"] = text(item.get("mergeIDtodelete")) or known["record_id"]
    if not known["record_id"]:
        return refusal(
            item,
            f"the record has no key: RecordID is empty (it is the value of field {key_number}, "
            f"{spec.key_field}, of table {table_number})",
            **known,
        )

    data: dict[str, Any] | None = None
    if action == "upsert":
        decoded = _decode_fields(item, spec, table_number, known["record_id"])
        if isinstance(decoded, str):
            return refusal(item, decoded, **known)
        data = decoded
    return Change(
        record_type=spec.name,
        record_id=known["record_id"],
        action=action,  # type: ignore[arg-type]
        data=data,
        store_id=known["store_id"],
        sync_id=known["sync_id"],
        merge_keep_id=merge_keep,
        raw=orjson.dumps(item).decode(),
    )


def _decode_fields(
    item: dict[str, Any], spec: RecordTypeSpec, table_number: int, record_id: str
) -> dict[str, Any] | str:
    """The record's data by field name, or why it cannot be read (a string naming the number)."""
    numbers = item.get("fields")
    values = item.get("values")
    if not isinstance(numbers, list) or not isinstance(values, list):
        return "an insert or update needs 'fields' and 'values' arrays"
    if len(numbers) != len(values):
        return (
            f"'fields' has {len(numbers)} entries but 'values' has {len(values)}: "
            "they must be parallel arrays of the same length"
        )
    data: dict[str, Any] = {}
    for position, (raw_number, value) in enumerate(zip(numbers, values, strict=True)):
        number = _number(raw_number)
        if number is None:
            return f"fields[{position}] = {orjson.dumps(raw_number).decode()} is not a field number"
        name = spec.field_names.get(number)
        if name is None:
            return f"unknown field number {number} in table {table_number} ({spec.name})"
        if name in data:
            return f"field number {number} ({name}) appears twice"
        if isinstance(value, dict | list):
            return f"the value of field {number} ({name}) is not a string"
        # Values travel as strings; a bare number, boolean or null is taken as the text the pull sends.
        data[name] = text_wire(value)
    key_number = spec.fields[spec.key_field]
    if spec.key_field in data:
        if data[spec.key_field] != record_id:
            return (
                f"RecordID '{record_id}' does not agree with the key field {key_number} "
                f"({spec.key_field}) = '{data[spec.key_field]}'"
            )
    else:
        # KeyFieldID + RecordID state the key field's value, so the record carries it like a v2 one.
        data[spec.key_field] = record_id
    return data


@functools.cache
def _key_number(record_type: str) -> tuple[int, int]:
    spec = get_registry().types[record_type]
    return spec.table_number, spec.fields[spec.key_field]


def encode_records(rows: Sequence[QueuedRow]) -> bytes:
    registry = get_registry()
    envelopes = []
    for row in map(QueuedRecord._make, rows):
        table_number, key_number = _key_number(row.record_type)
        envelope: dict[str, Any] = {
            "SyncID": str(row.sync_id),
            "TableNumber": table_number,
            "RecordID": row.record_id,
            "KeyFieldID": key_number,
            "SyncType": row.change_type,
            "StoreID": row.store_id,
        }
        if row.change_type == "M":
            envelope["mergeIDtokeep"] = row.merged_into
            envelope["mergeIDtodelete"] = row.record_id
        elif row.change_type != "D":
            numbers = registry.types[row.record_type].fields
            # The write path refuses names outside the registry and numbers are never withdrawn, so
            # every stored field has a number; the guard only keeps one odd row from failing a whole
            # pull. Field-number order makes the output stable.
            pairs = sorted(
                (numbers[name], value) for name, value in orjson.loads(row.wire).items() if name in numbers
            )
            envelope["fields"] = [number for number, _ in pairs]
            envelope["values"] = [value for _, value in pairs]
        envelopes.append(envelope)
    return orjson.dumps(envelopes)
