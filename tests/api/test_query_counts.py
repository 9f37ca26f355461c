"""Queries per request do not grow with the batch size (DESIGN.md principle 4).

Counts, not timings: a per-record query would make the large batch cost hundreds more queries.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.queue.services import apply_primary_changes
from apps.records.changes import Change
from tests.support import SyncClient, client_for, make_site, record

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 300
# Pinned at what the calls cost today: site lookup, the call's own statements, the sync log row.
MAX_QUERIES = {"pull": 3, "acknowledge": 3, "push": 12, "initial_dump": 7}


@pytest.fixture
def site() -> SyncClient:
    client = client_for(make_site(2))
    client.count()  # binds the device and writes last-seen, so later calls do neither
    return client


def seed_units(count: int) -> None:
    apply_primary_changes(
        changes=[
            Change("unit", f"U{i}", "upsert", {"ID": f"U{i}", "units": f"unit {i}"}) for i in range(count)
        ]
    )


def queries(action) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured.captured_queries)


def test_a_pull_costs_the_same_queries_for_3_or_300_records(site):
    seed_units(LARGE)

    small = queries(lambda: site.pull(SMALL))
    large = queries(lambda: site.pull(LARGE))

    assert small == large <= MAX_QUERIES["pull"]


def test_an_acknowledgement_costs_the_same_queries_for_3_or_300_records(site):
    seed_units(LARGE + SMALL)
    first = [r["SyncID"] for r in site.pull(SMALL)]
    small = queries(lambda: site.ack(first))
    rest = [r["SyncID"] for r in site.pull(LARGE)]

    large = queries(lambda: site.ack(rest))

    assert small == large <= MAX_QUERIES["acknowledge"]


def locations(count: int, prefix: str) -> list[dict]:
    return [
        record(
            "Location",
            f"{prefix}{i}",
            {"ID": f"{prefix}{i}", "code": f"C{i}", "store_ID": "STORE2"},
            sync_id=f"{prefix}-{i}",
            store_id="STORE2",
        )
        for i in range(count)
    ]


def test_a_push_costs_the_same_queries_for_3_or_300_records(site):
    make_site(3)
    small = queries(lambda: site.push(locations(SMALL, "A")))
    large = queries(lambda: site.push(locations(LARGE, "B")))

    assert small == large <= MAX_QUERIES["push"]


def test_a_push_of_updates_costs_no_more_than_a_push_of_inserts(site):
    inserted = queries(lambda: site.push(locations(LARGE, "A")))
    updates = [
        {**r, "SyncID": r["SyncID"] + "-again", "Data": {**r["Data"], "code": "X"}}
        for r in locations(LARGE, "A")
    ]

    updated = queries(lambda: site.push(updates))

    assert updated <= inserted


def test_an_initial_dump_costs_the_same_queries_for_3_or_300_records(site):
    seed_units(SMALL)
    small = queries(lambda: site.initial_dump(full=True))
    seed_units(LARGE)

    large = queries(lambda: site.initial_dump(full=True))

    assert small == large <= MAX_QUERIES["initial_dump"]
