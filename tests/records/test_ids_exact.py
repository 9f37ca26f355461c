"""One id comparison rule everywhere, in Python, on SQLite and on MariaDB (whose database default
collation is case-insensitive and space-padded: the test database is created with it, as production is):
ids that differ only by case or a trailing space are different records and different SyncIDs."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.queue.models import PushedSyncId
from apps.records.models import Record
from tests.support import record

pytestmark = pytest.mark.django_db

IDS = ["loc-a", "LOC-A", "loc-a "]


def location(record_id: str, *, sync_id: str) -> dict:
    return record(
        "Location", record_id, {"ID": record_id, "code": record_id, "store_ID": "STORE2"}, sync_id=sync_id
    )


@pytest.mark.mariadb
@pytest.mark.skipif(connection.vendor != "mysql", reason="the database default collation is MySQL's")
def test_the_test_database_has_the_production_collation():
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@collation_database")
        assert cursor.fetchone()[0] == "utf8mb4_unicode_ci"


def test_ids_differing_by_case_or_trailing_space_are_three_records_in_one_push(sat):
    body = sat.push([location(i, sync_id=f"s-{n}") for n, i in enumerate(IDS)])

    assert body["applied"] == 3, body
    stored = dict(Record.objects.filter(record_type_id="Location").values_list("record_id", "data"))
    assert sorted(stored) == sorted(IDS)


def test_ids_differing_by_case_or_trailing_space_are_three_records_across_pushes(sat, other):
    for n, record_id in enumerate(IDS):
        assert sat.push([location(record_id, sync_id=f"s-{n}")])["applied"] == 1

    assert Record.objects.filter(record_type_id="Location").count() == 3


def test_sync_ids_differing_by_case_or_trailing_space_are_three_sync_ids(sat):
    body = sat.push([location(f"L{n}", sync_id=s) for n, s in enumerate(["sync-a", "SYNC-A", "sync-a "])])
    replay = sat.push([location("L0", sync_id="sync-a")])

    assert body["applied"] == 3, body
    assert (replay["applied"], replay["duplicates"]) == (0, 1)
    assert PushedSyncId.objects.count() == 3
