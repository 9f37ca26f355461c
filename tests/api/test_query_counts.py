"""Queries per request do not grow with the batch size (docs/development/structure.md, "Principles").

Counts, not timings: a per-record query would make the large batch cost hundreds more queries.
"""

from __future__ import annotations

import pytest

from apps.queue.services import primary_changes_apply
from apps.records.changes import Change
from tests.support import SyncClient, client_for, make_site, record

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 300
# Pinned at what the calls cost today: the lockout check (one indexed read: failure counts are shared
# by every worker, so they live in the database), the site row (read on every request by default, so a
# change made anywhere applies at once: SYNC_AUTH_SITE_CACHE_SECONDS), the call's own statements and the
# sync log row. A push costs one less on MariaDB, whose upsert returns the new rows' keys instead of
# reading them back. A dump also records itself (one upsert of the site's last-dump row, reported by
# sync_status). After the log row, one upsert adds the call to the health page's hourly rollup.
MAX_QUERIES = {"pull": 5, "acknowledge": 5, "push": 14, "initial_dump": 10}


@pytest.fixture
def site() -> SyncClient:
    client = client_for(make_site(2))
    client.count()  # binds the device and writes last-seen, so later calls do neither
    return client


def seed_units(count: int) -> None:
    primary_changes_apply(
        changes=[
            Change("unit", f"U{i}", "upsert", {"ID": f"U{i}", "units": f"unit {i}"}) for i in range(count)
        ]
    )


@pytest.fixture
def queries(django_assert_max_num_queries):
    """Run a call under pytest-django's ceiling for its kind, and return how many queries it made."""

    def count(call: str, action) -> int:
        with django_assert_max_num_queries(MAX_QUERIES[call]) as captured:
            action()
        return len(captured.captured_queries)

    return count


def test_a_pull_costs_the_same_queries_for_3_or_300_records(site, queries):
    seed_units(LARGE)

    small = queries("pull", lambda: site.pull(SMALL))
    large = queries("pull", lambda: site.pull(LARGE))

    assert small == large <= MAX_QUERIES["pull"]


def test_an_acknowledgement_costs_the_same_queries_for_3_or_300_records(site, queries):
    seed_units(LARGE + SMALL)
    first = [r["SyncID"] for r in site.pull(SMALL)]
    small = queries("acknowledge", lambda: site.ack(first))
    rest = [r["SyncID"] for r in site.pull(LARGE)]

    large = queries("acknowledge", lambda: site.ack(rest))

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


def test_a_push_costs_the_same_queries_for_3_or_300_records(site, queries):
    make_site(3)
    small = queries("push", lambda: site.push(locations(SMALL, "A")))
    large = queries("push", lambda: site.push(locations(LARGE, "B")))

    assert small == large <= MAX_QUERIES["push"]


def test_a_push_of_updates_costs_no_more_than_a_push_of_inserts(site, queries):
    inserted = queries("push", lambda: site.push(locations(LARGE, "A")))
    updates = [
        {**r, "SyncID": r["SyncID"] + "-again", "Data": {**r["Data"], "code": "X"}}
        for r in locations(LARGE, "A")
    ]

    updated = queries("push", lambda: site.push(updates))

    assert updated <= inserted


def test_an_initial_dump_costs_the_same_queries_for_3_or_300_records(site, queries):
    seed_units(SMALL)
    small = queries("initial_dump", lambda: site.initial_dump(full=True))
    seed_units(LARGE)

    large = queries("initial_dump", lambda: site.initial_dump(full=True))

    assert small == large <= MAX_QUERIES["initial_dump"]
