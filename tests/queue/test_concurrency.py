"""Many sites and the primary at once, on real parallel MySQL/MariaDB connections.

Six satellite threads push their own store records and finalised invoices to each other's stores (each
must become exactly one supplier invoice in the receiving store), replay a push, pull
(sometimes losing the acknowledgement), acknowledge and re-install with a full dump, while two threads
edit central records on the primary, which fans out to every site. Each thread has its own database
connection. Afterwards nothing may have failed, no (site, record) may be pending twice, the central
store must hold every record's latest version, and every site's replica, built only from what it
pushed and pulled, must equal exactly what is routed to it.
"""

from __future__ import annotations

import itertools
import random
import threading
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.db import connections
from django.db.models import Count

from apps.queue.models import QueueEntry
from apps.queue.services import primary_changes_apply
from apps.records.canonical import wire_record
from apps.records.changes import Change
from apps.records.models import Record
from apps.records.transfers import counterpart_id
from tests.support import SyncClient, client_for, make_site, mariadb_in_parallel, record, use_galera_node

pytestmark = mariadb_in_parallel()

SITES = tuple(range(2, 8))
STORES = {site: f"STORE{site}" for site in SITES}
NAMES = {site: f"NAME_STORE{site}" for site in SITES}
SITE_OF_STORE = {store: site for site, store in STORES.items()}
CENTRAL_TYPES = ("item", "unit")
SATELLITE_ROUNDS = 10
PRIMARY_ROUNDS = 12
PULL_LIMIT = 7

Key = tuple[str, str]


@dataclass
class Outcome:
    """What one thread did: the latest state it wrote of each record (None: deleted), and for a
    satellite the replica it built from its own pushes and its pulls."""

    written: dict[Key, dict[str, Any] | None] = field(default_factory=dict)
    partner_of: dict[str, int] = field(default_factory=dict)  # transact id -> partner site
    replica: dict[Key, dict[str, str]] = field(default_factory=dict)


def apply_pulled(replica: dict[Key, dict[str, str]], rows: list[dict[str, Any]]) -> None:
    for row in rows:
        key = (row["RecordType"], row["RecordID"])
        if row["SyncType"] == "D":
            replica.pop(key, None)
        else:
            replica[key] = row["data"]


@dataclass
class Batch:
    """One push of a satellite, and the changes it makes to the satellite's own database."""

    site: int
    serial: int
    envelopes: list[dict[str, Any]] = field(default_factory=list)
    changes: list[tuple[Key, dict[str, Any] | None]] = field(default_factory=list)

    def add(self, key: Key, data: dict[str, Any] | None, sync_type: str = "U") -> None:
        self.serial += 1
        sync_id, store = f"{self.site}-{self.serial}", STORES[self.site]
        if data is None:
            envelope = {"SyncID": sync_id, "RecordType": key[0], "RecordID": key[1], "SyncType": "D"}
            self.envelopes.append({**envelope, "StoreID": store})
        else:
            self.envelopes.append(
                record(key[0], key[1], data, sync_id=sync_id, store_id=store, sync_type=sync_type)
            )
        self.changes.append((key, data))


