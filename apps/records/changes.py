"""The one internal shape of a change, whatever wire format or tool it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson

Action = Literal["upsert", "delete", "merge"]


@dataclass
class Change:
    """An upsert, delete or merge of one record.

    `store_id` is the envelope's StoreID, used when the record itself does not name its store.
    `raw` is the text the change arrived as, kept for quarantine.
    """

    record_type: str
    record_id: str
    action: Action
    data: dict[str, Any] | None = None
    store_id: str = ""
    sync_id: str = ""
    merge_keep_id: str = ""
    raw: str = ""


@dataclass
class Refusal:
    change: Change
    reason: str


def wire_value(value: Any) -> str:
    """A value as the v2/v3 pull format carries it: always a string (the mobile app needs that)."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return orjson.dumps(value).decode()


def wire_data(data: dict[str, Any]) -> dict[str, str]:
    # Most values arrive as strings and most others as integers: both without a call (this runs for
    # every field pushed). bool is not `int` by type, so True still becomes "true".
    return {
        key: value if (kind := type(value)) is str else str(value) if kind is int else wire_value(value)
        for key, value in data.items()
    }
