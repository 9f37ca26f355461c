"""The one internal shape of a change, whatever wire format or tool it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

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
