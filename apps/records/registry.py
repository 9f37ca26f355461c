"""The record-type registry: what every legacy mSupply table is and how it travels.

`fixtures/registry.json` is the source of truth. It is read once per process into frozen objects for
the hot paths, and mirrored into the `RecordType` table (after every migrate) so that SQL can join on
scope and dump order and operators can read it in the admin. Table and field numbers are the v1 wire
format: once released they never change and are never reused (tests/records/test_registry.py holds
them to a snapshot).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import orjson
from django.conf import settings

from .fieldtypes import EMPTY_WIRE, FIELD_TYPES

REGISTRY_PATH = Path(settings.BASE_DIR) / "fixtures" / "registry.json"

Scope = Literal["central", "store", "transfer"]
SCOPES: tuple[Scope, ...] = ("central", "store", "transfer")
# Which existing records of a table a satellite may change, when it may write the table at all:
# "creator" only those it created; "visible" also those one of its stores can see (mobile_via).
SatelliteEdit = Literal["creator", "visible"]


@dataclass(frozen=True)
class TransferSpec:
    """A transfer rule of a document table (apps/records/transfers.py applies it).

    A document of `source_type` whose status reaches one of `release_statuses` and whose other party is
    another store's name gets, once, a `counterpart_type` document in that store (status
    `counterpart_status`) with copies of its `lines`.
    """

    rule: Literal["invoice", "requisition"]
    source_type: str
    counterpart_type: str
    release_statuses: frozenset[str]
    counterpart_status: str
    lines: str


@dataclass(frozen=True)
class RecordTypeSpec:
    name: str
    table_number: int
    key_field: str
    scope: Scope
    dump_order: int
    fields: dict[str, int]
    store_field: str | None = None
    transfer_field: str | None = None
    parent_type: str | None = None
    parent_field: str | None = None
    ref_field: str | None = None
    mobile_via: str | None = None
    mobile_match: Literal["id", "ref"] | None = None
    satellite_may_create: bool = False
    satellite_may_edit: SatelliteEdit = "creator"
    # Field values a record must have, before and after the change, for a satellite to write it
    # (e.g. only names of type patient).
    satellite_only_when: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    # The mobile app integrates this table: it is part of the mobile initial dump.
    mobile: bool = False
    field_types: dict[str, str] = field(default_factory=dict, compare=False)
    transfer: TransferSpec | None = None
    field_names: dict[int, str] = field(default_factory=dict, compare=False)
    # Field names by their lower case: clients spell them in any case; we keep the registry's spelling.
    names_by_lower: dict[str, str] = field(default_factory=dict, compare=False)
    # Every field's empty wire value, in field-number order: the skeleton of a whole record.
    empty_record: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def is_central(self) -> bool:
        return self.scope == "central"

    def field_name(self, name: str) -> str | None:
        """The registry's spelling of a field name given in any case; None for an unknown field."""
        if name in self.fields:
            return name
        return self.names_by_lower.get(name.lower())


@dataclass(frozen=True)
class Registry:
    types: dict[str, RecordTypeSpec]
    by_number: dict[int, RecordTypeSpec]

    def get(self, name: str) -> RecordTypeSpec | None:
        return self.types.get(name)

    def children_of(self, parent: str) -> list[RecordTypeSpec]:
        return [spec for spec in self.types.values() if spec.parent_type == parent]


class RegistryError(ValueError):
    pass


def parse_registry(raw: bytes) -> Registry:
    document = orjson.loads(raw)
    types: dict[str, RecordTypeSpec] = {}
    by_number: dict[int, RecordTypeSpec] = {}
    for entry in document["record_types"]:
        fields = {str(k): int(v) for k, v in entry["fields"].items()}
        field_types = {name: str(entry.get("field_types", {}).get(name, "text")) for name in fields}
        ordered = sorted(fields, key=fields.__getitem__)
        spec = RecordTypeSpec(
            name=entry["name"],
            table_number=int(entry["table_number"]),
            key_field=entry["key_field"],
            scope=entry["scope"],
            dump_order=int(entry["dump_order"]),
            fields=fields,
            store_field=entry.get("store_field"),
            transfer_field=entry.get("transfer_field"),
            parent_type=entry.get("parent_type"),
            parent_field=entry.get("parent_field"),
            ref_field=entry.get("ref_field"),
            mobile_via=entry.get("mobile_via"),
            mobile_match=entry.get("mobile_match"),
            satellite_may_create=bool(entry.get("satellite_may_create", False)),
            satellite_may_edit=entry.get("satellite_may_edit", "creator"),
            satellite_only_when={
                name: tuple(values) for name, values in (entry.get("satellite_only_when") or {}).items()
            },
            mobile=bool(entry.get("mobile", False)),
            field_types=field_types,
            transfer=_parse_transfer(entry.get("transfer")),
            field_names={number: name for name, number in fields.items()},
            names_by_lower={name.lower(): name for name in fields},
            empty_record={name: EMPTY_WIRE[field_types[name]] for name in ordered if name in field_types},
        )
        _check_types(spec, entry)
        _check_spec(spec, types, by_number)
        types[spec.name] = spec
        by_number[spec.table_number] = spec
    for spec in types.values():
        if spec.parent_type and spec.parent_type not in types:
            raise RegistryError(f"{spec.name}: parent type {spec.parent_type} is not in the registry")
        if spec.mobile_via and spec.mobile_via not in types:
            raise RegistryError(f"{spec.name}: mobile_via {spec.mobile_via} is not in the registry")
        if spec.transfer:
            lines = types.get(spec.transfer.lines)
            # Transfers find a line's document by its ref_id, which must therefore be the parent field.
            if lines is None or lines.parent_type != spec.name or lines.ref_field != lines.parent_field:
                raise RegistryError(
                    f"{spec.name}: transfer lines {spec.transfer.lines} must be its children, "
                    "with ref_field = parent_field"
                )
    return Registry(types=types, by_number=by_number)


