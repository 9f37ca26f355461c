"""Writing records into the central store: validation, ownership, and set-based upserts.

`records_write` is the single write path: sync pushes, `loadrecords` and the admin all go through it
(via apps.queue.services, which adds the fan-out). It runs inside the caller's transaction and does a
bounded number of queries whatever the batch size: one locking read per record type in the batch, one
read of parents per parent type, one visibility read per join table, one bulk upsert.

A record is stored twice on purpose: `data` exactly as the client sent it (keys as spelled, values as
typed), and `wire`, its canonical form (apps.records.canonical): every field of the table in the
registry's spelling and its type's canonical text. Pulls, routing and ownership read the canonical form.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from django.utils import timezone

from apps.lib.sql import conflict_target, max_row_bytes, sql_text_bytes
from apps.sites.models import PRIMARY_SITE_ID, Store

from .canonical import CanonicalRecord, FieldError, canonicalise
from .changes import Change, Refusal
from .models import Record, UnknownField
from .ownership import OwnershipGuard, StoredState
from .registry import RecordTypeSpec, Registry, get_registry
from .storage import StoredRecord, lock_existing, upsert
from .stores import STORE_RECORD_TYPE, satellite_site_ids, store_record_refusal, update_stores
from .transfers import transfer_changes

logger = logging.getLogger(__name__)

MAX_ID_LENGTH = 100
# Called with the rows of every write, inside its transaction; other apps register here (their
# AppConfig.ready) to keep derived tables in step without the records app depending on them.
AFTER_WRITE_HOOKS: list[Callable[[list[StoredRecord]], None]] = []


@dataclass
class WriteResult:
    written_pks: list[int] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    refused: list[Refusal] = field(default_factory=list)
    # Field names the registry does not know, per record type, with a value seen (for the operator).
    unknown_fields: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))


def validate_change(change: Change, registry: Registry) -> str | None:
    """Why the change cannot be applied, in words; None when it is well formed."""
    reason = _envelope_refusal(change, registry)
    if reason is None and change.action == "upsert":
        reason = _read_fields(change, registry.types[change.record_type])[0]
    return reason


def _envelope_refusal(change: Change, registry: Registry) -> str | None:
    spec = registry.get(change.record_type)
    if spec is None:
        return f"unknown record type '{change.record_type}'"
    if not isinstance(change.record_id, str) or not change.record_id:
        return "the record has no RecordID"
    if len(change.record_id) > MAX_ID_LENGTH:
        return f"RecordID is longer than {MAX_ID_LENGTH} characters"
    if change.action == "merge" and not change.merge_keep_id:
        return "a merge needs mergeIDtokeep and mergeIDtodelete"
    if change.action == "upsert" and not isinstance(change.data, dict):
        return "an insert or update needs a data object"
    return None


def _read_fields(change: Change, spec: RecordTypeSpec) -> tuple[str | None, CanonicalRecord]:
    """The canonical form of an upsert's fields, or why they cannot be read."""
    try:
        fields = canonicalise(spec, change.data or {})
    except FieldError as error:
        return str(error), CanonicalRecord()
    key = fields.values.get(spec.key_field)
    if key is not None and key != change.record_id:
        return f"RecordID '{change.record_id}' does not match {spec.key_field} '{key}' in the data", fields
    return None, fields


