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

REGISTRY_PATH = Path(settings.BASE_DIR) / "fixtures" / "registry.json"

Scope = Literal["central", "store", "transfer"]
SCOPES: tuple[Scope, ...] = ("central", "store", "transfer")


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
    transfer: TransferSpec | None = None
    field_names: dict[int, str] = field(default_factory=dict, compare=False)

    @property
    def is_central(self) -> bool:
        return self.scope == "central"


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
            transfer=_parse_transfer(entry.get("transfer")),
            field_names={number: name for name, number in fields.items()},
        )
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


@functools.cache
def get_registry() -> Registry:
    return parse_registry(REGISTRY_PATH.read_bytes())
