"""Initial dumps as snapshot cursors: what a dump sends is read page by page, never copied into the queue.

`initial_dump` (snapshot_start) clears the site's queue as before, keeping its pending deletes, and
records a cursor: which set (full or mobile subset), the time `taken_at`, and the last acknowledged key.
A record is in site S's snapshot while it is
- in one of the snapshot's index ranges for S (the site's stores, transfers to them, central data or
  the mobile subset of it): routing as it is when the snapshot is read;
- live;
- not in S's queue: a change made after the dump is sent from there, once;
- not changed last by S itself since `taken_at`: S holds that version, and nothing is echoed.
The snapshot is read in dump order (the registry's dump_order, then the table number, then the record's
primary key) by keyset, one index range per table and store, each record as committed when the page is
read. While the snapshot holds records, a pull sends only them (a page may be short); when a read finds
none the cursor is finished and pulls read only the queue. So the site sees no queue SyncID before its
snapshot is done: acknowledging a queue entry of a record still ahead of the cursor would put that
record back in the snapshot, to be sent twice. Acknowledging a snapshot page moves the cursor over the
acknowledged keys that lead the snapshot.

Why nothing is lost and nothing older wins (docs/development/concurrency.md):
- every write fans the record out to the sites it routes to (other than its source), in its own
  transaction; so a record another party changes after its page was read is in S's queue, and a record
  S changes itself is S's latest;
- membership is decided by the queue at the moment a page is read, so each routed, live record is
  either in the snapshot or in the queue, never both and never neither, whatever commits meanwhile;
- membership tests need no lock: the cursor moves by a conditional UPDATE from the position it read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from heapq import merge
from typing import Any, NamedTuple

from django.db import connection
from django.utils import timezone

from apps.lib.sql import force_index, inserted_value, int_list, ordered_join, upsert_head
from apps.records.models import Record
from apps.records.registry import Registry, get_registry
from apps.sites.models import Site, Store

from . import selectors
from .models import QueueEntry, SnapshotCursor

Q = QueueEntry._meta.db_table
R = Record._meta.db_table
ST = Store._meta.db_table
C = SnapshotCursor._meta.db_table

# Every membership test but S's own changes reads only indexes: the record's index range, then one probe
# of the queue's unique (site, record) key.
NOT_QUEUED = f"NOT EXISTS (SELECT 1 FROM {Q} q WHERE q.site_id = %s AND q.record_id = r.id)"
# S's own changes since the dump: read from the record's row in pages, and from the (source site,
# modified_at) index when counting.
OWN_LATER = "r.source_site_id = %s AND r.modified_at > %s"
NOT_OWN_LATER = f"NOT ({OWN_LATER})"
OWN_LATER_INDEX = "record_source_modified_idx"
_COLUMNS = "r.id, r.record_type, r.record_id, r.change_type, r.store_id, r.wire, r.merged_into"
SYNC_ID_PREFIX = "s"
# The index each keyset range reads (by the range's WHERE clause), named to the database so it reads a
# range of it and not every entry before the position (apps/lib/sql.force_index).
INDEX_OF_RANGE = {
    "r.store_id = %s": "record_store_type_idx",
    "r.store_id = ''": "record_store_type_idx",
    "r.transfer_name_id = %s": "record_transfer_idx",
}
# A SyncID's head: s<epoch>.<order>.<table>; the record's number follows the last dot.
_SYNC_ID_HEAD = re.compile(re.escape(SYNC_ID_PREFIX) + r"\.".join([r"([0-9]{1,19})"] * 3))


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


_memo: list[tuple[Registry, tuple[TableSpec, ...], tuple[TableSpec, ...]]] = []


def tables_for(*, full: bool) -> tuple[TableSpec, ...]:
    """The dump's tables in dump order, every one (`full`) or the mobile subset's (the RecordType table
    mirrors the same registry), worked out once per registry object (tests may load another): every
    pull, walk and count asks."""
    registry = get_registry()
    if not _memo or _memo[0][0] is not registry:
        every = _specs(registry)
        _memo[:] = [(registry, every, tuple(t for t in every if t.mobile))]
    return _memo[0][1] if full else _memo[0][2]


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


# SyncIDs ------------------------------------------------------------------------------------------------


def sync_id(epoch: int, key: Key) -> str:
    """A snapshot record's SyncID: never all digits, so it cannot name a queue entry."""
    return f"{SYNC_ID_PREFIX}{epoch}.{key.order}.{key.table}.{key.record}"


