"""A record's fields in the registry's spelling and their types' canonical text.

Clients spell field names in any case (the mobile app sends `id` for the name table's `ID` and
`medicine_administrator_id` for `medicine_administrator_ID`) and values in many forms. The write path
reads every field through here, so routing, ownership and the stored wire form see one spelling and one
form. Fields the registry does not know are kept as received: they travel on v2/v3 pulls unchanged and
are listed for the operator (`UnknownField`), but v1 cannot number them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from .fieldtypes import InvalidValue, text_wire, to_wire
from .registry import RecordTypeSpec, get_registry


@dataclass(slots=True)
class CanonicalRecord:
    """`values`: known fields (registry spelling) as canonical text; `unknown`: the rest, as text."""

    values: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)

    def get(self, name: str | None) -> str:
        return self.values.get(name, "") if name else ""

    def whole_wire(self, spec: RecordTypeSpec) -> dict[str, str]:
        """Every field of the table, the empty value of its type where none was given, then the
        unknown fields: what v2/v3 pulls send, so a client always receives a complete record."""
        return {**spec.empty_record, **self.values, **self.unknown}

    def wire_text(self, spec: RecordTypeSpec) -> str:
        return orjson.dumps(self.whole_wire(spec)).decode()


class FieldError(ValueError):
    """Why a record's fields cannot be read, in words naming the field."""


def canonicalise(spec: RecordTypeSpec, data: dict[str, Any]) -> CanonicalRecord:
    record = CanonicalRecord()
    given_as: dict[str, str] = {}
    types = spec.field_types
    for key, value in data.items():
        name = spec.field_name(key)
        if name is None:
            record.unknown[key] = text_wire(value)
            continue
        kind = types[name]
        try:
            # Text arrives as a string almost always: no call for it (this runs for every field pushed).
            text = value if kind == "text" and type(value) is str else to_wire(kind, value)
        except InvalidValue as error:
            shown = orjson.dumps(value).decode()[:80]
            raise FieldError(f"{spec.name}.{name}: {shown} is not {error}") from None
        if name in record.values and record.values[name] != text:
            raise FieldError(
                f"{spec.name}.{name} is given twice with different values (as {given_as[name]!r} and {key!r})"
            )
        record.values[name] = text
        given_as[name] = key
    return record


def read_wire(wire: str) -> dict[str, str]:
    """A stored record's wire text as a dict (empty for a deleted record)."""
    return orjson.loads(wire) if wire else {}


def wire_record(record_type: str, data: dict[str, Any]) -> dict[str, str]:
    """The whole record a pull sends for these fields (tests, seeding and benchmarks build it so)."""
    spec = get_registry().types[record_type]
    return canonicalise(spec, data).whole_wire(spec)
