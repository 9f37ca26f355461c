"""What every wire format shares: reading a push or an acknowledge body, and the envelope of a refused
record."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from apps.records.changes import Change, Refusal

from ..errors import BadRequest

SYNC_TYPES = {"I": "upsert", "U": "upsert", "D": "delete", "M": "merge"}
# Deepest nesting of arrays and objects a body may have. Records are flat: a field's value may be a small
# JSON document, never hundreds of levels (which the JSON writer refuses past 254, after the reader
# accepted up to 1024).
MAX_JSON_DEPTH = 64


def load_json(body: bytes) -> Any:
    """Parse a body, refusing invalid JSON and nesting deeper than MAX_JSON_DEPTH with words."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.") from exc
    if nested_deeper_than(document, MAX_JSON_DEPTH):
        raise BadRequest(
            f"The body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels; nothing was applied."
        )
    return document


def nested_deeper_than(document: Any, limit: int) -> bool:
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def parse_push_body(body: bytes) -> list[dict[str, Any]]:
    """A JSON array of objects (or one object). Anything else is refused whole, before any change."""
    if not body.strip():
        raise BadRequest("The body is empty: send a JSON array of records.")
    document = load_json(body)
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise BadRequest("The body must be a JSON array of record objects.")
    for index, item in enumerate(document):
        if not isinstance(item, dict):
            raise BadRequest(f"Item {index} of the body is not a JSON object; nothing was applied.")
    return document


def parse_ack_body(body: bytes) -> list[str]:
    if not body.strip():
        return []
    document = load_json(body)
    if isinstance(document, dict):
        for key in ("SyncRecordIDs", "syncIDs", "SyncIDs"):
            if key in document:
                document = document[key]
                break
        else:
            raise BadRequest('Send the SyncIDs as an array, or as {"SyncRecordIDs": [...]}.')
    if not isinstance(document, list) or not all(isinstance(i, str | int) for i in document):
        raise BadRequest("The SyncIDs must be an array of strings.")
    return [str(i) for i in document]


def split_decoded(decoded: Iterable[Change | Refusal]) -> tuple[list[Change], list[Refusal]]:
    """Changes to apply and records to quarantine, each in the order they were pushed."""
    changes: list[Change] = []
    refused: list[Refusal] = []
    for item in decoded:
        if isinstance(item, Refusal):
            refused.append(item)
        else:
            changes.append(item)
    return changes, refused


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    # A number or a structure where an id belongs: its JSON text, never Python's repr.
    return orjson.dumps(value).decode()


def refusal(item: dict[str, Any], reason: str, **known: str) -> Refusal:
    change = Change(
        record_type=known.get("record_type", ""),
        record_id=known.get("record_id", ""),
        action="upsert",
        sync_id=known.get("sync_id", ""),
        store_id=known.get("store_id", ""),
        raw=orjson.dumps(item).decode(),
    )
    return Refusal(change, reason)