def parse_sync_id(text: object) -> tuple[int, Key] | None:
    """(epoch, key) of a snapshot SyncID, or None for anything else."""
    acked = _parse_acknowledged([text])
    return next(((epoch, Key(*key)) for epoch, keys in acked.items() for key in keys), None)


def _parse_acknowledged(sync_ids: list[Any]) -> dict[int, set[tuple[int, int, int]]]:
    """The snapshot keys among SyncIDs, by epoch; anything else is skipped.

    A page's SyncIDs share their epoch, order and table: that head is parsed once per distinct value,
    the record numbers one by one (a key as a plain tuple equals the Key it names)."""
    records_by_head: dict[str, list[str]] = {}
    for text in sync_ids:
        text = text.strip() if isinstance(text, str) else ""
        if text.startswith(SYNC_ID_PREFIX):
            head, _, record = text.rpartition(".")
            records_by_head.setdefault(head, []).append(record)
    acked: dict[int, set[tuple[int, int, int]]] = {}
    for head, records in records_by_head.items():
        match = _SYNC_ID_HEAD.fullmatch(head)
        numbers = {int(r) for r in records if r.isascii() and r.isdigit() and len(r) <= 19}
        if match is not None and numbers:
            epoch, order, table = map(int, match.groups())
            acked.setdefault(epoch, set()).update((order, table, number) for number in numbers)
    return acked


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


START = Key(0, 0, 0)


@dataclass(frozen=True)
class OpenSnapshot:
    """A site's unfinished snapshot, as one read found it.

    `taken_at` is kept as the database returned it: it only goes back into statements."""

    site_id: int
    epoch: int
    full: bool
    taken_at: Any
    position: Key
    scope: SiteScope


def open_snapshot(site_id: int) -> OpenSnapshot | None:
    """The site's unfinished snapshot and the stores it reads, in one statement; None when it has none."""
    with connection.cursor() as db:
        db.execute(
            f"SELECT c.epoch, c.{connection.ops.quote_name('full')}, c.taken_at, c.after_order, "
            f"c.after_table, c.after_record, s.id, s.name_id FROM {C} c "
            f"LEFT JOIN {ST} s ON s.site_id = c.site_id WHERE c.site_id = %s AND c.finished = %s "
            "ORDER BY s.id",
            [site_id, False],
        )
        rows = db.fetchall()
    if not rows:
        return None
    epoch, full, taken_at, *position = rows[0][:6]
    stores = tuple(row[6] for row in rows if row[6] is not None)
    names = tuple(sorted({row[7] for row in rows if row[7]}))
    return OpenSnapshot(
        site_id=site_id,
        epoch=epoch,
        full=bool(full),
        taken_at=taken_at,
        position=Key(*position),
        scope=SiteScope(site_id, stores, names),
    )


def _range_hint(clause: str) -> str:
    return force_index(INDEX_OF_RANGE[clause]) if clause in INDEX_OF_RANGE else ""


