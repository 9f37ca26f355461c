"""The v2/v3 wire format: records with named fields.

In: `{"SyncID", "RecordType", "RecordID", "SyncType", "StoreID", "Data"|"data"}`, values strings or typed.
Out: the same keys with lowercase `data` whose values are all strings (encoded once per change and
stored as `Record.wire`, so a pull only splices it in).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from apps.queue.selectors import QueuedRow
from apps.records.changes import Change, Refusal

from .common import SYNC_TYPES, refusal, split_decoded, text


def decode_records(items: list[dict[str, Any]]) -> tuple[list[Change], list[Refusal]]:
    return split_decoded(map(decode_record, items))


def decode_record(item: dict[str, Any]) -> Change | Refusal:
    known = {
        "sync_id": text(item.get("SyncID")),
        "record_type": text(item.get("RecordType")),
        "record_id": text(item.get("RecordID")),
        "store_id": text(item.get("StoreID")),
    }
    sync_type = text(item.get("SyncType")).upper()
    action = SYNC_TYPES.get(sync_type)
    if action is None:
        return refusal(item, f"unknown SyncType '{sync_type}' (expected I, U, D or M)", **known)
    data = item.get("Data", item.get("data"))
    if isinstance(data, str) and action == "upsert":
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError:
            return refusal(item, "Data is a string that is not a JSON object", **known)
    if action == "upsert" and not isinstance(data, dict):
        return refusal(item, "an insert or update needs a Data object", **known)
    merge_keep = ""
    if action == "merge":
        merge_keep = text(item.get("mergeIDtokeep"))
        known["record_id"] = text(item.get("mergeIDtodelete")) or known["record_id"]
    return Change(
        record_type=known["record_type"],
        record_id=known["record_id"],
        action=action,  # type: ignore[arg-type]
        data=data if action == "upsert" else None,
        store_id=known["store_id"],
        sync_id=known["sync_id"],
        merge_keep_id=merge_keep,
        raw=orjson.dumps(item).decode(),
    )


def encode_records(rows: Sequence[QueuedRow]) -> bytes:
    """The pull body. Rows are unpacked by position: this loop runs for every record pulled."""
    envelopes = []
    for sync_id, record_type, record_id, change_type, store_id, wire, merged_into in rows:
        envelope: dict[str, Any] = {
            "SyncID": str(sync_id),
            "RecordType": record_type,
            "RecordID": record_id,
            "SyncType": change_type,
            "StoreID": store_id,
        }
        if change_type == "M":
            envelope["mergeIDtokeep"] = merged_into
            envelope["mergeIDtodelete"] = record_id
        elif change_type != "D":
            envelope["data"] = orjson.Fragment(wire)
        envelopes.append(envelope)
    return orjson.dumps(envelopes)
