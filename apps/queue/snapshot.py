"""Initial dumps as snapshot cursors: what a dump sends is read page by page, never copied into the queue.

`initial_dump` (start_snapshot) clears the site's queue as before, keeping its pending deletes and the
entries of records changed after the dump's time, and records a cursor: which set (full or mobile
subset), the time `taken_at`, and the last acknowledged key. A record is in the snapshot while it is
routed to the site, live, and not changed since `taken_at`; the snapshot is read in dump order (the
registry's dump_order, then the table number, then the record's primary key) by keyset, one index range
per table and store. A pull sends the snapshot first, then the ordinary queue. Acknowledging a snapshot
page moves the cursor over the acknowledged keys that lead the snapshot.

Why nothing is lost and nothing older wins (docs/development/concurrency.md):
- every write sets the record's `modified_at` and fans the record out to the sites it routes to, in
  one transaction; so a record that changes after `taken_at` leaves the snapshot and is in the queue;
- the dump's DELETE and the snapshot use the same test (`modified_at <= taken_at`), so each routed,
  live record is in one of them: the snapshot leaves out a record that has an entry in the site's
  queue (a write that began before the dump and committed after it), so it is sent once. Clocks of
  other hosts can only move a record from one side to the other, never out of both;
- a pull sends each record's state as committed when the pull runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from heapq import merge
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from apps.lib.sql import force_index, is_mysql
from apps.records.models import Record, RecordType
from apps.records.registry import Registry, get_registry
from apps.sites.models import Site, Store

from . import selectors
from .models import QueueEntry, SnapshotCursor

Q = QueueEntry._meta.db_table
R = Record._meta.db_table
T = RecordType._meta.db_table
ST = Store._meta.db_table
C = SnapshotCursor._meta.db_table

# A record with an entry in the site's queue is sent from there: a write that began before the dump and
# committed after it is in both otherwise (one index probe of the unique (site, record) key).
NOT_QUEUED = f"NOT EXISTS (SELECT 1 FROM {Q} q WHERE q.site_id = %s AND q.record_id = r.id)"
_COLUMNS = "r.id, r.record_type, r.record_id, r.change_type, r.store_id, r.wire, r.merged_into"
SYNC_ID_PREFIX = "s"
# The index each keyset range reads (by the range's WHERE clause), named to the database so it reads a
# range of it and not every entry before the position (apps/lib/sql.force_index).
INDEX_OF_RANGE = {
    "r.store_id = %s": "record_store_type_idx",
    "r.store_id = ''": "record_store_type_idx",
    "r.transfer_name_id = %s": "record_transfer_idx",
}
_SYNC_ID = re.compile(re.escape(SYNC_ID_PREFIX) + r"\.".join([r"([0-9]{1,19})"] * 4))


class Key(NamedTuple):
    """A record's place in dump order."""

    order: int
    table: int
    record: int


@dataclass(frozen=True)
class TableSpec:
    """What the snapshot needs to know about one table of the registry."""

    name: str
    order: int
    table: int
    central: bool
    forwarded: bool
    mobile: bool
    mobile_via: str
    mobile_match: str


@dataclass(frozen=True)
class SiteScope:
    """The site's stores and their names, read when the snapshot is read (routing is current).

    `stores` and `names` None: not read, the statements look them up themselves (a count is one
    statement; pages use one index range per store instead)."""

    site_id: int
    stores: tuple[str, ...] | None
    names: tuple[str, ...] | None

    @classmethod
    def of(cls, site_id: int) -> SiteScope:
        rows = list(Store.objects.filter(site_id=site_id).order_by("pk").values_list("pk", "name_id"))
        return cls(site_id, tuple(s for s, _ in rows), tuple(sorted({n for _, n in rows if n})))

    def store_ranges(self, column: str) -> list[tuple[str, list[Any]]]:
        if self.stores is None:
            return [(f"{column} IN (SELECT id FROM {ST} WHERE site_id = %s)", [self.site_id])]
        return [(f"{column} = %s", [store]) for store in self.stores]

    def name_ranges(self, column: str) -> list[tuple[str, list[Any]]]:
        if self.names is None:
            own = f"SELECT name_id FROM {ST} WHERE site_id = %s AND name_id <> ''"
            return [(f"{column} IN ({own})", [self.site_id])]
        return [(f"{column} = %s", [name]) for name in self.names]

    def stores_in(self) -> tuple[str, list[Any]]:
        """`IN (...)` of the site's stores, for a subquery."""
        if self.stores is None:
            return f"IN (SELECT id FROM {ST} WHERE site_id = %s)", [self.site_id]
        return f"IN ({', '.join(['%s'] * len(self.stores))})", list(self.stores)


_memo: list[tuple[Registry, tuple[TableSpec, ...]]] = []


