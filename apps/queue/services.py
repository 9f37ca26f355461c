"""The queue's services: pushes, changes made on the primary, acknowledgements and initial dumps.

Each top-level service owns its transaction (atomic_with_retry) so its effects, its idempotency
records and its log commit together or not at all. Locks are taken in one order: pushed SyncIDs, then
records (by type and id), then queue rows (docs/development/concurrency.md).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.lib.sql import (
    MAX_STATEMENT_BYTES,
    chunks,
    conflict_target,
    insert_rows,
    int_list,
    placeholders,
)
from apps.lib.transactions import atomic_with_retry, retry_on_conflict
from apps.records.changes import Change, Refusal
from apps.records.models import Record
from apps.records.services import WriteResult, records_write, store_ids_of_site
from apps.sites.models import PRIMARY_SITE_ID, Site

from .fanout import fan_out
from .models import SYNC_LOG_NOTE_LENGTH, PushedSyncId, QuarantinedRecord, QueueEntry, SiteDump, SyncLog
from .selectors import queue_entry_id
from .signals import sync_call_logged
from .snapshot import snapshot_advance, snapshot_remaining, snapshot_start

logger = logging.getLogger(__name__)

QUEUE = QueueEntry._meta.db_table
RECORDS = Record._meta.db_table


LOG_COUNTS = ("pushed", "applied", "duplicates", "quarantined", "pulled", "acknowledged", "queued")


@dataclass
class PushResult:
    received: int = 0
    applied: int = 0
    duplicates: int = 0
    quarantined: list[Refusal] = field(default_factory=list)
    # Replays of records quarantined by an earlier attempt: answered as quarantined again, so a client
    # whose first answer was lost learns it, but not stored a second time.
    still_quarantined: list[Refusal] = field(default_factory=list)

    def note_replay(self, change: Change, pending_reasons: dict[str, str]) -> None:
        """A record whose SyncID was pushed before: a duplicate, unless it is still in quarantine."""
        reason = pending_reasons.get(str(change.sync_id)[:100])
        if reason is None:
            self.duplicates += 1
        else:
            self.still_quarantined.append(Refusal(change, reason))


def pending_quarantine_reasons(*, site_id: int, sync_ids: set[str]) -> dict[str, str]:
    """SyncID -> reason of the site's records among `sync_ids` that are still waiting in quarantine."""
    if not sync_ids:
        return {}
    rows = QuarantinedRecord.objects.filter(
        site_id=site_id, status=QuarantinedRecord.Status.PENDING, sync_id__in=[s[:100] for s in sync_ids]
    ).values_list("sync_id", "reason")
    return dict(rows)


@atomic_with_retry
def queue_push(*, site: Site, changes: list[Change], refused: list[Refusal], api_version: str) -> PushResult:
    """Apply a satellite's pushed batch once: skip SyncIDs seen before, quarantine what cannot apply.

    `refused` are records the codec could not even read; they are quarantined with the rest.
    """
    now = timezone.now()
    result = PushResult(received=len(changes) + len(refused))
    # Claimed first, so a replay racing this attempt waits on the SyncIDs' unique key and then
    # counts them as duplicates (docs/development/concurrency.md).
    seen = claim_pushed(
        site_id=site.pk,
        sync_ids=[c.sync_id for c in changes + [r.change for r in refused] if c.sync_id],
        now=now,
    )
    # A replayed push of a record that was quarantined the first time is not quarantined twice.
    pending = pending_quarantine_reasons(site_id=site.pk, sync_ids=seen)
    unreadable = [r for r in refused if r.change.sync_id not in seen]
    for replayed in (r.change for r in refused if r.change.sync_id in seen):
        result.note_replay(replayed, pending)
    refused = unreadable
    fresh: list[Change] = []
    in_batch: set[str] = set()
    for change in changes:
        if not change.sync_id:
            refused.append(Refusal(change, "the record has no SyncID"))
        elif change.sync_id in seen:
            result.note_replay(change, pending)
        elif change.sync_id in in_batch:
            result.duplicates += 1
        else:
            in_batch.add(change.sync_id)
            fresh.append(change)
    written = records_write(
        changes=fresh, source_site_id=site.pk, owner_store_ids=store_ids_of_site(site.pk), now=now
    )
    fan_out(record_pks=written.written_pks, source_site_id=site.pk)
    result.quarantined = refused + written.refused
    result.applied = len(fresh) - len(written.refused)
    quarantine(site=site, refusals=result.quarantined, api_version=api_version, now=now)
    return result


