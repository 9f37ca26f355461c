"""What every wire format shares: reading a push body, and the envelope of a refused record."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from apps.records.changes import Change, Refusal

from ..errors import BadRequest

SYNC_TYPES = {"I": "upsert", "U": "upsert", "D": "delete", "M": "merge"}


def parse_push_body(body: bytes) -> list[dict[str, Any]]:
    """A JSON array of objects (or one object). Anything else is refused whole, before any change."""
    if not body.strip():
        raise BadRequest("The body is empty: send a JSON array of records.")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.") from exc
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise BadRequest("The body must be a JSON array of record objects.")
    for index, item in enumerate(document):
        if not isinstance(item, dict):
            raise BadRequest(f"Item {index} of the body is not a JSON object; nothing was applied.")
    return document


def split_decoded(decoded: Iterable[Change | Refusal]) -> tuple[list[Change], list[Refusal]]:
    """Changes to apply and records to quarantine, each in the order they were pushed."""
    changes: list[Change] = []
    refused: list[Refusal] = []
    for item in decoded:
        (refused if isinstance(item, Refusal) else changes).append(item)
    return changes, refused


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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
