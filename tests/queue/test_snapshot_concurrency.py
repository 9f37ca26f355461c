"""A dump's snapshot drained while the primary edits and deletes the very records it sends, on real
parallel MySQL/MariaDB connections.

One site re-installs (a full initial dump) and drains with small pages, losing and repeating some
acknowledgements, while two primary threads update and delete the dumped central records and another
site pushes its own store records. Afterwards nothing may have failed, the site's replica must equal
exactly what is routed to it (so it holds no older version and no deleted record), and NumRecords must
match what the last drain delivered.
"""

from __future__ import annotations

import random
import threading
from typing import Any

from apps.queue.models import QueueEntry, SnapshotCursor
from apps.queue.services import primary_changes_apply
from apps.records.canonical import wire_record
from apps.records.changes import Change
from apps.records.models import Record
from tests.queue.test_concurrency import apply_pulled, run_in_thread
from tests.support import SyncClient, client_for, make_site, mariadb_in_parallel, record

pytestmark = mariadb_in_parallel()

DUMPED_SITE, PUSHING_SITE = 2, 3
ITEMS = 240
EDIT_ROUNDS = 15

Key = tuple[str, str]


def device_of(site_id: int) -> SyncClient:
    """A client of the site: one device, in a thread of its own."""
    return SyncClient(site_id=site_id, name=f"site{site_id}", password="pass")


def item(index: int, version: str) -> dict[str, Any]:
    return {"ID": f"item-{index}", "item_name": version, "default_pack_size": 1, "price_editable": False}


def editor(seed: int, start: threading.Barrier, written: dict[Key, dict[str, Any] | None]) -> None:
    """The primary: updates and deletes items of its half (even or odd), in batches of 12."""
    rng = random.Random(seed)
    start.wait()
    for round_ in range(EDIT_ROUNDS):
        changes = []
        for index in sorted(rng.sample(range(seed, ITEMS, 2), 12)):
            key = ("item", f"item-{index}")
            if rng.random() < 0.25:
                changes.append(Change(record_type="item", record_id=key[1], action="delete"))
                written[key] = None
            else:
                data = item(index, f"v{round_}-{seed}")
                changes.append(Change(record_type="item", record_id=key[1], action="upsert", data=data))
                written[key] = data
        assert primary_changes_apply(changes=changes).refused == []


def pusher(start: threading.Barrier, _: object) -> None:
    """Another site pushing its own store records all along (its fan-out never reaches the dumped site)."""
    client = device_of(PUSHING_SITE)
    start.wait()
    for round_ in range(EDIT_ROUNDS):
        envelopes = [
            record(
                "Location",
                f"L-{round_}-{i}",
                {"ID": f"L-{round_}-{i}", "store_ID": f"STORE{PUSHING_SITE}", "code": "c"},
                sync_id=f"p-{round_}-{i}",
                store_id=f"STORE{PUSHING_SITE}",
            )
            for i in range(20)
        ]
        assert client.push(envelopes)["applied"] == 20


def drainer(start: threading.Barrier, replica: dict[Key, dict[str, str]]) -> None:
    """The re-installed site: dumps, then pulls pages of 9, losing one acknowledgement in four."""
    rng = random.Random(7)
    client = device_of(DUMPED_SITE)
    start.wait()
    assert client.initial_dump(full=True)["error"] == ""
    while rows := client.pull(9):
        keys = [(row["RecordType"], row["RecordID"]) for row in rows]
        assert len(set(keys)) == len(keys), f"a record twice in one page: {keys}"
        apply_pulled(replica, rows)
        if rng.random() < 0.25:
            continue  # the acknowledgement was lost: the page is sent again
        client.ack([row["SyncID"] for row in rows])


def test_a_snapshot_drained_during_central_edits_ends_with_the_newest_live_records_only():
    sites = {site: make_site(site) for site in (DUMPED_SITE, PUSHING_SITE)}
    written: dict[Key, dict[str, Any] | None] = {}
    assert (
        primary_changes_apply(
            changes=[
                Change(record_type="item", record_id=f"item-{i}", action="upsert", data=item(i, "v"))
                for i in range(ITEMS)
            ]
        ).refused
        == []
    )
    for i in range(ITEMS):
        written[("item", f"item-{i}")] = item(i, "v")
    QueueEntry.objects.all().delete()  # what the sites had before does not matter here
    replica: dict[Key, dict[str, str]] = {}
    per_editor: list[dict[Key, dict[str, Any] | None]] = [{}, {}]
    errors: list[str] = []
    start = threading.Barrier(4)
    threads = [
        run_in_thread(editor, errors, start, 0, start, per_editor[0]),
        run_in_thread(editor, errors, start, 1, start, per_editor[1]),
        run_in_thread(pusher, errors, start, start, None),
        run_in_thread(drainer, errors, start, start, replica),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [], "\n".join(errors)
    for changes in per_editor:
        written.update(changes)

    client = client_for(sites[DUMPED_SITE])
    count = client.count()
    rows = client.drain(batch=11)
    assert len(rows) == count, f"count said {count}, the drain delivered {len(rows)}"
    apply_pulled(replica, rows)
    expected = {key: wire_record("item", data) for key, data in written.items() if data is not None}
    # Every central record (the stores' own included) reaches the site; this test checks the items.
    assert {key: value for key, value in replica.items() if key[0] == "item"} == expected
    stores = Record.objects.filter(record_type_id="store", is_deleted=False).count()
    assert len([key for key in replica if key[0] == "store"]) == stores
    assert client.count() == 0
    assert SnapshotCursor.objects.get(site_id=DUMPED_SITE).finished


def acknowledger(start: threading.Barrier, sync_ids: list[str]) -> None:
    """One device of the dumped site acknowledging a page."""
    client = device_of(DUMPED_SITE)
    start.wait()
    client.ack(sync_ids)


def test_parallel_acknowledgements_of_one_page_move_the_cursor_once():
    """Four devices of one site acknowledge the same page at once: the cursor's conditional UPDATE
    lets one move it, the others read it again and find nothing left to move; none fails."""
    client = client_for(make_site(DUMPED_SITE))
    store = f"STORE{DUMPED_SITE}"
    envelopes = [
        record(
            "Location",
            f"L{i}",
            {"ID": f"L{i}", "store_ID": store, "code": "c"},
            sync_id=f"s-{i}",
            store_id=store,
        )
        for i in range(40)
    ]
    assert client.push(envelopes)["applied"] == 40
    client.initial_dump()
    before = client.count()
    page = [row["SyncID"] for row in client.pull(30)]
    errors: list[str] = []
    start = threading.Barrier(4)
    threads = [run_in_thread(acknowledger, errors, start, start, page) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [], "\n".join(errors)
    assert client.count() == before - 30
    assert len(client.drain(batch=500)) == before - 30