def _table_page(
    spec: TableSpec,
    snapshot: OpenSnapshot,
    *,
    after: int,
    limit: int,
    columns: str = _COLUMNS,
    indexes_only: bool = False,
) -> list[tuple]:
    """Up to `limit` of the table's snapshot records with a key above `after`, in key order.

    `columns` starts with the record's id; an acknowledgement reads only that (not the wide `wire`).
    `indexes_only`: without the test of S's own changes, which reads each record's row: the snapshot's
    records and those S changed itself since the dump (`own_changes`)."""
    tests, test_params = f" AND {NOT_QUEUED}", [snapshot.site_id]
    if not indexes_only:
        tests += f" AND {NOT_OWN_LATER}"
        test_params += [snapshot.site_id, snapshot.taken_at]
    results = []
    with connection.cursor() as cursor:
        for clause, params in _ranges(spec, snapshot.scope, full=snapshot.full):
            hint = _range_hint(clause)
            cursor.execute(
                f"SELECT {columns} FROM {R} r {hint} WHERE r.record_type = %s AND {clause} "
                f"AND r.is_deleted = %s AND r.id > %s{tests} ORDER BY r.id LIMIT %s",
                [spec.name, *params, False, after, *test_params, limit],
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
    snapshot: OpenSnapshot,
    *,
    limit: int,
    after: Key | None = None,
    columns: str = _COLUMNS,
    indexes_only: bool = False,
) -> list[tuple[Key, tuple]]:
    """The next `limit` snapshot records after `after` (by default the cursor's position)."""
    position = snapshot.position if after is None else after
    found: list[tuple[Key, tuple]] = []
    for spec in tables_for(full=snapshot.full):
        if len(found) >= limit:
            break
        table_key = (spec.order, spec.table)
        if table_key < position[:2]:
            continue
        for row in _table_page(
            spec,
            snapshot,
            after=position.record if table_key == position[:2] else 0,
            limit=limit - len(found),
            columns=columns,
            indexes_only=indexes_only,
        ):
            found.append((Key(spec.order, spec.table, row[0]), row))
    return found


def _as_queued(snapshot: OpenSnapshot, key: Key, row: tuple) -> tuple:
    """A snapshot row in the shape the codecs encode (QueuedRecord), with its snapshot SyncID."""
    return (sync_id(snapshot.epoch, key), *row[1:])


def pending_head(*, site_id: int, limit: int) -> list[tuple]:
    """What a pull sends: the snapshot's next records while it has any, else the head of the queue."""
    rows = selectors.queue_head(site_id=site_id, limit=limit, unless_snapshot=True)
    if rows:
        return rows  # no snapshot to send first
    snapshot = open_snapshot(site_id)
    if snapshot is None:
        return rows
    page = [_as_queued(snapshot, key, row) for key, row in snapshot_rows(snapshot, limit=limit)]
    if page:
        return page
    _finish(snapshot)
    return selectors.queue_head(site_id=site_id, limit=limit)


def _finish(snapshot: OpenSnapshot) -> None:
    """Nothing is left after the position: pulls read only the queue from now on. (Unless a new dump
    began meanwhile: the epoch is part of the test.)"""
    with connection.cursor() as db:
        db.execute(
            f"UPDATE {C} SET finished = %s WHERE site_id = %s AND epoch = %s",
            [True, snapshot.site_id, snapshot.epoch],
        )


def _snapshot_row(snapshot: OpenSnapshot, key: Key, columns: str = _COLUMNS) -> tuple | None:
    """The record at `key` if it is (still) in the snapshot."""
    spec = next((s for s in tables_for(full=snapshot.full) if (s.order, s.table) == key[:2]), None)
    if spec is None:
        return None
    rows = _table_page(spec, snapshot, after=key.record - 1, limit=1, columns=columns)
    return rows[0] if rows and rows[0][0] == key.record else None


def pending_by_sync_id(*, site_id: int, sync_id: str) -> list[tuple]:
    """The snapshot record a snapshot SyncID names, while it is still to be acknowledged."""
    parsed = parse_sync_id(sync_id)
    snapshot = None if parsed is None else open_snapshot(site_id)
    if parsed is None or snapshot is None or parsed[0] != snapshot.epoch or parsed[1] <= snapshot.position:
        return []
    row = _snapshot_row(snapshot, parsed[1])
    return [] if row is None else [_as_queued(snapshot, parsed[1], row)]