def _tables() -> tuple[TableSpec, ...]:
    """Every table of the registry in dump order (the RecordType table mirrors the same registry),
    worked out once per registry object (tests may load another)."""
    registry = get_registry()
    if not _memo or _memo[0][0] is not registry:
        _memo[:] = [(registry, _specs(registry))]
    return _memo[0][1]


def _specs(registry: Registry) -> tuple[TableSpec, ...]:
    types = sorted(registry.types.values(), key=lambda t: (t.dump_order, t.table_number))
    transfer_tables = {t.name for t in types if t.scope == "transfer"}
    return tuple(
        TableSpec(
            name=t.name,
            order=t.dump_order,
            table=t.table_number,
            central=t.scope == "central",
            forwarded=t.scope == "transfer" or t.parent_type in transfer_tables,
            mobile=t.mobile,
            mobile_via=t.mobile_via or "",
            mobile_match=t.mobile_match or "",
        )
        for t in types
    )


def tables_for(*, full: bool) -> tuple[TableSpec, ...]:
    return _tables() if full else tuple(t for t in _tables() if t.mobile)


# SyncIDs ------------------------------------------------------------------------------------------------


def sync_id(epoch: int, key: Key) -> str:
    """A snapshot record's SyncID: never all digits, so it cannot name a queue entry."""
    return f"{SYNC_ID_PREFIX}{epoch}.{key.order}.{key.table}.{key.record}"


def parse_sync_id(text: object) -> tuple[int, Key] | None:
    """(epoch, key) of a snapshot SyncID, or None for anything else."""
    match = _SYNC_ID.fullmatch(str(text).strip())
    if match is None:
        return None
    epoch, order, table, record = map(int, match.groups())
    return epoch, Key(order, table, record)


# Reading the snapshot -----------------------------------------------------------------------------------


def _mobile_ranges(spec: TableSpec, scope: SiteScope) -> list[tuple[str, list[Any]]]:
    """The mobile subset of a central table that is seen through a join (items, names, ...): what the
    site created, and what its stores see through the join, as two ranges (an OR of the two would
    read every record of the table)."""
    created = ("r.store_id = '' AND r.created_by_site_id = %s", [scope.site_id])
    column = {"id": "r.record_id", "ref": "r.ref_id"}.get(spec.mobile_match)
    if column is None or scope.stores == ():
        return [created]
    stores, store_params = scope.stores_in()
    visible = (
        f"SELECT j.ref_id FROM {R} j WHERE j.record_type = %s AND j.is_deleted = %s AND j.store_id {stores}"
    )
    return [
        created,
        (f"r.store_id = '' AND {column} IN ({visible})", [spec.mobile_via, False, *store_params]),
    ]


def _ranges(spec: TableSpec, scope: SiteScope, *, full: bool) -> list[tuple[str, list[Any]]]:
    """The table's index ranges that hold the site's records, each a WHERE clause; a record may be in
    more than one."""
    if spec.central:
        return [("r.store_id = ''", [])] if full or not spec.mobile_via else _mobile_ranges(spec, scope)
    ranges = scope.store_ranges("r.store_id")
    if spec.forwarded:
        ranges += scope.name_ranges("r.transfer_name_id")
    return ranges


def _table_page(
    spec: TableSpec,
    scope: SiteScope,
    *,
    full: bool,
    taken_at: datetime,
    after: int,
    limit: int,
    columns: str = _COLUMNS,
    loose: bool = False,
) -> list[tuple]:
    """Up to `limit` of the table's snapshot records with a key above `after`, in key order.

    `columns` starts with the record's id; an acknowledgement reads only that (not the wide `wire`).
    `loose`: without the two tests that read the record's row or the queue (changed since the dump,
    queued), so from the index alone: the snapshot's records and some that left it."""
    stamp = connection.ops.adapt_datetimefield_value(taken_at)
    strict, strict_params = f" AND r.modified_at <= %s AND {NOT_QUEUED}", [stamp, scope.site_id]
    if loose:
        strict, strict_params = "", []
    results = []
    with connection.cursor() as cursor:
        for clause, params in _ranges(spec, scope, full=full):
            hint = force_index(INDEX_OF_RANGE[clause]) if clause in INDEX_OF_RANGE else ""
            cursor.execute(
                f"SELECT {columns} FROM {R} r {hint} WHERE r.record_type = %s AND {clause} "
                f"AND r.is_deleted = %s AND r.id > %s{strict} ORDER BY r.id LIMIT %s",
                [spec.name, *params, False, after, *strict_params, limit],
            )
            results.append(cursor.fetchall())
    if len(results) == 1:
        return list(results[0])
    # Several stores (or a store and transfers to it): merged by key, a record in two ranges once.
    rows, last = [], None
    for row in merge(*results, key=lambda row: row[0]):
        if row[0] != last:
            rows.append(row)
            last = row[0]
    return rows[:limit]


