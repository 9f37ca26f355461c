"""Routing: which sites' queues a changed record goes to, done in SQL.

The rules come from the registry's scope (mirrored in the RecordType table):
- central: every active satellite;
- store: the site where the record's store is active;
- transfer: that site, and the site of the store whose name_ID is the other party (lines follow
  their header through `transfer_name_id`, which the write path copies onto them).
Never back to the site the change came from, and never to the primary (site 1), which has no queue.
A REPLACE moves a record that is already pending to the tail under a new id (SyncID).
"""

from __future__ import annotations

from django.db import connection

from apps.records.models import Record, RecordType
from apps.sites.models import PRIMARY_SITE_ID, Site, Store

from .db import chunks, placeholders, replace_into
from .models import QueueEntry

Q = QueueEntry._meta.db_table
R = Record._meta.db_table
T = RecordType._meta.db_table
S = Site._meta.db_table
ST = Store._meta.db_table

BATCH = 500


def fan_out(*, record_pks: list[int], source_site_id: int) -> int:
    """Queue the records for every site they route to; returns how many queue rows were written."""
    if not record_pks:
        return 0
    written = 0
    with connection.cursor() as cursor:
        for batch in chunks(sorted(set(record_pks)), BATCH):
            marks = placeholders(len(batch))
            # The source's own pending entry holds an older state than what it just pushed: drop it,
            # or its next pull would overwrite its newer local change.
            cursor.execute(
                f"DELETE FROM {Q} WHERE site_id = %s AND record_id IN ({marks})", [source_site_id, *batch]
            )
            cursor.execute(
                f"""{replace_into()} {Q} (site_id, record_id)
                SELECT s.id, r.id FROM {R} r
                JOIN {T} t ON t.name = r.record_type
                JOIN {S} s ON s.is_active AND s.id <> %s AND s.id <> %s
                WHERE r.id IN ({marks}) AND t.scope = 'central'
                ORDER BY t.dump_order, r.id, s.id""",
                [PRIMARY_SITE_ID, source_site_id, *batch],
            )
            written += max(cursor.rowcount, 0)
            for store_join in (
                "st.id = r.store_id",
                "r.transfer_name_id <> '' AND st.name_id = r.transfer_name_id",
            ):
                cursor.execute(
                    f"""{replace_into()} {Q} (site_id, record_id)
                    SELECT st.site_id, r.id FROM {R} r
                    JOIN {T} t ON t.name = r.record_type
                    JOIN {ST} st ON {store_join}
                    JOIN {S} s ON s.id = st.site_id AND s.is_active
                    WHERE r.id IN ({marks}) AND t.scope <> 'central'
                        AND st.site_id <> %s AND st.site_id <> %s
                    ORDER BY t.dump_order, r.id, st.site_id""",
                    [*batch, PRIMARY_SITE_ID, source_site_id],
                )
                written += max(cursor.rowcount, 0)
    return written
