"""Turning a source's table into changes of one record type, with the schedule's column mapping.

Columns map to the registry's field names case-insensitively ("item_name" matches "Item_Name");
a column mapped to null is skipped; any other column that is not a field fails the run before
anything is written, so a typo in a header never loses data silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.records.changes import Change
from apps.records.registry import RecordTypeSpec, get_registry

from .sources import Table, Value

MAX_ID_LENGTH = 100


class MappingError(ValueError):
    """The table cannot be imported with this mapping; nothing is written."""


@dataclass
class RowRefusal:
    row: int  # 1-based, as a spreadsheet numbers data rows below the header
    record_id: str
    reason: str

    def text(self) -> str:
        where = [f"row {self.row}"] if self.row else []
        where += [self.record_id] if self.record_id else []
        return f"{' '.join(where)}: {self.reason}"


@dataclass
class MappedRows:
    """One upsert per record id (the last row wins), and the rows refused before the write path."""

    upserts: dict[str, dict[str, Value]] = field(default_factory=dict)
    row_of: dict[str, int] = field(default_factory=dict)
    refused: list[RowRefusal] = field(default_factory=list)


def record_type_spec(record_type: str) -> RecordTypeSpec:
    spec = get_registry().get(record_type)
    if spec is None:
        raise MappingError(f"'{record_type}' is not a record type of the registry.")
    return spec


def column_fields(
    *, spec: RecordTypeSpec, columns: list[str], mapping: dict[str, Any]
) -> dict[str, str | None]:
    """Each column's field (None: skipped), or a MappingError listing every column that fits nowhere."""
    lowered_mapping = {str(k).lower(): v for k, v in mapping.items()}
    result: dict[str, str | None] = {}
    problems: list[str] = []
    for column in columns:
        target = mapping.get(column, lowered_mapping.get(column.lower(), column))
        if target is None or target == "":
            result[column] = None
            continue
        name = spec.field_name(str(target))
        if name is None:
            problems.append(f"'{column}'" + (f" (mapped to '{target}')" if target != column else ""))
        result[column] = name
    if problems:
        raise MappingError(
            f"Column(s) {', '.join(problems)} are not fields of {spec.name}: map each to a field, "
            "or to null to skip it."
        )
    taken: dict[str, str] = {}
    for column, name in result.items():
        if name is not None and name in taken:
            raise MappingError(f"Columns '{taken[name]}' and '{column}' both go to the field {name}.")
        if name is not None:
            taken[name] = column
    return result


def key_column_of(
    *, spec: RecordTypeSpec, columns: list[str], key_column: str, fields: dict[str, str | None]
) -> str:
    if key_column:
        match = next((c for c in columns if c.lower() == key_column.lower()), None)
        if match is None:
            raise MappingError(f"The key column '{key_column}' is not in the source's columns.")
        return match
    match = next((c for c, f in fields.items() if f == spec.key_field), None)
    if match is None:
        raise MappingError(
            f"No column gives {spec.name}'s key field {spec.key_field}: add one, or set keyColumn."
        )
    return match


def map_rows(*, spec: RecordTypeSpec, table: Table, mapping: dict[str, Any], key_column: str) -> MappedRows:
    fields = column_fields(spec=spec, columns=table.columns, mapping=mapping)
    key = key_column_of(spec=spec, columns=table.columns, key_column=key_column, fields=fields)
    key_index = table.columns.index(key)
    pairs = [(i, name) for i, name in enumerate(fields.values()) if name is not None]
    mapped = MappedRows()
    for number, row in enumerate(table.rows, start=1):
        raw_id = row[key_index]
        record_id = "" if raw_id is None else str(raw_id).strip()
        if not record_id:
            mapped.refused.append(RowRefusal(number, "", f"the key column '{key}' is empty"))
            continue
        if len(record_id) > MAX_ID_LENGTH:
            mapped.refused.append(
                RowRefusal(number, record_id[:20] + "...", "the key is over 100 characters")
            )
            continue
        data = {name: row[i] for i, name in pairs}
        given = data.get(spec.key_field)
        if given is None or given == "" or str(given).strip() == record_id:
            # The key as text; a different one from another column is left for the write path to refuse.
            data[spec.key_field] = record_id
        mapped.upserts.pop(record_id, None)  # a repeated id: the last row wins, in its place
        mapped.upserts[record_id] = data
        mapped.row_of[record_id] = number
    return mapped


def overlay(existing: dict[str, Any] | None, imported: dict[str, Value]) -> dict[str, Any]:
    """The stored record with the imported fields on top: fields the source does not have are kept."""
    return {**(existing or {}), **imported}


def upsert_change(*, spec: RecordTypeSpec, record_id: str, data: dict[str, Any]) -> Change:
    return Change(record_type=spec.name, record_id=record_id, action="upsert", data=data)