def pushed_key(sync_id: str) -> str:
    """How a pushed SyncID is stored: as it is, or by its hash when longer than the column or when it
    ends in a space (which a padded collation, on MySQL before 8.0.17, would ignore)."""
    if len(sync_id) <= 100 and not sync_id.endswith(" "):
        return sync_id
    return "sha256:" + hashlib.sha256(sync_id.encode()).hexdigest()


def claim_pushed(*, site_id: int, sync_ids: list[str], now) -> set[str]:
    """Remember the pushed SyncIDs in this transaction; returns those (as pushed) seen before.

    SyncIDs committed earlier are read and skipped; the rest are inserted with a plain INSERT, in key
    order. If another transaction holds one of them uncommitted (a replay racing its first attempt),
    the insert waits for it; once it commits, the duplicate key raises IntegrityError, the whole push
    rolls back and is retried (atomic_with_retry), and then reads those SyncIDs as seen.
    """
    by_key = {pushed_key(s): s for s in sync_ids}
    seen: set[str] = set()
    for batch in chunks(sorted(by_key), 1000):
        keys = PushedSyncId.objects.filter(site_id=site_id, sync_id__in=batch).values_list(
            "sync_id", flat=True
        )
        seen.update(by_key[key] for key in keys)
    # Plain rows rather than bulk_create: building and compiling 500 model instances cost more than the
    # INSERT itself on every push.
    received_at = connection.ops.adapt_datetimefield_value(now)
    rows = [(site_id, key, received_at) for key, sync_id in sorted(by_key.items()) if sync_id not in seen]
    with connection.cursor() as cursor:
        insert_rows(
            cursor,
            head=f"INSERT INTO {PushedSyncId._meta.db_table} (site_id, sync_id, received_at)",
            rows=rows,
        )
    return seen


# The most of a refused record's raw text kept in quarantine: a record too large for the database is
# refused, and its raw text would be too.
RAW_KEPT_CHARACTERS = 1 << 20


def quarantine(*, site: Site, refusals: list[Refusal], api_version: str, now) -> None:
    """Keep refused records with their reason, and say so in the log at once (operators alert on it)."""
    for refusal in refusals[:20]:
        logger.warning(
            "quarantined %s %s from site %s: %s",
            refusal.change.record_type,
            refusal.change.record_id,
            site.pk,
            refusal.reason,
        )
    if len(refusals) > 20:
        logger.warning("quarantined %d more records from site %s", len(refusals) - 20, site.pk)
    rows = [
        QuarantinedRecord(
            site=site,
            sync_id=str(r.change.sync_id)[:100],
            record_type=str(r.change.record_type)[:100],
            record_id=str(r.change.record_id)[:100],
            store_id=str(r.change.store_id)[:100],
            api_version=api_version,
            raw=r.change.raw[:RAW_KEPT_CHARACTERS],
            reason=r.reason
            if len(r.change.raw) <= RAW_KEPT_CHARACTERS
            else f"{r.reason} (only the first {RAW_KEPT_CHARACTERS} of its {len(r.change.raw)} characters "
            "are kept: the site must send it again)",
            received_at=now,
        )
        for r in refusals
    ]
    # Statements of at most MAX_STATEMENT_BYTES of raw text, so no batch exceeds max_allowed_packet.
    batch: list[QuarantinedRecord] = []
    size = 0
    for row in rows:
        if batch and size + len(row.raw) > MAX_STATEMENT_BYTES // 2:
            QuarantinedRecord.objects.bulk_create(batch)
            batch, size = [], 0
        batch.append(row)
        size += len(row.raw)
    QuarantinedRecord.objects.bulk_create(batch)


@atomic_with_retry
def site_changes_apply(*, site: Site, changes: list[Change]) -> WriteResult:
    """A satellite's changes applied without the SyncID check: used to replay fixed quarantine."""
    written = records_write(
        changes=changes, source_site_id=site.pk, owner_store_ids=store_ids_of_site(site.pk)
    )
    fan_out(record_pks=written.written_pks, source_site_id=site.pk)
    return written


def primary_changes_apply_in_transaction(*, changes: list[Change]) -> WriteResult:
    """Changes made on the primary itself, inside the caller's transaction (which must be open)."""
    written = records_write(changes=changes, source_site_id=PRIMARY_SITE_ID)
    fan_out(record_pks=written.written_pks, source_site_id=PRIMARY_SITE_ID)
    return written


