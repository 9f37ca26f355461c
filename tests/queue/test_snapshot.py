"""A dump's snapshot through HTTP, step by step: what a pull sends while it has records, what an
acknowledgement moves, and the site's own changes made while it drains (docs/protocol.md, "After an
initial dump, the snapshot comes first"). The model-based and concurrency tests cover the same rules
with random steps; these pin each one on its own."""

from __future__ import annotations

from typing import Any

import pytest

from apps.queue.models import QueueEntry, SnapshotCursor
from tests.support import SyncClient, client_for, make_site, primary_upsert, record

pytestmark = pytest.mark.django_db

STORE = "STORE2"


def location(index: int, code: str = "c") -> dict[str, Any]:
    return {"ID": f"L{index}", "store_ID": STORE, "code": code}


@pytest.fixture
def site() -> SyncClient:
    """Site 2 with five locations in its store and nothing queued, freshly dumped (mobile subset)."""
    client = client_for(make_site(2))
    envelopes = [
        record("Location", f"L{i}", location(i), sync_id=f"seed-{i}", store_id=STORE) for i in range(5)
    ]
    assert client.push(envelopes)["applied"] == 5
    assert client.initial_dump()["error"] == ""
    return client


def location_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in rows if row["RecordType"] == "Location"]


def test_a_dump_writes_no_queue_rows_and_counts_exactly_what_the_drain_sends(site: SyncClient):
    assert not QueueEntry.objects.filter(site_id=2).exists()
    count = site.count()
    rows = site.drain(batch=2)
    assert len(rows) == count
    assert [row["RecordID"] for row in location_rows(rows)] == [f"L{i}" for i in range(5)]
    assert all(row["SyncID"].startswith("s") for row in rows)
    assert site.count() == 0 and site.pull(10) == []
    assert SnapshotCursor.objects.get(site_id=2).finished


def test_a_pull_sends_only_snapshot_records_while_the_snapshot_has_any(site: SyncClient):
    primary_upsert("Location", "L1", location(1, "changed after the dump"), store_id=STORE)
    first = site.pull(500)
    # L1 changed after the dump: it left the snapshot and waits in the queue, after it.
    assert [row["RecordID"] for row in location_rows(first)] == ["L0", "L2", "L3", "L4"]
    assert all(row["SyncID"].startswith("s") for row in first)
    assert site.count() == len(first) + 1
    site.ack([row["SyncID"] for row in first])
    second = site.pull(500)
    assert [(row["RecordID"], row["data"]["code"]) for row in second] == [("L1", "changed after the dump")]
    assert second[0]["SyncID"].isdigit()


def test_an_acknowledgement_moves_the_cursor_only_over_what_leads_the_snapshot(site: SyncClient):
    rows = site.pull(500)
    lost = next(row["SyncID"] for row in rows if row["RecordID"] == "L1")
    site.ack([row["SyncID"] for row in rows if row["SyncID"] != lost])  # L1's acknowledgement lost
    assert site.count() == 4
    again = site.pull(500)
    assert [row["RecordID"] for row in again] == ["L1", "L2", "L3", "L4"]
    site.ack([again[2]["SyncID"]])  # not at the head: nothing moves
    assert site.count() == 4
    site.ack([row["SyncID"] for row in again])
    assert site.count() == 0


def test_a_record_the_site_pushes_during_its_snapshot_is_not_sent_back_and_stops_nothing(site: SyncClient):
    pushed = record("Location", "L2", location(2, "edited on the device"), sync_id="edit-1", store_id=STORE)
    assert site.push([pushed])["applied"] == 1
    before = site.count()
    rows = site.pull(500)
    assert [row["RecordID"] for row in location_rows(rows)] == ["L0", "L1", "L3", "L4"]
    assert len(rows) == before
    site.ack([row["SyncID"] for row in rows])  # L2 is not among them: it does not hold the cursor
    assert site.count() == 0
    assert site.pull(500) == []


def test_a_second_dump_restarts_the_snapshot_and_ignores_the_first_ones_acknowledgements(site: SyncClient):
    old = site.pull(500)
    answer = site.initial_dump()
    site.ack([row["SyncID"] for row in old])
    assert site.count() == answer["NumRecords"] == len(old)
    again = site.pull(500)
    assert [row["RecordID"] for row in again] == [row["RecordID"] for row in old]
    assert {row["SyncID"] for row in again}.isdisjoint(row["SyncID"] for row in old)


def test_a_snapshot_record_is_found_by_its_sync_id_until_it_is_acknowledged(site: SyncClient):
    rows = site.pull(500)
    first = next(index for index, row in enumerate(rows) if row["RecordID"] == "L0")
    sync_id = rows[first]["SyncID"]
    found = site.get("queued_records", sync_id=sync_id).json()
    assert [row["RecordID"] for row in found] == ["L0"]
    site.ack([row["SyncID"] for row in rows[: first + 1]])
    assert site.get("queued_records", sync_id=sync_id).json() == []
    assert site.get("queued_records", sync_id="s99.1.2.3").json() == []