def snapshot_rows(
    cursor: SnapshotCursor,
    *,
    limit: int,
    scope: SiteScope | None = None,
    upto: Key | None = None,
    columns: str = _COLUMNS,
    loose: bool = False,
) -> list[tuple[Key, tuple]]:
    """The next `limit` snapshot records after the cursor's position (up to `upto`, when given)."""
    if cursor.finished or limit <= 0:
        return []
    scope = scope or SiteScope.of(cursor.site_id)
    position = Key(cursor.after_order, cursor.after_table, cursor.after_record)
    found: list[tuple[Key, tuple]] = []
    for spec in tables_for(full=cursor.full):
        table_key = (spec.order, spec.table)
        if table_key < position[:2]:
            continue
        if upto is not None and table_key > upto[:2]:
            break
        after = position.record if table_key == position[:2] else 0
        for row in _table_page(
            spec,
            scope,
            full=cursor.full,
            taken_at=cursor.taken_at,
            after=after,
            limit=limit - len(found),
            columns=columns,
            loose=loose,
        ):
            key = Key(spec.order, spec.table, row[0])
            if upto is not None and key > upto:
                break
            found.append((key, row))
        if len(found) >= limit:
            break
    return found


def _as_queued(cursor: SnapshotCursor, key: Key, row: tuple) -> tuple:
    """A snapshot row in the shape the codecs encode (QueuedRecord), with its snapshot SyncID."""
    return (sync_id(cursor.epoch, key), *row[1:])


def active_cursor(site_id: int) -> SnapshotCursor | None:
    return SnapshotCursor.objects.filter(site_id=site_id, finished=False).first()


def pending_head(*, site_id: int, limit: int) -> list[tuple]:
    """What a pull sends: the snapshot's next records, then the head of the ordinary queue."""
    rows = selectors.queue_head(site_id=site_id, limit=limit, unless_snapshot=True)
    if rows:
        return rows  # no snapshot to send first
    cursor = active_cursor(site_id)
    if cursor is None:
        return rows
    rows = [_as_queued(cursor, key, row) for key, row in snapshot_rows(cursor, limit=limit)]
    if len(rows) < limit:
        rows += selectors.queue_head(site_id=site_id, limit=limit - len(rows))
    return rows


def pending_by_sync_id(*, site_id: int, sync_id: str) -> list[tuple]:
    """The snapshot record a snapshot SyncID names, while it is still to be acknowledged."""
    parsed = parse_sync_id(sync_id)
    cursor = active_cursor(site_id)
    if parsed is None or cursor is None or parsed[0] != cursor.epoch:
        return []
    key = parsed[1]
    if key <= Key(cursor.after_order, cursor.after_table, cursor.after_record):
        return []
    row = _snapshot_row(cursor, key, SiteScope.of(site_id))
    return [] if row is None else [_as_queued(cursor, key, row)]


def snapshot_remaining(cursor: SnapshotCursor, *, with_queue: bool = False) -> int:
    """Exactly how many snapshot records are still to be acknowledged, in one statement (`with_queue`:
    plus the rows of the site's queue, which is NumRecords).

    A sum of one COUNT per table after the position, each over the same index ranges and with the same
    tests as the pages (`_ranges`), so the count is what the pages will send. It reads the remaining
    records' rows (modified_at is in no index), so it is asked only for NumRecords (count,
    sync_status, initial_dump's answer), never by a pull or an acknowledgement.
    """
    if cursor.finished:
        return 0
    scope = SiteScope(cursor.site_id, stores=None, names=None)
    stamp = connection.ops.adapt_datetimefield_value(cursor.taken_at)
    position = (cursor.after_order, cursor.after_table)
    terms: list[str] = []
    params: list[Any] = []
    if with_queue:
        terms.append(f"(SELECT COUNT(*) FROM {Q} WHERE site_id = %s)")
        params.append(cursor.site_id)
    for spec in tables_for(full=cursor.full):
        table_key = (spec.order, spec.table)
        ranges = _ranges(spec, scope, full=cursor.full)
        if table_key < position or not ranges:
            continue
        after = cursor.after_record if table_key == position else 0
        # One SELECT per range, a record in two ranges counted once (UNION).
        selects = " UNION ".join(
            f"SELECT r.id FROM {R} r WHERE r.record_type = %s AND {clause} AND r.is_deleted = %s "
            f"AND r.id > %s AND r.modified_at <= %s AND {NOT_QUEUED}"
            for clause, _ in ranges
        )
        terms.append(f"(SELECT COUNT(*) FROM ({selects}) u)")
        for _, range_params in ranges:
            params += [spec.name, *range_params, False, after, stamp, scope.site_id]
    if not terms:
        return 0
    with connection.cursor() as db:
        db.execute("SELECT " + " + ".join(terms), params)
        return int(db.fetchone()[0])


