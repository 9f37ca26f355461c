"""Reading queues: the head of a site's queue, one entry by SyncID, and its exact length."""

from __future__ import annotations

from typing import NamedTuple

from django.db import connection

from apps.records.models import Record

from .models import QuarantinedRecord, QueueEntry, SiteDump, SnapshotCursor

QUEUE = QueueEntry._meta.db_table
RECORDS = Record._meta.db_table
SNAPSHOTS = SnapshotCursor._meta.db_table

_COLUMNS = "q.id, r.record_type, r.record_id, r.change_type, r.store_id, r.wire, r.merged_into"


class QueuedRecord(NamedTuple):
    """A queue entry joined with the record's current state: what a pull sends."""

    sync_id: int
    record_type: str
    record_id: str
    change_type: str
    store_id: str
    wire: str
    merged_into: str


# What `queue_head` returns per entry: QueuedRecord's fields in order, as a plain tuple.
QueuedRow = tuple[int, str, str, str, str, str, str]

MAX_QUEUE_ID = 2**63 - 1


def queue_entry_id(sync_id: object) -> int | None:
    """The queue entry a SyncID names, or None for text that cannot be one of ours (an unknown id)."""
    text = str(sync_id).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_QUEUE_ID else None


def queue_head(*, site_id: int, limit: int, unless_snapshot: bool = False) -> list[QueuedRow]:
    """The oldest `limit` entries of the site's queue: one index range read, whatever the table size.

    The rows are plain tuples in QueuedRecord's field order (building 500 named tuples per pull cost
    more than encoding them); codecs unpack them, or wrap them with `QueuedRecord._make`.
    `unless_snapshot`: nothing while the site has a dump's snapshot to send first (apps/queue/snapshot.py),
    so a pull without one still costs this one statement.
    """
    unless, params = "", []
    if unless_snapshot:
        unless = f" AND NOT EXISTS (SELECT 1 FROM {SNAPSHOTS} c WHERE c.site_id = %s AND c.finished = %s)"
        params = [site_id, False]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_COLUMNS} FROM {QUEUE} q JOIN {RECORDS} r ON r.id = q.record_id "
            f"WHERE q.site_id = %s{unless} ORDER BY q.id LIMIT %s",
            [site_id, *params, limit],
        )
        rows: list[QueuedRow] = cursor.fetchall()
        return rows


def queued_by_sync_id(*, site_id: int, sync_id: int) -> list[QueuedRecord]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_COLUMNS} FROM {QUEUE} q JOIN {RECORDS} r ON r.id = q.record_id "
            "WHERE q.site_id = %s AND q.id = %s",
            [site_id, sync_id],
        )
        return [QueuedRecord(*row) for row in cursor.fetchall()]


def queue_length(*, site_id: int) -> int:
    """Exactly how many entries wait for the site (counts only that site's index range)."""
    return QueueEntry.objects.filter(site_id=site_id).count()


class SiteSyncStatus(NamedTuple):
    """What a site may know about itself on the primary (GET sync_status)."""

    pending: int
    quarantined: int
    last_dump: SiteDump | None


def site_sync_status(*, site_id: int) -> SiteSyncStatus:
    """The site's pending records (snapshot and queue), its pending quarantine, its last dump."""
    from .snapshot import pending_count  # the snapshot reads the queue through this module

    return SiteSyncStatus(
        pending=pending_count(site_id=site_id),
        quarantined=QuarantinedRecord.objects.filter(
            site_id=site_id, status=QuarantinedRecord.Status.PENDING
        ).count(),
        last_dump=SiteDump.objects.filter(site_id=site_id).first(),
    )