def _parse_transfer(entry: dict | None) -> TransferSpec | None:
    if not entry:
        return None
    if entry.get("rule") not in ("invoice", "requisition"):
        raise RegistryError(f"unknown transfer rule {entry.get('rule')!r}")
    return TransferSpec(
        rule=entry["rule"],
        source_type=entry["source_type"],
        counterpart_type=entry["counterpart_type"],
        release_statuses=frozenset(entry["release_statuses"]),
        counterpart_status=entry["counterpart_status"],
        lines=entry["lines"],
    )


def _check_spec(
    spec: RecordTypeSpec, types: dict[str, RecordTypeSpec], by_number: dict[int, RecordTypeSpec]
) -> None:
    if spec.name in types:
        raise RegistryError(f"record type {spec.name} appears twice")
    if spec.table_number in by_number:
        raise RegistryError(f"table number {spec.table_number} is used by two record types")
    if spec.scope not in SCOPES:
        raise RegistryError(f"{spec.name}: unknown scope {spec.scope!r}")
    if len(set(spec.fields.values())) != len(spec.fields):
        raise RegistryError(f"{spec.name}: two fields share a number")
    for attribute in ("key_field", "store_field", "transfer_field", "parent_field", "ref_field"):
        name = getattr(spec, attribute)
        if name and name not in spec.fields:
            raise RegistryError(f"{spec.name}: {attribute} {name} is not one of its fields")
    if spec.scope != "central" and not (spec.store_field or spec.parent_type):
        raise RegistryError(f"{spec.name}: store data needs a store_field or a parent_type")
    if len(spec.names_by_lower) != len(spec.fields):
        raise RegistryError(f"{spec.name}: two fields differ only in case; field names match in any case")
    if spec.satellite_may_edit not in ("creator", "visible"):
        raise RegistryError(f"{spec.name}: satellite_may_edit must be 'creator' or 'visible'")
    if spec.satellite_may_edit == "visible" and not spec.mobile_via:
        raise RegistryError(f"{spec.name}: satellite_may_edit 'visible' needs mobile_via")
    for name in spec.satellite_only_when:
        if name not in spec.fields:
            raise RegistryError(f"{spec.name}: satellite_only_when names {name}, not one of its fields")


def _check_types(spec: RecordTypeSpec, entry: dict) -> None:
    for name, kind in (entry.get("field_types") or {}).items():
        if name not in spec.fields:
            raise RegistryError(f"{spec.name}: field_types names {name}, not one of its fields")
        if kind not in FIELD_TYPES:
            raise RegistryError(f"{spec.name}.{name}: unknown field type {kind!r} (one of {FIELD_TYPES})")


# Operators' own tables are numbered from here, so a standard table added later never collides.
EXTENSION_FIRST_TABLE_NUMBER = 1000


def extension_path() -> Path | None:
    """The operator's registry extension (SYNC_REGISTRY_EXTENSION), relative paths from BASE_DIR."""
    configured = str(getattr(settings, "SYNC_REGISTRY_EXTENSION", "") or "").strip()
    if not configured:
        return None
    path = Path(configured)
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def registry_document_bytes() -> bytes:
    """The standard tables, followed by the operator's own tables from the extension file, if any.

    The extension has the registry's format (`{"record_types": [...]}`); its tables are checked like
    the standard ones, and must be numbered from EXTENSION_FIRST_TABLE_NUMBER.
    """
    base = REGISTRY_PATH.read_bytes()
    path = extension_path()
    if path is None:
        return base
    try:
        extension = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise RegistryError(f"registry extension {path}: cannot be read as JSON ({exc})") from exc
    entries = extension.get("record_types") if isinstance(extension, dict) else None
    if not isinstance(entries, list):
        raise RegistryError(f'registry extension {path}: expected {{"record_types": [...]}}')
    for entry in entries:
        number = entry.get("table_number") if isinstance(entry, dict) else None
        if not isinstance(number, int) or number < EXTENSION_FIRST_TABLE_NUMBER:
            name = entry.get("name") if isinstance(entry, dict) else entry
            raise RegistryError(
                f"registry extension {path}: table {name} needs a table_number of "
                f"{EXTENSION_FIRST_TABLE_NUMBER} or more (lower numbers are kept for mSupply's tables)"
            )
    document = orjson.loads(base)
    document["record_types"] = [*document["record_types"], *entries]
    return orjson.dumps(document)


@functools.cache
def get_registry() -> Registry:
    return parse_registry(registry_document_bytes())
