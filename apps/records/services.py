"""Writing records into the central store: validation, ownership, and set-based upserts.

`write_records` is the single write path: sync pushes, `loadrecords` and the admin all go through it
(via apps.queue.services, which adds the fan-out). It runs inside the caller's transaction and does a
bounded number of queries whatever the batch size: one locking read per record type in the batch, one
read of parents per parent type, one bulk insert, one bulk update.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from django.utils import timezone

from apps.sites.models import PRIMARY_SITE_ID, Store

from .changes import Change, Refusal, wire_data
from .models import Record
from .registry import RecordTypeSpec, Registry, get_registry
from .sql import max_row_bytes, sql_text_bytes
from .storage import StoredRecord, lock_existing, upsert

MAX_ID_LENGTH = 100


@dataclass
class WriteResult:
    written_pks: list[int] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    refused: list[Refusal] = field(default_factory=list)
    applied_changes: list[Change] = field(default_factory=list)


def validate_change(change: Change, registry: Registry) -> str | None:
    """Why the change cannot be applied, in words; None when it is well formed."""
    spec = registry.get(change.record_type)
    if spec is None:
        return f"unknown record type '{change.record_type}'"
    if not isinstance(change.record_id, str) or not change.record_id:
        return "the record has no RecordID"
    if len(change.record_id) > MAX_ID_LENGTH:
        return f"RecordID is longer than {MAX_ID_LENGTH} characters"
    if change.action == "merge":
        if not change.merge_keep_id:
            return "a merge needs mergeIDtokeep and mergeIDtodelete"
        return None
    if change.action == "delete":
        return None
    if not isinstance(change.data, dict):
        return "an insert or update needs a data object"
    unknown = [name for name in change.data if name not in spec.fields]
    if unknown:
        return f"unknown field(s) of {spec.name}: {', '.join(sorted(unknown)[:10])}"
    key = change.data.get(spec.key_field)
    if key is not None and str(key) != change.record_id:
        return f"RecordID '{change.record_id}' does not match {spec.key_field} '{key}' in the data"
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    # A number or a structure where an id belongs: its JSON text, never Python's repr.
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def write_records(
    *,
    changes: Iterable[Change],
    source_site_id: int,
    owner_store_ids: set[str] | None = None,
    now: datetime | None = None,
) -> WriteResult:
    """Apply changes to the central store.

    `owner_store_ids` is the set of stores active on the pushing site; None means the primary itself is
    writing (admin, loadrecords), which may change anything. Must run inside a transaction.
    """
    registry = get_registry()
    now = now or timezone.now()
    result = WriteResult()

    latest: dict[tuple[str, str], Change] = {}
    for change in changes:
        reason = validate_change(change, registry)
        if reason:
            result.refused.append(Refusal(change, reason))
            continue
        # The same record twice in one batch: the later change wins, as if applied in order.
        latest.pop((change.record_type, change.record_id), None)
        latest[(change.record_type, change.record_id)] = change
    if not latest:
        return result

    existing = lock_existing(latest.keys())
    parents = _load_parents(latest.values(), registry)

    to_write: list[StoredRecord] = []
    changed_transfers: list[StoredRecord] = []
    for key, change in latest.items():
        spec = registry.types[change.record_type]
        current = existing.get(key)
        # Who owns the record is decided on what is stored, before the change touches `record`
        # (which is the same object as `current`).
        stored = _StoredOwnership(current.store_id, current.created_by_site_id) if current else None
        record = current or StoredRecord(
            record_type=spec.name, record_id=change.record_id, created_by_site_id=source_site_id
        )
        was_live = current is not None and not current.is_deleted
        old_transfer = current.transfer_name_id if current else ""
        if change.action == "upsert":
            _fill_upsert(record, change, spec, parents)
            refusal = _ownership_refusal(record, stored, spec, source_site_id, owner_store_ids)
            if refusal:
                result.refused.append(Refusal(change, refusal))
                continue
            data_text = orjson.dumps(change.data).decode()
            if was_live and record.data == data_text:
                result.unchanged += 1
                result.applied_changes.append(change)
                continue
            wire_text = orjson.dumps(wire_data(change.data or {})).decode()
            refusal = _too_large(spec, data_text, wire_text)
            if refusal:
                result.refused.append(Refusal(change, refusal))
                continue
            record.data = data_text
            record.wire = wire_text
            record.change_type = Record.ChangeType.UPDATE if was_live else Record.ChangeType.INSERT
            record.is_deleted = False
            record.merged_into = ""
        else:
            if not was_live:
                # Nothing to delete: applied, and nobody needs telling.
                result.unchanged += 1
                result.applied_changes.append(change)
                continue
            refusal = _ownership_refusal(record, stored, spec, source_site_id, owner_store_ids)
            if refusal:
                result.refused.append(Refusal(change, refusal))
                continue
            merge = change.action == "merge"
            record.is_deleted = True
            record.change_type = Record.ChangeType.MERGE if merge else Record.ChangeType.DELETE
            record.merged_into = change.merge_keep_id if merge else ""
        record.source_site_id = source_site_id
        record.modified_at = now
        result.applied_changes.append(change)
        to_write.append(record)
        if current is None:
            result.added += 1
        elif record.is_deleted:
            result.deleted += 1
        else:
            result.updated += 1
        if spec.scope == "transfer" and record.transfer_name_id != old_transfer:
            changed_transfers.append(record)

    upsert(to_write)
    result.written_pks = [r.pk for r in to_write if r.pk is not None]
    result.written_pks += _cascade_transfer_to_children(changed_transfers, registry)
    return result


@dataclass(frozen=True)
class _StoredOwnership:
    store_id: str
    created_by_site_id: int


@dataclass(frozen=True)
class ParentInfo:
    store_id: str
    transfer_name_id: str


def _load_parents(changes: Iterable[Change], registry: Registry) -> dict[tuple[str, str], ParentInfo]:
    """Store and transfer party of the parents (a transact for its lines) that the batch refers to.

    A parent in the same batch wins over its stored state, so header and lines pushed together route
    together.
    """
    wanted: dict[str, set[str]] = defaultdict(set)
    in_batch: dict[tuple[str, str], ParentInfo] = {}
    changes = list(changes)
    for change in changes:
        spec = registry.types[change.record_type]
        if spec.parent_type and change.data and spec.parent_field:
            parent_id = _text(change.data.get(spec.parent_field))
            if parent_id:
                wanted[spec.parent_type].add(parent_id)
    for change in changes:
        spec = registry.types[change.record_type]
        if change.action == "upsert" and change.data and change.record_id in wanted.get(spec.name, ()):
            in_batch[(spec.name, change.record_id)] = ParentInfo(
                store_id=_text(change.data.get(spec.store_field)) if spec.store_field else change.store_id,
                transfer_name_id=_text(change.data.get(spec.transfer_field)) if spec.transfer_field else "",
            )
    parents: dict[tuple[str, str], ParentInfo] = {}
    for parent_type, ids in wanted.items():
        missing = sorted(i for i in ids if (parent_type, i) not in in_batch)
        if missing:
            rows = Record.objects.filter(record_type_id=parent_type, record_id__in=missing).values_list(
                "record_id", "store_id", "transfer_name_id"
            )
            for record_id, store_id, transfer_name_id in rows:
                parents[(parent_type, record_id)] = ParentInfo(store_id, transfer_name_id)
    parents.update(in_batch)
    return parents


def _fill_upsert(
    record: StoredRecord, change: Change, spec: RecordTypeSpec, parents: dict[tuple[str, str], ParentInfo]
) -> None:
    data = change.data or {}
    parent = None
    if spec.parent_type and spec.parent_field:
        parent = parents.get((spec.parent_type, _text(data.get(spec.parent_field))))
    if spec.is_central:
        record.store_id = ""
    elif spec.store_field and _text(data.get(spec.store_field)):
        record.store_id = _text(data.get(spec.store_field))
    elif parent and parent.store_id:
        record.store_id = parent.store_id
    else:
        record.store_id = change.store_id or record.store_id or ""
    record.ref_id = _text(data.get(spec.ref_field)) if spec.ref_field else ""
    if spec.transfer_field:
        record.transfer_name_id = _text(data.get(spec.transfer_field))
    elif parent:
        record.transfer_name_id = parent.transfer_name_id
    for attribute in ("store_id", "ref_id", "transfer_name_id"):
        setattr(record, attribute, getattr(record, attribute)[:MAX_ID_LENGTH])


def _ownership_refusal(
    record: StoredRecord,
    stored: _StoredOwnership | None,
    spec: RecordTypeSpec,
    source_site_id: int,
    owner_store_ids: set[str] | None,
) -> str | None:
    """Why the pushing site may not make this change; None when it may (or the primary is writing).

    `record` is the record as the change would leave it; `stored` is what was there before it.
    """
    if owner_store_ids is None or source_site_id == PRIMARY_SITE_ID:
        return None
    if spec.is_central:
        if not spec.satellite_may_create:
            return f"{spec.name} is central data, edited on the primary only"
        if stored is not None and stored.created_by_site_id != source_site_id:
            return f"this {spec.name} was created by another site; only its creator may change it"
        return None
    if not record.store_id:
        return f"the {spec.name} record names no store (set {spec.store_field or 'StoreID'})"
    if record.store_id not in owner_store_ids:
        return f"store {record.store_id} is not active on this site"
    if stored is not None and stored.store_id and stored.store_id not in owner_store_ids:
        return f"the record belongs to store {stored.store_id}, which is not active on this site"
    return None


def _too_large(spec: RecordTypeSpec, data_text: str, wire_text: str) -> str | None:
    """Why the record cannot go to the database in one statement; checked before it is sent."""
    size = sql_text_bytes(data_text, wire_text)
    limit = max_row_bytes(size)
    if size <= limit:
        return None
    return (
        f"the {spec.name} record takes {size} bytes in SQL and the database accepts at most {limit} in one "
        "statement (max_allowed_packet, SYNC_MAX_RECORD_BYTES): shorten its largest fields"
    )


def _cascade_transfer_to_children(parents: list[StoredRecord], registry: Registry) -> list[int]:
    """When a transfer gets (or changes) its other party, its lines must follow it there."""
    if not parents:
        return []
    pks: list[int] = []
    by_target: dict[tuple[str, str], list[str]] = defaultdict(list)
    for parent in parents:
        for child in registry.children_of(parent.record_type):
            by_target[(child.name, parent.transfer_name_id)].append(parent.record_id)
    for (child_type, transfer_name_id), parent_ids in by_target.items():
        children = Record.objects.filter(record_type_id=child_type, ref_id__in=parent_ids).exclude(
            transfer_name_id=transfer_name_id
        )
        child_pks = list(children.values_list("pk", flat=True))
        if child_pks:
            Record.objects.filter(pk__in=child_pks).update(transfer_name_id=transfer_name_id)
            pks.extend(child_pks)
    return pks


def store_ids_of_site(site_id: int) -> set[str]:
    return set(Store.objects.filter(site_id=site_id).values_list("pk", flat=True))
