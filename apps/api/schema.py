"""The published registry (GET /sync/v1/schema): how a v1 integrator maps numbers to names.

The registry is fixed for the life of a process, so the document is encoded once.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson

from apps.records.registry import Registry, get_registry

SCHEMA_FORMAT = 1


def schema_document(registry: Registry) -> dict[str, Any]:
    """Every table by number: its name, key field, routing scope and fields, all in number order."""
    tables = []
    for number in sorted(registry.by_number):
        spec = registry.by_number[number]
        tables.append(
            {
                "TableNumber": number,
                "name": spec.name,
                "KeyFieldID": spec.fields[spec.key_field],
                "key_field": spec.key_field,
                "scope": spec.scope,
                "fields": [
                    {"number": field_number, "name": spec.field_names[field_number]}
                    for field_number in sorted(spec.field_names)
                ],
            }
        )
    return {"error": "", "format": SCHEMA_FORMAT, "tables": tables}


@functools.cache
def schema_bytes() -> bytes:
    return orjson.dumps(schema_document(get_registry()))