def satellite(site: int, start: threading.Barrier, outcome: Outcome) -> None:
    rng = random.Random(site)
    client = SyncClient(site_id=site, name=f"site{site}", password="pass")
    store = STORES[site]
    pushed: list[list[dict[str, Any]]] = []
    late: list[str] = []
    dumped = False
    serial = 0
    start.wait()
    for round_ in range(SATELLITE_ROUNDS):
        batch = Batch(site, serial)
        # Its own store records, from a small pool so that they are updated and deleted again.
        for index in rng.sample(range(6), 3):
            record_type = ("Location", "item_line")[index % 2]
            key = (record_type, f"{record_type}-{site}-{index}")
            if rng.random() < 0.2:
                batch.add(key, None)
            elif record_type == "Location":
                batch.add(key, {"ID": key[1], "store_ID": store, "code": f"r{round_}", "Volume": round_})
            else:
                batch.add(key, {"ID": key[1], "store_ID": store, "batch": "", "quantity": rng.random()})
        # A new transfer with its lines to another site, and now and then a change to an older one.
        transfers = [(f"T-{site}-{round_}", rng.choice([s for s in SITES if s != site]))]
        if outcome.partner_of and rng.random() < 0.5:
            older = rng.choice(sorted(outcome.partner_of))
            transfers.append((older, outcome.partner_of[older]))
        for transact_id, partner in transfers:
            outcome.partner_of[transact_id] = partner
            header = {
                "ID": transact_id,
                "store_ID": store,
                "name_ID": NAMES[partner],
                "type": "ci",
                "status": "fn",
                "hold": round_ % 2 == 0,
            }
            batch.add(("transact", transact_id), header, "I")
            for line in range(2):
                line_id = f"{transact_id}-L{line}"
                data = {"ID": line_id, "transaction_ID": transact_id, "quantity": round_, "note": None}
                batch.add(("trans_line", line_id), data)
        serial = batch.serial
        body = client.push(batch.envelopes)
        n = len(batch.envelopes)
        assert (body["received"], body["applied"], body["duplicates"], body["quarantined"]) == (n, n, 0, 0)
        pushed.append(batch.envelopes)
        for key, data in batch.changes:
            outcome.written[key] = data
            if data is None:
                outcome.replica.pop(key, None)
            else:
                outcome.replica[key] = wire_record(key[0], data)

        if round_ == 3:
            # The response to the first push was lost: the satellite sends it again.
            again = client.push(pushed[0])
            n = len(pushed[0])
            assert (again["received"], again["applied"], again["duplicates"]) == (n, 0, n)
        if round_ == 5 and site % 2 == 0:
            # A re-install: the queue is rebuilt while everyone else keeps changing things.
            assert client.initial_dump(full=True)["error"] == ""
            outcome.replica = {}
            dumped = True

        # The acknowledgement of an earlier pull arrives only now, after others changed things: it must
        # not discard the newer changes queued since.
        client.ack(late)
        late = []
        for _ in range(2):
            rows = client.pull(PULL_LIMIT)
            keys = [(row["RecordType"], row["RecordID"]) for row in rows]
            assert len(set(keys)) == len(keys), f"site {site} got a record twice in one batch: {keys}"
            if not dumped:
                echoed = [key for key in keys if key in outcome.written]
                assert echoed == [], f"site {site} was sent back its own changes: {echoed}"
            apply_pulled(outcome.replica, rows)
            sync_ids = [row["SyncID"] for row in rows]
            fate = rng.random()
            if fate < 0.1:
                continue  # the acknowledgement was lost: these are sent again
            if fate < 0.35:
                late += sync_ids
            else:
                client.ack(sync_ids)


def primary(kind: str, start: threading.Barrier, outcome: Outcome) -> None:
    rng = random.Random(kind)
    start.wait()
    for round_ in range(PRIMARY_ROUNDS):
        changes = []
        for index in sorted(rng.sample(range(8), 3)):
            record_id = f"{kind}-{index}"
            if rng.random() < 0.15:
                changes.append(Change(record_type=kind, record_id=record_id, action="delete"))
                outcome.written[(kind, record_id)] = None
                continue
            if kind == "item":
                data = {
                    "ID": record_id,
                    "item_name": f"r{round_}",
                    "default_pack_size": round_,
                    "price_editable": False,
                }
            else:
                data = {"ID": record_id, "units": f"r{round_}", "order_number": round_ + 0.5}
            changes.append(Change(record_type=kind, record_id=record_id, action="upsert", data=data))
            outcome.written[(kind, record_id)] = data
        result = primary_changes_apply(changes=changes)
        assert result.refused == []


_thread_numbers = itertools.count()


def run_in_thread(target: Callable[..., None], errors: list[str], start: threading.Barrier, *args: Any):
    node = next(_thread_numbers)

    def body() -> None:
        try:
            # On a Galera cluster the threads write through different nodes, as workers on several
            # hosts do, so their conflicts surface as certification failures at COMMIT.
            use_galera_node(node)
            target(*args)
        except BaseException:
            errors.append(f"{target.__name__}{args[:1]}:\n{traceback.format_exc()}")
            start.abort()  # nobody waits for a thread that will never arrive
        finally:
            connections.close_all()

    return threading.Thread(target=body, name=f"{target.__name__}-{args[0]}")