def snapshot_remaining(
    *, site_id: int, full: bool, taken_at: Any, position: Key = START, with_queue: bool = False
) -> int:
    """Exactly how many snapshot records are after `position`, in one statement (`with_queue`: plus the
    rows of the site's queue, which is NumRecords).

    The same tests as the pages, each counted where it is cheap: per table, the live records of its
    index ranges from the indexes alone; less those of them with a row in the site's queue, in one pass
    over that queue's rows (few: changes since the dump, pending deletes), not one probe of the queue
    per record; less those S changed itself since `taken_at`, through the (source site, modified_at)
    index."""
    scope = SiteScope(site_id, stores=None, names=None)
    terms: list[str] = []
    params: list[Any] = []
    if with_queue:
        terms.append(f"+ (SELECT COUNT(*) FROM {Q} WHERE site_id = %s)")
        params.append(site_id)
    queued_tests: list[str] = []
    queued_params: list[Any] = []
    for spec in tables_for(full=full):
        table_key = (spec.order, spec.table)
        ranges = _ranges(spec, scope, full=full)
        if table_key < position[:2] or not ranges:
            continue
        after = position.record if table_key == position[:2] else 0
        head, head_params = (
            "r.record_type = %s AND r.is_deleted = %s AND r.id > %s",
            [spec.name, False, after],
        )
        live = [f"FROM {R} r {_range_hint(clause)} WHERE {head} AND {clause}" for clause, _ in ranges]
        own_hint = force_index(OWN_LATER_INDEX)
        own = [
            f"FROM {R} r {own_hint} WHERE {OWN_LATER} AND {head} AND {c} AND {NOT_QUEUED}" for c, _ in ranges
        ]
        terms += [f"+ {_count_once(live)}", f"- {_count_once(own)}"]
        for _, range_params in ranges:
            params += [*head_params, *range_params]
        for _, range_params in ranges:
            params += [site_id, taken_at, *head_params, *range_params, site_id]
        queued_tests.append(f"({head} AND ({' OR '.join(f'({clause})' for clause, _ in ranges)}))")
        queued_params += [*head_params, *(p for _, range_params in ranges for p in range_params)]
    if queued_tests:
        terms.append(
            f"- (SELECT COUNT(*) FROM {Q} q {ordered_join()} {R} r ON r.id = q.record_id "
            f"WHERE q.site_id = %s AND ({' OR '.join(queued_tests)}))"
        )
        params += [site_id, *queued_params]
    with connection.cursor() as db:
        db.execute(f"SELECT 0 {' '.join(terms)}", params)
        return int(db.fetchone()[0])


def _count_once(selections: list[str]) -> str:
    """COUNT(*) of the rows `FROM ... WHERE ...` selects, a record in two of them counted once."""
    if len(selections) == 1:
        return f"(SELECT COUNT(*) {selections[0]})"  # no derived table to fill
    return f"(SELECT COUNT(*) FROM ({' UNION '.join(f'SELECT r.id {s}' for s in selections)}) u)"


def pending_count(*, site_id: int) -> int:
    """NumRecords: the snapshot's remainder plus the ordinary queue."""
    snapshot = open_snapshot(site_id)
    if snapshot is None:
        return selectors.queue_length(site_id=site_id)
    return snapshot_remaining(
        site_id=site_id,
        full=snapshot.full,
        taken_at=snapshot.taken_at,
        position=snapshot.position,
        with_queue=True,
    )


# Writing ------------------------------------------------------------------------------------------------