def pending_count(*, site_id: int) -> int:
    """NumRecords: the snapshot's remainder plus the ordinary queue."""
    cursor = active_cursor(site_id)
    return selectors.queue_length(site_id=site_id) + (0 if cursor is None else snapshot_remaining(cursor))


# Writing ------------------------------------------------------------------------------------------------


def start_snapshot(*, site: Site, full: bool) -> SnapshotCursor:
    """Clear the site's queue for a dump and place its cursor at the start (in the caller's transaction).

    Kept in the queue: pending deletes (the site may hold those records) and entries of records changed
    after `taken_at` (the snapshot leaves them out; a fan-out committing during the dump is one).
    The cursor row is upserted with the next epoch: two dumps of one site serialise on it.
    """
    taken_at = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(taken_at)
    columns = [
        "site_id",
        "epoch",
        "full",
        "taken_at",
        "after_order",
        "after_table",
        "after_record",
        "finished",
    ]
    names = ", ".join(map(connection.ops.quote_name, columns))
    fresh = [f"{connection.ops.quote_name(c)} = {new_value(c)}" for c in columns[2:]]
    upsert = (
        ("ON DUPLICATE KEY UPDATE" if is_mysql() else "ON CONFLICT (site_id) DO UPDATE SET")
        + f" epoch = {C}.epoch + 1, "
        + ", ".join(fresh)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Q} WHERE site_id = %s AND NOT EXISTS (SELECT 1 FROM {R} d "
            f"WHERE d.id = {Q}.record_id AND (d.is_deleted = %s OR d.modified_at > %s))",
            [site.pk, True, stamp],
        )
        cursor.execute(
            f"INSERT INTO {C} ({names}) VALUES (%s, 1, %s, %s, 0, 0, 0, %s) {upsert}",
            [site.pk, full, stamp, False],
        )
    # The epoch is not needed by the caller (it counts what waits); pulls read the row.
    return SnapshotCursor(site=site, epoch=0, full=full, taken_at=taken_at)


def new_value(column: str) -> str:
    """The inserted value of a column in an upsert's update clause."""
    return f"VALUES({connection.ops.quote_name(column)})" if is_mysql() else f"excluded.{column}"


def _snapshot_row(
    cursor: SnapshotCursor, key: Key, scope: SiteScope, columns: str = _COLUMNS
) -> tuple | None:
    """The record at `key` if it is (still) in the snapshot."""
    spec = next((s for s in tables_for(full=cursor.full) if (s.order, s.table) == key[:2]), None)
    if spec is None:
        return None
    rows = _table_page(
        spec,
        scope,
        full=cursor.full,
        taken_at=cursor.taken_at,
        after=key.record - 1,
        limit=1,
        columns=columns,
    )
    return rows[0] if rows and rows[0][0] == key.record else None


def advance(*, site_id: int, sync_ids: list[str]) -> int:
    """Move the cursor over the acknowledged snapshot records that lead the snapshot; returns how many.

    A SyncID of another dump, one already passed, or one behind a record not acknowledged changes
    nothing (that record is sent again). When nothing is left after the position, the snapshot is
    finished and pulls read only the queue.
    """
    acked: dict[int, set[Key]] = {}
    for text in sync_ids:
        parsed = parse_sync_id(text)
        if parsed is not None:
            acked.setdefault(parsed[0], set()).add(parsed[1])
    if not acked:
        return 0
    with transaction.atomic():
        cursor = SnapshotCursor.objects.select_for_update().filter(site_id=site_id, finished=False).first()
        if cursor is None or cursor.epoch not in acked:
            return 0
        keys = acked[cursor.epoch]
        scope = SiteScope.of(site_id)
        moved = 0
        start = last = Key(cursor.after_order, cursor.after_table, cursor.after_record)
        # From the index alone, in batches up to the largest acknowledged key; a record there that was
        # not acknowledged stops the walk only if it is still in the snapshot (one more read, rare: it
        # changed since the pull, or was never sent).
        stopped = False
        while not stopped:
            batch = snapshot_rows(
                cursor, limit=len(keys) + 1, scope=scope, upto=max(keys), columns="r.id", loose=True
            )
            if not batch:
                break
            for key, _ in batch:
                if key in keys:
                    last, moved = key, moved + 1
                elif _snapshot_row(cursor, key, scope, columns="r.id") is not None:
                    stopped = True
                    break
                # The walk reads on from here (the position is saved below, at the last acknowledged).
                cursor.after_order, cursor.after_table, cursor.after_record = key
        cursor.after_order, cursor.after_table, cursor.after_record = last if moved else start
        cursor.finished = not snapshot_rows(cursor, limit=1, scope=scope, columns="r.id")
        cursor.save(update_fields=["after_order", "after_table", "after_record", "finished"])
        return moved
