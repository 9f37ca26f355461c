"""Records for the benchmark, from the project's demo-data generator (apps/demo).

Generating each of 200 000 records from scratch would make seeding slow, so a pool of templates is
generated once per type and each record is a template with fresh ids: still mSupply-shaped, of the same
size and variety of values as the demo data.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import orjson

from apps.demo.generators import generate_item, generate_name, generate_trans_line
from apps.records.canonical import wire_record

TEMPLATES = 500


def new_id(rng: random.Random) -> str:
    return uuid.UUID(int=rng.getrandbits(128), version=4).hex.upper()


class Factory:
    def __init__(self, seed: int = 5) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        self.templates: dict[str, list[dict[str, Any]]] = {
            "item": [generate_item(rng, index=i) for i in range(TEMPLATES)],
            "name": [generate_name(rng) for _ in range(TEMPLATES)],
            "trans_line": [generate_trans_line(rng) for _ in range(TEMPLATES)],
        }

    def record(self, record_type: str) -> dict[str, Any]:
        data = dict(self.rng.choice(self.templates[record_type]))
        data["ID"] = new_id(self.rng)
        if record_type == "trans_line":
            data["transaction_ID"] = new_id(self.rng)
        return data

    def rows(self, record_types: list[str], count: int) -> Iterator[tuple[str, str, str, str]]:
        """(record_type, record_id, data JSON, wire JSON) for direct SQL inserts."""
        for i in range(count):
            record_type = record_types[i % len(record_types)]
            data = self.record(record_type)
            yield (
                record_type,
                data["ID"],
                orjson.dumps(data).decode(),
                orjson.dumps(wire_record(record_type, data)).decode(),
            )

    def push_batch(self, *, store_id: str, size: int) -> bytes:
        """A v3 push body: `size` new trans_line records of the store (~1.2 KB of JSON each)."""
        envelopes = []
        for _ in range(size):
            data = self.record("trans_line")
            envelopes.append(
                {
                    "SyncID": new_id(self.rng),
                    "RecordType": "trans_line",
                    "RecordID": data["ID"],
                    "SyncType": "I",
                    "StoreID": store_id,
                    "Data": data,
                }
            )
        return orjson.dumps(envelopes)