def routed_sites(key: Key, store_id: str) -> set[int]:
    """docs/protocol.md, "Queues": central data everywhere, store data (invoices included) home only."""
    if key[0] in CENTRAL_TYPES:
        return set(SITES)
    return {SITE_OF_STORE[store_id]}


def test_parallel_pushes_pulls_acks_dumps_and_primary_edits_lose_nothing_and_duplicate_nothing():
    sites = {site: make_site(site) for site in SITES}
    outcomes = {site: Outcome() for site in SITES}
    central = {kind: Outcome() for kind in CENTRAL_TYPES}
    errors: list[str] = []
    start = threading.Barrier(len(SITES) + len(CENTRAL_TYPES))
    threads = [run_in_thread(satellite, errors, start, site, start, outcomes[site]) for site in SITES]
    threads += [run_in_thread(primary, errors, start, kind, start, central[kind]) for kind in CENTRAL_TYPES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [], "\n".join(errors)

    # No (site, record) pending twice.
    twice = (
        QueueEntry.objects.values("site_id", "record_id").annotate(n=Count("id")).filter(n__gt=1).order_by()
    )
    assert list(twice) == []

    # The central store holds the latest version of everything anyone wrote, and nothing else.
    latest: dict[Key, dict[str, Any] | None] = {}
    partner_of: dict[str, int] = {}
    for outcome in [*outcomes.values(), *central.values()]:
        assert not set(latest) & set(outcome.written), "two threads wrote the same record"
        latest.update(outcome.written)
        partner_of.update(outcome.partner_of)
    # What the primary generated: the supplier invoices of the transfers.
    generated = Record.objects.filter(created_by_site_id=1, record_type_id__in=("transact", "trans_line"))
    stored = {
        (t, i): (deleted, data, store_id)
        for t, i, deleted, data, store_id in (
            Record.objects.exclude(pk__in=generated)
            .exclude(record_type_id="store")
            .values_list("record_type", "record_id", "is_deleted", "data", "store_id")
        )
    }
    assert set(stored) <= set(latest)
    # Every finalised invoice became exactly one supplier invoice, with its two lines, in its partner's
    # store, whatever the replays, re-pushes and parallel pushes did.
    supplier_invoices = {
        orjson.loads(data)["linked_transaction_id"]: (record_id, store_id)
        for record_id, store_id, data in generated.filter(record_type_id="transact").values_list(
            "record_id", "store_id", "data"
        )
    }
    assert generated.filter(record_type_id="transact").count() == len(partner_of)
    assert supplier_invoices == {
        ci: (counterpart_id("si", ci, STORES[partner]), STORES[partner]) for ci, partner in partner_of.items()
    }
    lines = Counter(generated.filter(record_type_id="trans_line").values_list("ref_id", flat=True))
    assert lines == Counter({record_id: 2 for record_id, _ in supplier_invoices.values()})
    for key, data in latest.items():
        if data is None:
            assert key not in stored or stored[key][0], f"{key} was deleted last but is live"
        else:
            assert stored[key][:2] == (False, orjson.dumps(data).decode()), key

    # Every site drains what is left; its replica must then be exactly what is routed to it.
    for site in SITES:
        client = client_for(sites[site])
        count = client.count()
        rows = client.drain(batch=50)
        assert len(rows) == count, f"site {site}: count said {count}, the drain delivered {len(rows)}"
        keys = [(row["RecordType"], row["RecordID"]) for row in rows]
        assert len(set(keys)) == len(keys), f"site {site} was sent a record twice in one drain"
        apply_pulled(outcomes[site].replica, rows)
        expected = {
            key: wire_record(key[0], data)
            for key, data in latest.items()
            if data is not None and site in routed_sites(key, stored[key][2])
        }
        expected.update(
            {
                (t, i): orjson.loads(wire)
                for t, i, wire in generated.filter(store_id=STORES[site]).values_list(
                    "record_type", "record_id", "wire"
                )
            }
        )
        # (The central store records a site gets from its dumps are not this test's traffic.)
        replica = {key: data for key, data in outcomes[site].replica.items() if key[0] != "store"}
        assert replica == expected, f"site {site}"
        assert client.count() == 0
