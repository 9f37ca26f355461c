"""A push replayed while its first attempt is still running is applied once (MariaDB, real connections).

The first attempt is held inside its transaction, right after it claimed its SyncIDs; the replay is sent
meanwhile and must wait on those SyncIDs, then answer them as duplicates once the first commits.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from apps.queue import services
from apps.queue.models import QueueEntry
from apps.records.models import Record
from tests.support import client_for, make_site, record, statements_running, wait_until

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.skipif(connection.vendor != "mysql", reason="needs MySQL/MariaDB: SQLite serialises writers"),
    pytest.mark.django_db(transaction=True),
]

CLAIM = "INSERT INTO queue_pushedsyncid"
BATCH = [
    record("Location", f"L{i}", {"ID": f"L{i}", "code": "first", "store_ID": "STORE2"}, sync_id=f"s{i}")
    for i in range(5)
]


def test_a_replay_racing_its_first_attempt_waits_and_counts_duplicates(monkeypatch):
    site = make_site(2)
    make_site(3)
    claimed, release = threading.Event(), threading.Event()
    original = services.records_write

    def held_write_records(**kwargs: Any):
        if threading.current_thread().name == "first":
            claimed.set()
            release.wait(60)
        return original(**kwargs)

    monkeypatch.setattr(services, "records_write", held_write_records)
    answers: dict[str, Any] = {}

    def push(label: str) -> None:
        try:
            answers[label] = client_for(site).post("queued_records", BATCH).json()
        except BaseException as exc:  # reported by the assertions below
            answers[label] = exc
        finally:
            connections.close_all()

    first = threading.Thread(target=push, args=("first",), name="first")
    first.start()
    assert claimed.wait(60)
    replay = threading.Thread(target=push, args=("replay",), name="replay")
    replay.start()
    wait_until(lambda: statements_running(CLAIM) > 0, what="the replay to wait on the claimed SyncIDs")
    release.set()
    first.join(60)
    replay.join(60)

    assert answers["first"]["applied"] == len(BATCH), answers
    assert (answers["replay"]["applied"], answers["replay"]["duplicates"]) == (0, len(BATCH)), answers
    assert Record.objects.filter(record_type_id="Location").count() == len(BATCH)
    # Site 3 does not get store 2's locations; nothing was fanned out twice anywhere.
    assert QueueEntry.objects.filter(site_id=2).count() == 0