def snapshot_start(*, site: Site, full: bool) -> Any:
    """Clear the site's queue for a dump and place its cursor at the start (in the caller's transaction);
    returns `taken_at` as the database holds it.

    Pending deletes stay queued: the site may hold those records, and the snapshot sends live records
    only. The cursor row is upserted with the next epoch: two dumps of one site serialise on it."""
    taken_at = connection.ops.adapt_datetimefield_value(timezone.now())
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
    quoted = list(map(connection.ops.quote_name, columns))
    fresh = [f"{c} = {inserted_value(c)}" for c in quoted[2:]]
    upsert = f"{upsert_head(key=['site_id'])} epoch = {C}.epoch + 1, " + ", ".join(fresh)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Q} WHERE site_id = %s AND NOT EXISTS "
            f"(SELECT 1 FROM {R} d WHERE d.id = {Q}.record_id AND d.is_deleted = %s)",
            [site.pk, True],
        )
        cursor.execute(
            f"INSERT INTO {C} ({', '.join(quoted)}) VALUES (%s, 1, %s, %s, 0, 0, 0, %s) {upsert}",
            [site.pk, full, taken_at, False],
        )
    return taken_at


def own_changes(snapshot: OpenSnapshot, record_ids: list[int]) -> set[int]:
    """Those of the records that S changed itself since the dump (out of its snapshot): one statement."""
    if not record_ids:
        return set()
    with connection.cursor() as db:
        db.execute(
            f"SELECT r.id FROM {R} r WHERE r.id IN ({int_list(record_ids)}) AND {OWN_LATER}",
            [snapshot.site_id, snapshot.taken_at],
        )
        return {row[0] for row in db.fetchall()}


def snapshot_advance(*, site_id: int, sync_ids: list[str]) -> int:
    """Move the cursor over the acknowledged snapshot records that lead the snapshot; returns how many.

    A SyncID of another dump, one already passed, or one behind a record not acknowledged changes
    nothing (that record is sent again). The walk reads the keys of the records after the position
    from the indexes alone (one statement, their ids, one more than were acknowledged): the cursor
    moves over those acknowledged, up to the first that was not and is still to be sent. A record
    that left the snapshot since the pull is not in the walk (queued), or is found to be S's own change
    (one more statement, only when the walk holds keys that were not acknowledged): it stops nothing.
    When the walk saw everything after the position, the snapshot is finished in the same UPDATE. The
    UPDATE moves the cursor only from the position the walk started at; if another acknowledgement moved
    it first, read again.
    """
    acked = _parse_acknowledged(sync_ids)
    if not acked:
        return 0
    while True:  # again only when another acknowledgement moved the cursor first
        snapshot = open_snapshot(site_id)
        if snapshot is None or snapshot.epoch not in acked:
            return 0
        ahead = {key for key in acked[snapshot.epoch] if key > snapshot.position}
        if not ahead:
            return 0
        position, moved, finished = _walk(snapshot, ahead)
        if not moved and not finished:
            return 0
        with connection.cursor() as db:
            db.execute(
                f"UPDATE {C} SET after_order = %s, after_table = %s, after_record = %s, finished = %s "
                "WHERE site_id = %s AND epoch = %s AND finished = %s "
                "AND after_order = %s AND after_table = %s AND after_record = %s",
                [*position, finished, site_id, snapshot.epoch, False, *snapshot.position],
            )
            if db.rowcount == 1:
                return moved


def _walk(snapshot: OpenSnapshot, ahead: set[tuple[int, int, int]]) -> tuple[Key, int, bool]:
    """(new position, records passed, finished) for acknowledged keys `ahead` of the position."""
    position, moved, walked, last_acked = snapshot.position, 0, snapshot.position, max(ahead)
    while True:
        limit = len(ahead) - moved + 1
        walk = [
            key
            for key, _ in snapshot_rows(
                snapshot, after=walked, limit=limit, columns="r.id", indexes_only=True
            )
        ]
        unacked = [key for key in walk if key not in ahead and key <= last_acked]
        own = own_changes(snapshot, [key.record for key in unacked])
        for key in walk:
            if key in ahead:
                position, moved = key, moved + 1
            elif key > last_acked or key.record not in own:
                return position, moved, False  # still to be sent: the cursor stops before it
            walked = key
        if len(walk) < limit:
            return position, moved, True  # the walk reached the end: nothing after it is left
        if moved == len(ahead):
            return position, moved, False