def records_write(
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
    canonical: dict[tuple[str, str], CanonicalRecord] = {}
    for change in changes:
        key = (change.record_type, change.record_id)
        reason = _envelope_refusal(change, registry)
        if reason is None and change.action == "upsert":
            reason, canonical[key] = _read_fields(change, registry.types[change.record_type])
        if reason:
            result.refused.append(Refusal(change, reason))
            continue
        # The same record twice in one batch: the later change wins, as if applied in order.
        latest.pop(key, None)
        latest[key] = change
    if not latest:
        return result

    existing = lock_existing(latest.keys())
    # What was stored before any change of this batch: ownership is decided on it.
    before = {key: StoredState.of(record) for key, record in existing.items()}
    parents = _load_parents(latest, canonical, registry)
    guard = OwnershipGuard.for_batch(
        source_site_id=source_site_id,
        owner_store_ids=owner_store_ids,
        registry=registry,
        before=before,
        changes=latest,
        canonical=canonical,
    )

    to_write: list[StoredRecord] = []
    changed_transfers: list[StoredRecord] = []
    written_stores: dict[str, CanonicalRecord] = {}
    site_ids: set[int] | None = None
    for key, change in latest.items():
        spec = registry.types[change.record_type]
        current = existing.get(key)
        # Who owns the record is decided on what is stored, before the change touches `record`
        # (which is the same object as `current`).
        record = current or StoredRecord(
            record_type=spec.name, record_id=change.record_id, created_by_site_id=source_site_id
        )
        was_live = current is not None and not current.is_deleted
        old_transfer = current.transfer_name_id if current else ""
        if change.action == "upsert":
            fields = canonical[key]
            _fill_upsert(record, change, fields, spec, parents)
            refusal = guard.refusal(spec, change.record_id, record.store_id, fields)
            if refusal is None and spec.name == STORE_RECORD_TYPE:
                site_ids = satellite_site_ids() if site_ids is None else site_ids
                refusal = store_record_refusal(fields, known_site_ids=site_ids)
            if refusal:
                result.refused.append(Refusal(change, refusal))
                continue
            wire_text = fields.wire_text(spec)
            data_text = orjson.dumps(change.data).decode()
            refusal = _too_large(spec, data_text, wire_text)
            if refusal:
                result.refused.append(Refusal(change, refusal))
                continue
            if spec.name == STORE_RECORD_TYPE:
                written_stores[change.record_id] = fields
            if fields.unknown:
                result.unknown_fields[spec.name].update(fields.unknown)
            if was_live and record.wire == wire_text:
                result.unchanged += 1
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
                continue
            refusal = guard.refusal(spec, change.record_id, record.store_id, None)
            if refusal:
                result.refused.append(Refusal(change, refusal))
                continue
            merge = change.action == "merge"
            record.is_deleted = True
            record.change_type = Record.ChangeType.MERGE if merge else Record.ChangeType.DELETE
            record.merged_into = change.merge_keep_id if merge else ""
        record.source_site_id = source_site_id
        record.modified_at = now
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
    if result.unknown_fields:
        _note_unknown_fields(result.unknown_fields, site_id=source_site_id, now=now)
    if written_stores:
        update_stores(written_stores)
    result.written_pks += _after_write(to_write, now)
    return result


def _after_write(written: list[StoredRecord], now: datetime) -> list[int]:
    """Domain rules that follow a write, in its transaction: the hooks (search indexes, ...), and
    transfer counterparts (transfers.py), written here as the primary's own changes. Returns the
    keys of the records it wrote, so they fan out with the rest."""
    for hook in AFTER_WRITE_HOOKS:
        hook(written)
    generated = transfer_changes(written=written)
    if not generated:
        return []
    inner = records_write(changes=generated, source_site_id=PRIMARY_SITE_ID, now=now)
    for refusal in inner.refused:
        logger.error("transfer counterpart %s refused: %s", refusal.change.record_id, refusal.reason)
    return inner.written_pks


def _note_unknown_fields(unknown: dict[str, dict[str, str]], *, site_id: int, now: datetime) -> None:
    """Remember field names the registry lacks, for the operator: one upsert, whatever the batch."""
    rows = [
        UnknownField(
            record_type=record_type,
            name=name[:128],
            example=example[:200],
            first_seen_at=now,
            last_seen_at=now,
            last_site_id=site_id,
        )
        for record_type, names in sorted(unknown.items())
        for name, example in sorted(names.items())
    ]
    UnknownField.objects.bulk_create(
        rows,
        update_conflicts=True,
        update_fields=["example", "last_seen_at", "last_site"],
        **conflict_target("record_type", "name"),
    )


@dataclass(frozen=True)
class ParentInfo:
    store_id: str
    transfer_name_id: str


def _load_parents(
    changes: dict[tuple[str, str], Change],
    canonical: dict[tuple[str, str], CanonicalRecord],
    registry: Registry,
) -> dict[tuple[str, str], ParentInfo]:
    """Store and transfer party of the parents (a transact for its lines) that the batch refers to.

    A parent in the same batch wins over its stored state, so header and lines pushed together route
    together.
    """
    wanted: dict[str, set[str]] = defaultdict(set)
    in_batch: dict[tuple[str, str], ParentInfo] = {}
    for key in changes:
        spec = registry.types[key[0]]
        if spec.parent_type and spec.parent_field and key in canonical:
            parent_id = canonical[key].get(spec.parent_field)
            if parent_id:
                wanted[spec.parent_type].add(parent_id)
    for key, change in changes.items():
        spec = registry.types[change.record_type]
        if change.action == "upsert" and change.record_id in wanted.get(spec.name, ()):
            fields = canonical[key]
            in_batch[key] = ParentInfo(
                store_id=fields.get(spec.store_field) if spec.store_field else change.store_id,
                transfer_name_id=fields.get(spec.transfer_field),
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
    record: StoredRecord,
    change: Change,
    fields: CanonicalRecord,
    spec: RecordTypeSpec,
    parents: dict[tuple[str, str], ParentInfo],
) -> None:
    parent = None
    if spec.parent_type and spec.parent_field:
        parent = parents.get((spec.parent_type, fields.get(spec.parent_field)))
    if spec.is_central:
        record.store_id = ""
    elif spec.store_field and fields.get(spec.store_field):
        record.store_id = fields.get(spec.store_field)
    elif parent and parent.store_id:
        record.store_id = parent.store_id
    else:
        record.store_id = change.store_id or record.store_id or ""
    record.ref_id = fields.get(spec.ref_field)
    if spec.transfer_field:
        record.transfer_name_id = fields.get(spec.transfer_field)
    elif parent:
        record.transfer_name_id = parent.transfer_name_id
    for attribute in ("store_id", "ref_id", "transfer_name_id"):
        setattr(record, attribute, getattr(record, attribute)[:MAX_ID_LENGTH])


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
