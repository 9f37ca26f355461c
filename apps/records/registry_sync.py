"""Mirror the registry file into the RecordType table, so SQL can join on scope and dump order."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .registry import Registry, get_registry


def sync_registry(registry: Registry | None = None) -> int:
    """Insert or update a RecordType row per registry entry; returns how many rows changed."""
    from .models import RecordType

    registry = registry or get_registry()
    existing = {row.name: row for row in RecordType.objects.all()}
    changed = 0
    with transaction.atomic():
        for spec in registry.types.values():
            values = {
                "table_number": spec.table_number,
                "scope": spec.scope,
                "dump_order": spec.dump_order,
                "key_field": spec.key_field,
                "store_field": spec.store_field or "",
                "parent_type": spec.parent_type or "",
                "mobile_via": spec.mobile_via or "",
                "mobile_match": spec.mobile_match or "",
                "mobile": spec.mobile,
                "field_count": len(spec.fields),
            }
            row = existing.get(spec.name)
            if row is None:
                RecordType.objects.create(name=spec.name, **values)
                changed += 1
            elif any(getattr(row, key) != value for key, value in values.items()):
                RecordType.objects.filter(pk=spec.name).update(**values)
                changed += 1
    return changed


def sync_registry_after_migrate(**kwargs: Any) -> None:
    sync_registry()
