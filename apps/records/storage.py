"""Set-based reads and writes of the `Record` table, without model instances on the hot path.

A push of 500 records through `bulk_create`/`bulk_update` spent about half its time building model
objects and compiling CASE expressions; one multi-row upsert of plain tuples does the same work.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from apps.lib.sql import can_return_rows, chunks, insert_rows, placeholders, upsert_tail

from .models import Record

TABLE = Record._meta.db_table
# Column order of the upsert; the first two are the unique key.
COLUMNS = (
    "record_type",
    "record_id",
    "store_id",
    "ref_id",
    "transfer_name_id",
    "data",
    "wire",
    "change_type",
    "merged_into",
    "is_deleted",
    "source_site_id",
    "created_by_site_id",
    "modified_at",
)
# Never changed by an update: the key, and who created the record.
KEPT_ON_UPDATE = {"record_type", "record_id", "created_by_site_id"}


@dataclass(slots=True)
class StoredRecord:
    """One row of the central store, as the write path reads and writes it."""

    record_type: str
    record_id: str
    created_by_site_id: int
    pk: int | None = None
    store_id: str = ""
    ref_id: str = ""
    transfer_name_id: str = ""
    data: str = ""
    wire: str = ""
    change_type: str = ""
    merged_into: str = ""
    is_deleted: bool = False
    source_site_id: int = 0
    modified_at: datetime | None = None

    def as_row(self) -> tuple[object, ...]:
        modified_at = connection.ops.adapt_datetimefield_value(self.modified_at)
        return (
            self.record_type,
            self.record_id,
            self.store_id,
            self.ref_id,
            self.transfer_name_id,
            self.data,
            self.wire,
            self.change_type,
            self.merged_into,
            self.is_deleted,
            self.source_site_id,
            self.created_by_site_id,
            modified_at,
        )


def lock_existing(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], StoredRecord]:
    """The stored rows for these (type, id) keys, locked FOR UPDATE in a fixed order (type, then id)."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for record_type, record_id in keys:
        by_type[record_type].append(record_id)
    found: dict[tuple[str, str], StoredRecord] = {}
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        for record_type in sorted(by_type):
            ids = sorted(set(by_type[record_type]))
            for chunk in chunks(ids, 1000):
                cursor.execute(
                    f"SELECT id, record_id, store_id, ref_id, transfer_name_id, data, wire, is_deleted, "
                    f"created_by_site_id FROM {TABLE} WHERE record_type = %s AND record_id IN "
                    f"({placeholders(len(chunk))}) ORDER BY record_id{lock}",
                    [record_type, *chunk],
                )
                for (
                    pk,
                    record_id,
                    store_id,
                    ref_id,
                    transfer,
                    data,
                    wire,
                    deleted,
                    creator,
                ) in cursor.fetchall():
                    found[(record_type, record_id)] = StoredRecord(
                        record_type=record_type,
                        record_id=record_id,
                        created_by_site_id=creator,
                        pk=pk,
                        store_id=store_id,
                        ref_id=ref_id,
                        transfer_name_id=transfer,
                        data=data,
                        wire=wire,
                        is_deleted=bool(deleted),
                    )
    return found


def upsert(records: list[StoredRecord]) -> None:
    """Insert or update the rows in multi-row statements, then fill in the new rows' primary keys."""
    if not records:
        return
    updated = [c for c in COLUMNS if c not in KEPT_ON_UPDATE]
    conflict = upsert_tail(key=("record_type", "record_id"), updated=updated)
    # Where the database can, the statement itself returns the keys of the rows it wrote; otherwise
    # they are read back (one more indexed query per record type).
    returning = "id, record_type, record_id" if can_return_rows() else ""
    with connection.cursor() as cursor:
        written = insert_rows(
            cursor,
            head=f"INSERT INTO {TABLE} ({', '.join(COLUMNS)})",
            rows=[r.as_row() for r in records],
            tail=conflict,
            returning=returning,
        )
    new = {(r.record_type, r.record_id): r for r in records if r.pk is None}
    for pk, record_type, record_id in written:
        record = new.pop((record_type, record_id), None)
        if record is not None:
            record.pk = pk
    _fill_new_pks(list(new.values()))


def _fill_new_pks(records: list[StoredRecord]) -> None:
    if not records:
        return
    by_type: dict[str, dict[str, StoredRecord]] = defaultdict(dict)
    for record in records:
        by_type[record.record_type][record.record_id] = record
    with connection.cursor() as cursor:
        for record_type, by_id in by_type.items():
            ids = list(by_id)
            for chunk in chunks(ids, 1000):
                cursor.execute(
                    f"SELECT id, record_id FROM {TABLE} WHERE record_type = %s AND record_id IN "
                    f"({placeholders(len(chunk))})",
                    [record_type, *chunk],
                )
                for pk, record_id in cursor.fetchall():
                    by_id[record_id].pk = pk