@atomic_with_retry
def primary_changes_apply(*, changes: list[Change]) -> WriteResult:
    """Changes made on the primary itself (admin, loadrecords): applied and fanned out to every site."""
    return primary_changes_apply_in_transaction(changes=changes)


@retry_on_conflict
def queue_acknowledge(*, site: Site, sync_ids: list[str]) -> int:
    """Remove acknowledged entries of the site's own queue and move its snapshot cursor over the
    acknowledged snapshot records; unknown, foreign or passed ids change nothing."""
    ids = sorted({i for i in map(queue_entry_id, sync_ids) if i is not None})
    deleted = snapshot_advance(site_id=site.pk, sync_ids=sync_ids)
    with connection.cursor() as cursor:
        for batch in chunks(ids, 1000):
            cursor.execute(f"DELETE FROM {QUEUE} WHERE site_id = %s AND id IN ({int_list(batch)})", [site.pk])
            deleted += cursor.rowcount
    return deleted


@atomic_with_retry
def initial_dump(*, site: Site, full: bool) -> int:
    """Start the site's snapshot (apps/queue/snapshot.py); returns what waits for it now (NumRecords).

    `full`: everything routed to the site (a re-install). Otherwise the mobile-store subset: only the
    tables the mobile app integrates (`mobile` in the registry), of them the site's stores' own data and
    the central records those stores can see (items through item_store_join, names through
    name_store_join, the small global tables whole) or that the site created (its patients).
    Referenced tables come first. Nothing is copied: pulls read the snapshot page by page.
    """
    taken_at = snapshot_start(site=site, full=full)
    length = snapshot_remaining(site_id=site.pk, full=full, taken_at=taken_at, with_queue=True)
    _remember_dump(site=site, full=full, length=length)
    return length


def _remember_dump(*, site: Site, full: bool, length: int) -> None:
    """Replace the site's last-dump row, in the dump's transaction (an upsert: two dumps may race)."""
    dump = SiteDump(
        site=site,
        dumped_at=timezone.now(),
        dump_type=SiteDump.Type.FULL if full else SiteDump.Type.MOBILE,
        record_count=length,
    )
    SiteDump.objects.bulk_create(
        [dump],
        update_conflicts=True,
        update_fields=["dumped_at", "dump_type", "record_count"],
        **conflict_target("site"),
    )


def sync_log_write(
    *,
    site: Site,
    call: str,
    api_version: str,
    duration_ms: int,
    status_code: int = 200,
    note: str = "",
    app_version: str = "",
    **counts: int | str,
) -> None:
    """One SyncLog row per call, written with one plain INSERT: it is on every request's path.

    `sync_call_logged` then lets monitoring count the call (`app_version`: what the client said it runs).
    """
    now = timezone.now()
    columns = {
        "site_id": site.pk,
        "call": call,
        "api_version": api_version,
        "duration_ms": duration_ms,
        "status_code": status_code,
        "created_at": connection.ops.adapt_datetimefield_value(now),
        **{name: counts.get(name, 0) for name in LOG_COUNTS},
        "error": counts.get("error", ""),
        "note": note[:SYNC_LOG_NOTE_LENGTH],
        "device_id": str(counts.get("device_id", ""))[:100],
    }
    names = ", ".join(map(connection.ops.quote_name, columns))  # `call` is a reserved word in MySQL
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SyncLog._meta.db_table} ({names}) VALUES ({placeholders(len(columns))})",
            list(columns.values()),
        )
    sync_call_logged.send(
        sender=SyncLog,
        site_id=site.pk,
        call=call,
        api_version=api_version,
        status_code=status_code,
        duration_ms=duration_ms,
        at=now,
        counts={name: int(counts.get(name, 0) or 0) for name in LOG_COUNTS},
        error=str(counts.get("error", "")),
        app_version=app_version,
    )


def history_purge(*, now=None) -> dict[str, int]:
    """Forget pushed SyncIDs and log rows older than their retention periods."""
    now = now or timezone.now()
    pushed_cutoff = now - timedelta(days=settings.SYNC_PUSHED_ID_RETENTION_DAYS)
    log_cutoff = now - timedelta(days=settings.SYNC_LOG_RETENTION_DAYS)
    pushed, _ = PushedSyncId.objects.filter(received_at__lt=pushed_cutoff).delete()
    logs, _ = SyncLog.objects.filter(created_at__lt=log_cutoff).delete()
    return {"pushed_sync_ids": pushed, "sync_logs": logs}
