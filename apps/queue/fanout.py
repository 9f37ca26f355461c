"""Routing: which sites' queues a changed record goes to, done in SQL.

The rules come from the registry's scope (mirrored in the RecordType table):
- central: every active satellite;
- store: the site where the record's store is active;
- transfer: that site, and the site of the store whose name_ID is the other party (lines follow
  their header through `transfer_name_id`, which the write path copies onto them). Invoices and
  requisitions are `store` data: the other party gets a counterpart document of its own instead
  (apps/records/transfers.py), so the sender's document never leaves the sender's site.
Never back to the site the change came from, and never to the primary (site 1), which has no queue.
A REPLACE moves a record that is already pending to the tail under a new id (SyncID).
"""

from __future__ import annotations

from django.db import connection
from django.db.backends.utils import CursorWrapper

from apps.lib.sql import chunks, insert_rows, int_list, ordered_join, replace_into
from apps.records.models import Record, RecordType
from apps.sites.models import PRIMARY_SITE_ID, Site, Store

from .models import QueueEntry

QUEUE = QueueEntry._meta.db_table
RECORDS = Record._meta.db_table
TYPES = RecordType._meta.db_table
SITES = Site._meta.db_table
STORES = Store._meta.db_table

BATCH = 500
# Only tables declared `transfer` (and their lines) travel to the other party's site themselves.
FORWARDED_TO_OTHER_PARTY = (
    f"(t.scope = 'transfer' OR t.parent_type IN (SELECT name FROM {TYPES} WHERE scope = 'transfer'))"
)


def fan_out(*, record_pks: list[int], source_site_id: int) -> int:
    """Queue the records for every site they route to; returns how many queue entries were written."""
    if not record_pks:
        return 0
    written = 0
    with connection.cursor() as cursor:
        for batch in chunks(sorted(set(record_pks)), BATCH):
            # The source's own pending entry holds an older state than what it just pushed: drop it,
            # or its next pull would overwrite its newer local change.
            cursor.execute(
                f"DELETE FROM {QUEUE} WHERE site_id = %s AND record_id IN ({int_list(batch)})",
                [source_site_id],
            )
            pairs = _destinations(cursor, batch=batch, source_site_id=source_site_id)
            # Plain multi-row VALUES, not REPLACE ... SELECT: on MariaDB (innodb_autoinc_lock_mode=1)
            # an INSERT ... SELECT holds the table's AUTO-INC lock for the whole statement, which
            # deadlocks with concurrent fan-outs; a VALUES list takes it only to allocate the ids.
            insert_rows(cursor, head=f"{replace_into()} {QUEUE} (site_id, record_id)", rows=pairs)
            written += len(pairs)
    return written


def queue_for_site(*, site_id: int, record_pks: list[int]) -> int:
    """Queue these records for one site, whatever their routing (a record it asked for), in order."""
    rows = [(site_id, pk) for pk in record_pks]
    with connection.cursor() as cursor:
        insert_rows(cursor, head=f"{replace_into()} {QUEUE} (site_id, record_id)", rows=rows)
    return len(rows)


def _destinations(cursor: CursorWrapper, *, batch: list[int], source_site_id: int) -> list[tuple[int, int]]:
    """(site, record) pairs of the batch, in queue order: referenced tables first, then by record."""
    ids = int_list(batch)
    excluded = [PRIMARY_SITE_ID, source_site_id]
    by_store = f"""SELECT st.site_id, r.id, t.dump_order FROM {RECORDS} r
        JOIN {TYPES} t ON t.name = r.record_type
        JOIN {STORES} st ON {{join}}
        JOIN {SITES} s ON s.id = st.site_id AND s.is_active
        WHERE r.id IN ({ids}) AND t.scope <> 'central' AND st.site_id <> %s AND st.site_id <> %s"""
    # Central records are paired with the sites after their type is known: left to itself, MariaDB starts
    # from the small sites table and pairs every site with every record of the batch before filtering
    # on the scope, which made the query several times slower (docs/performance.md, "Measurements behind
    # the code").
    join = ordered_join()
    cursor.execute(
        f"""SELECT s.id, r.id, t.dump_order FROM {RECORDS} r
        {join} {TYPES} t ON t.name = r.record_type
        {join} {SITES} s ON s.is_active AND s.id <> %s AND s.id <> %s
        WHERE r.id IN ({ids}) AND t.scope = 'central'
        UNION {by_store.format(join="st.id = r.store_id")}
        UNION {by_store.format(join="r.transfer_name_id <> '' AND st.name_id = r.transfer_name_id")}
            AND {FORWARDED_TO_OTHER_PARTY}""",
        [*excluded, *excluded, *excluded],
    )
    rows = sorted(cursor.fetchall(), key=lambda row: (row[2], row[1], row[0]))
    return [(site_id, record_id) for site_id, record_id, _ in rows]
