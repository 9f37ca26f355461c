"""The queue checked against a model: hypothesis drives pushes, primary edits, pulls, lost, late and
partial acknowledgements, replays and initial dumps at any moment; after every step the server must
agree with the model.

The model is deliberately simple: the central store is a dict of live records, every site's queue is an
ordered dict of pending records (a newer change moves a record to the tail under a new SyncID), and
every satellite keeps a replica built only from what it pushed and what it pulled. Routing is computed
by the model from docs/protocol.md, "Queues", independently of the server's SQL.

An initial dump is a snapshot (docs/protocol.md): its records lead the queue in dump order (dump_order,
table number, record key) and are never written as queue rows; a record changed after the dump leaves
the snapshot and goes to the tail like any change; acknowledging snapshot records removes only those
that lead the snapshot.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from apps.queue.models import QueueEntry
from apps.queue.services import primary_changes_apply
from apps.records.canonical import wire_record
from apps.records.changes import Change
from apps.records.models import Record, RecordType
from apps.sites.models import PRIMARY_SITE_ID, Site
from tests.stateful import SITES, STORES, forget_sync_state, run_machine
from tests.support import SyncClient, client_for, make_site, record

pytestmark = pytest.mark.django_db

NAMES = {site: f"NAME_STORE{site}" for site in SITES}
SITE_OF_STORE = {store: site for site, store in STORES.items()}
CUSTOMER_NAME = "NAME_CUSTOMER"  # a customer that is no store anywhere: its invoices stay home
CENTRAL_TYPES = ("item", "unit")
STORE_TYPES = ("Location", "item_line")
DUMP_ORDER = {"unit": 10, "item": 20, "Location": 50, "item_line": 60, "transact": 70, "trans_line": 80}

Key = tuple[str, str]
Values = tuple[str, Any, bool]

texts = st.sampled_from(["", "a", "b", "Zoë", "x y"])
numbers = st.one_of(st.none(), st.booleans(), st.integers(-1, 3), st.sampled_from([0.5, 2.0]))
values = st.tuples(texts, numbers, st.booleans())
site_ids = st.sampled_from(SITES)
# None is a delete.
store_ops = st.lists(
    st.tuples(st.sampled_from(STORE_TYPES), st.integers(0, 2), st.none() | values),
    min_size=1,
    max_size=4,
    unique_by=lambda op: (op[0], op[1]),
)
central_ops = st.lists(
    st.tuples(st.sampled_from(CENTRAL_TYPES), st.integers(0, 2), st.none() | values),
    min_size=1,
    max_size=3,
    unique_by=lambda op: (op[0], op[1]),
)
line_ops = st.lists(st.tuples(st.integers(0, 2), st.none() | values), max_size=3, unique_by=lambda op: op[0])


def store_data(record_type: str, record_id: str, store_id: str, v: Values) -> dict[str, Any]:
    text, number, flag = v
    if record_type == "Location":
        return {"ID": record_id, "store_ID": store_id, "code": text, "Volume": number, "hold": flag}
    return {"ID": record_id, "store_ID": store_id, "batch": text, "quantity": number, "hold": flag}


def central_data(record_type: str, record_id: str, v: Values) -> dict[str, Any]:
    text, number, flag = v
    if record_type == "item":
        return {"ID": record_id, "item_name": text, "default_pack_size": number, "price_editable": flag}
    return {"ID": record_id, "units": text, "order_number": number}


def dump_key(key: Key) -> tuple[int, int, int]:
    """Where the server's snapshot places a record: dump order, table number, the record's key."""
    table = RecordType.objects.get(name=key[0])
    return (table.dump_order, table.table_number, Record.objects.get(record_type=key[0], record_id=key[1]).pk)


def same_record(record_type: str, a: dict[str, Any], b: dict[str, Any]) -> bool:
    # The server compares records in their canonical form (1 and 1.0 are one number, but not True).
    return wire_record(record_type, a) == wire_record(record_type, b)


@dataclass
class Entry:
    """A pending queue entry in the model; the SyncID is learnt when the entry is first pulled."""

    generation: int
    sync_id: str | None = None
    snapshot: bool = False  # served from a dump's snapshot cursor, not from a queue row


@dataclass(frozen=True)
class Placement:
    """Where a record lives, as the central store records it (kept after a delete)."""

    store_id: str = ""
    transfer_name_id: str = ""


def routed_sites(key: Key, placement: Placement) -> set[int]:
    """docs/protocol.md, "Queues": central data everywhere, store data home. An invoice to another store
    stays home too: its other party gets a supplier invoice of its own once the invoice is finalised,
    which these (never finalised) transactions are not; tests/records/test_transfer_model.py models
    that."""
    if key[0] in CENTRAL_TYPES:
        return set(SITES)
    return {SITE_OF_STORE[placement.store_id]}


class QueueMachine(RuleBasedStateMachine):
    clients: dict[int, SyncClient] = {}

    def __init__(self) -> None:
        super().__init__()
        # Every example starts from empty queues and an empty central store; the sites stay.
        forget_sync_state()
        self.central: dict[Key, dict[str, Any]] = {}  # live records, as pushed (typed values)
        self.change_type: dict[Key, str] = {}
        self.placement: dict[Key, Placement] = {}  # every record ever written, deleted ones too
        self.pending: dict[int, dict[Key, Entry]] = {site: {} for site in SITES}
        self.replica: dict[int, dict[Key, dict[str, str]]] = {site: {} for site in SITES}
        self.pushes: dict[int, list[list[dict[str, Any]]]] = {site: [] for site in SITES}
        self.unacked: dict[int, list[str]] = {site: [] for site in SITES}
        self.seen_sync_ids: dict[int, set[str]] = {site: set() for site in SITES}
        self.partner_of: dict[str, str] = {}  # transact id -> its name_ID (fixed once pushed)
        self.dump_generations: set[int] = set()
        self.generation = 0
        self.sync_ids = itertools.count(1)
        self.steps_ok = False

    # The model ---------------------------------------------------------------------------------------
    def write(self, key: Key, data: dict[str, Any] | None, placement: Placement, source: int) -> None:
        """Apply one change to the model as the server should: unchanged upserts and deletes of
        records that are not live are applied but queue nothing."""
        if data is None:
            if key not in self.central:
                return
            del self.central[key]
            self.change_type[key] = "D"
        else:
            old = self.central.get(key)
            if old is not None and same_record(key[0], old, data):
                return
            self.change_type[key] = "U" if old is not None else "I"
            self.central[key] = data
            self.placement[key] = placement
        if source != PRIMARY_SITE_ID:
            # The source's own pending entry is older than what it just pushed: dropped.
            self.pending[source].pop(key, None)
        for site in routed_sites(key, self.placement[key]) - {source}:
            self.pending[site].pop(key, None)
            self.pending[site][key] = Entry(self.generation)

    def expected_replica(self, site: int) -> dict[Key, dict[str, str]]:
        return {
            key: wire_record(key[0], data)
            for key, data in self.central.items()
            if site in routed_sites(key, self.placement[key])
        }

    def next_sync_id(self, site: int) -> str:
        return f"{site}-{next(self.sync_ids)}"

    def push(self, site: int, envelopes: list[dict[str, Any]], local: list[tuple[Key, Any]]) -> None:
        body = self.clients[site].push(envelopes)
        n = len(envelopes)
        assert body == {
            "error": "",
            "received": n,
            "applied": n,
            "duplicates": 0,
            "quarantined": 0,
            "quarantinedRecords": [],
        }
        self.pushes[site].append(envelopes)
        for key, data in local:  # the satellite's own database already holds what it pushed
            if data is None:
                self.replica[site].pop(key, None)
            else:
                self.replica[site][key] = wire_record(key[0], data)

    def envelope(self, site: int, key: Key, data: dict[str, Any] | None) -> dict[str, Any]:
        sync_id = self.next_sync_id(site)
        if data is None:
            return {
                "SyncID": sync_id,
                "RecordType": key[0],
                "RecordID": key[1],
                "SyncType": "D",
                "StoreID": STORES[site],
            }
        sync_type = "U" if key in self.central else "I"
        return record(key[0], key[1], data, sync_id=sync_id, store_id=STORES[site], sync_type=sync_type)

    def pull(self, site: int, limit: int) -> list[dict[str, Any]]:
        """Pull a batch, check it against the model, and apply it to the site's replica."""
        rows = self.clients[site].pull(limit)
        pending = self.pending[site]
        # While the snapshot holds records a pull sends only them (the page may be short).
        snapshot = [key for key in pending if pending[key].snapshot]
        assert len(rows) == min(limit, len(snapshot) or len(pending)), (rows, pending)
        keys = [(row["RecordType"], row["RecordID"]) for row in rows]
        assert len(set(keys)) == len(keys), f"a record twice in one batch: {keys}"
        generations = []
        for row, key in zip(rows, keys, strict=True):
            assert key in pending, f"{key} pulled by site {site} but not routed to it (or acknowledged)"
            entry = pending[key]
            if entry.sync_id is None:
                assert row["SyncID"] not in self.seen_sync_ids[site], "a queued change reused a SyncID"
                assert isinstance(row["SyncID"], str), row
                entry.sync_id = row["SyncID"]
                self.seen_sync_ids[site].add(row["SyncID"])
            else:
                assert row["SyncID"] == entry.sync_id, "pulling again changed an unchanged entry's SyncID"
            self.check_row(row, key)
            generations.append(entry.generation)
        assert generations == sorted(generations), "the queue is not oldest first"
        if rows:
            older = {key for key, entry in pending.items() if entry.generation < generations[-1]}
            assert older <= set(keys), f"older entries skipped: {older - set(keys)}"
        # The snapshot leads, in dump order; then the queue.
        assert keys[: len(snapshot)] == snapshot[: len(keys)], (keys, snapshot)
        for (row, key), (next_row, next_key) in itertools.pairwise(zip(rows, keys, strict=True)):
            if pending[key].snapshot and pending[next_key].snapshot:
                assert DUMP_ORDER[key[0]] <= DUMP_ORDER[next_key[0]], (row, next_row)
        for row, key in zip(rows, keys, strict=True):
            if row["SyncType"] == "D":
                self.replica[site].pop(key, None)
            else:
                self.replica[site][key] = row["data"]
        return rows

    def check_row(self, row: dict[str, Any], key: Key) -> None:
        assert row["StoreID"] == self.placement[key].store_id, row
        if key in self.central:
            assert row["SyncType"] == self.change_type[key], row
            # Values travel as strings (docs/protocol.md, "Records").
            assert row["data"] == wire_record(key[0], self.central[key]), row
        else:
            assert row["SyncType"] == "D", row
            assert "data" not in row, row

    def acknowledge(self, site: int, sync_ids: list[str]) -> None:
        self.clients[site].ack(sync_ids)
        acked = set(sync_ids)
        leading = True  # snapshot records go only as a run at the snapshot's head
        for key, entry in list(self.pending[site].items()):
            if entry.snapshot:
                if leading and entry.sync_id in acked:
                    del self.pending[site][key]
                else:
                    leading = False
            elif entry.sync_id in acked:
                del self.pending[site][key]

    def drain(self, site: int, limit: int) -> None:
        count = self.clients[site].count()
        delivered = 0
        while rows := self.pull(site, limit):
            delivered += len(rows)
            self.acknowledge(site, [row["SyncID"] for row in rows])
        assert delivered == count, f"count said {count}, the drain delivered {delivered}"
        assert not self.pending[site]
        assert self.replica[site] == self.expected_replica(site)

    # Rules -------------------------------------------------------------------------------------------
    @rule(site=site_ids, ops=store_ops)
    def satellite_pushes_store_records(self, site: int, ops: list[tuple[str, int, Values | None]]) -> None:
        self.steps_ok = False
        self.generation += 1
        store = STORES[site]
        envelopes, local = [], []
        for record_type, index, v in ops:
            key = (record_type, f"{record_type}-{site}-{index}")
            data = None if v is None else store_data(record_type, key[1], store, v)
            envelopes.append(self.envelope(site, key, data))
            local.append((key, data))
        self.push(site, envelopes, local)
        for key, data in local:
            self.write(key, data, Placement(store_id=store), site)

    @rule(
        site=site_ids,
        partner=st.sampled_from([*SITES, None]),
        index=st.integers(0, 1),
        header=st.just("keep") | st.none() | values,
        lines=line_ops,
    )
    def satellite_pushes_a_transfer(
        self,
        site: int,
        partner: int | None,
        index: int,
        header: str | Values | None,
        lines: list[tuple[int, Values | None]],
    ) -> None:
        self.steps_ok = False
        self.generation += 1
        store = STORES[site]
        transact_id = f"T-{site}-{index}"
        if transact_id not in self.partner_of:
            # A new transfer starts with its header; its other party never changes afterwards.
            self.partner_of[transact_id] = NAMES[partner] if partner else CUSTOMER_NAME
            if not isinstance(header, tuple):
                header = ("new", 1, False)
        placement = Placement(store_id=store, transfer_name_id=self.partner_of[transact_id])
        changes: list[tuple[Key, dict[str, Any] | None]] = []
        if header != "keep":
            data = None
            if isinstance(header, tuple):
                text, number, flag = header
                data = {
                    "ID": transact_id,
                    "store_ID": store,
                    "name_ID": placement.transfer_name_id,
                    "comment": text,
                    "amount_outstanding": number,
                    "hold": flag,
                }
            changes.append((("transact", transact_id), data))
        for line, v in lines:
            line_id = f"TL-{site}-{index}-{line}"
            data = None
            if v is not None:
                text, number, _ = v
                data = {"ID": line_id, "transaction_ID": transact_id, "quantity": number, "note": text}
            changes.append((("trans_line", line_id), data))
        if not changes:
            return
        self.push(site, [self.envelope(site, key, data) for key, data in changes], changes)
        for key, data in changes:
            self.write(key, data, placement, site)

    @rule(ops=central_ops)
    def primary_edits_central_records(self, ops: list[tuple[str, int, Values | None]]) -> None:
        self.steps_ok = False
        self.generation += 1
        changes, model = [], []
        for record_type, index, v in ops:
            key = (record_type, f"{record_type}-{index}")
            if v is None:
                changes.append(Change(record_type=record_type, record_id=key[1], action="delete"))
                model.append((key, None))
            else:
                data = central_data(record_type, key[1], v)
                changes.append(Change(record_type=record_type, record_id=key[1], action="upsert", data=data))
                model.append((key, data))
        result = primary_changes_apply(changes=changes)
        assert result.refused == []
        for key, data in model:
            self.write(key, data, Placement(), PRIMARY_SITE_ID)

    @rule(site=site_ids, limit=st.integers(1, 6))
    def satellite_pulls_and_acknowledges(self, site: int, limit: int) -> None:
        self.steps_ok = False
        rows = self.pull(site, limit)
        self.acknowledge(site, [row["SyncID"] for row in rows])

    @rule(site=site_ids, limit=st.integers(1, 6))
    def satellite_pulls_but_the_ack_is_lost(self, site: int, limit: int) -> None:
        self.steps_ok = False
        rows = self.pull(site, limit)
        self.unacked[site].extend(row["SyncID"] for row in rows)

    @precondition(lambda self: any(self.unacked.values()))
    @rule(data=st.data())
    def satellite_acknowledges_late(self, data: st.DataObject) -> None:
        """The ack of an old pull arrives after newer changes: it must not discard them."""
        self.steps_ok = False
        site = data.draw(st.sampled_from([s for s in SITES if self.unacked[s]]), label="site")
        sync_ids, self.unacked[site] = self.unacked[site], []
        self.acknowledge(site, sync_ids)

    @precondition(lambda self: any(self.pushes.values()))
    @rule(data=st.data())
    def satellite_replays_an_earlier_push(self, data: st.DataObject) -> None:
        self.steps_ok = False
        site = data.draw(st.sampled_from([s for s in SITES if self.pushes[s]]), label="site")
        envelopes = data.draw(st.sampled_from(self.pushes[site]), label="batch")
        body = self.clients[site].push(envelopes)
        n = len(envelopes)
        assert (body["received"], body["applied"], body["duplicates"], body["quarantined"]) == (n, 0, n, 0)

    @rule(site=site_ids, limit=st.integers(2, 6))
    def satellite_acknowledges_part_of_a_page(self, site: int, limit: int) -> None:
        """Only the tail of a page acknowledged: what leads it stays, and nothing after it is lost."""
        self.steps_ok = False
        rows = self.pull(site, limit)
        self.acknowledge(site, [row["SyncID"] for row in rows[1:]])

    @rule(site=site_ids)
    def satellite_reinstalls_with_a_full_initial_dump(self, site: int) -> None:
        self.steps_ok = False
        self.generation += 1
        expected = sorted(
            (key for key in self.central if site in routed_sites(key, self.placement[key])), key=dump_key
        )
        # Pending deletes stay queued (the site may hold those records), after the snapshot.
        kept = {key: entry for key, entry in self.pending[site].items() if key not in self.central}
        for entry in kept.values():
            entry.generation = self.generation
        dumped = {"error": "", "type": "full", "NumRecords": len(kept) + len(expected)}
        assert self.clients[site].initial_dump(full=True) == dumped
        self.dump_generations.add(self.generation)
        self.pending[site] = {**{key: Entry(self.generation, snapshot=True) for key in expected}, **kept}
        self.replica[site] = {}

    @rule(site=site_ids, limit=st.integers(1, 4))
    def satellite_drains_its_queue(self, site: int, limit: int) -> None:
        self.steps_ok = False
        self.drain(site, limit)

    # Invariants --------------------------------------------------------------------------------------
    @invariant()
    def server_agrees_with_the_model(self) -> None:
        for site in SITES:
            # A dump writes no queue rows: only changes (and kept deletes) are rows.
            entries = QueueEntry.objects.filter(site_id=site).count()
            assert entries == sum(not entry.snapshot for entry in self.pending[site].values()), site
            assert self.clients[site].count() == len(self.pending[site]), site
        stored = {
            (t, i): (deleted, wire, Placement(store_id, transfer))
            for t, i, deleted, wire, store_id, transfer in Record.objects.exclude(
                record_type_id="store"
            ).values_list("record_type", "record_id", "is_deleted", "wire", "store_id", "transfer_name_id")
        }
        live = {key: orjson.loads(wire) for key, (deleted, wire, _) in stored.items() if not deleted}
        assert live == {key: wire_record(key[0], data) for key, data in self.central.items()}
        assert set(stored) == set(self.placement)
        assert {key: placement for key, (_, _, placement) in stored.items()} == self.placement
        self.steps_ok = True

    def teardown(self) -> None:
        # Every example ends with every site drained and its replica checked, unless a step failed
        # already (then that failure is the one to report).
        if self.steps_ok:
            for site in SITES:
                self.drain(site, 5)


def test_the_queue_agrees_with_a_model_of_routing_acks_replays_and_dumps():
    Site.objects.get_or_create(id=PRIMARY_SITE_ID, defaults={"name": "primary"})
    QueueMachine.clients = {site: client_for(make_site(site)) for site in SITES}
    run_machine(QueueMachine, examples=30, steps=30)
