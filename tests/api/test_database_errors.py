"""What a client sees when the database refuses a commit or cannot be reached.

On a Galera cluster a write set that loses certification is refused at COMMIT with error 1213, and a
worker whose node is down cannot connect at all. Neither may become a 500: a refused commit replays the
whole transaction, and an unreachable database is a 503 with Retry-After that the client retries.
"""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection

from apps.queue.models import PushedSyncId
from apps.records.models import Record
from tests.support import json_error, record

pytestmark = pytest.mark.django_db(transaction=True)  # the retry is taken only at the outermost transaction

CERTIFICATION_FAILURE = (1213, "Deadlock found when trying to get lock; try restarting transaction")


def locations(count: int, *, first: int = 0) -> list[dict]:
    return [
        record(
            "Location",
            f"L{i}",
            {"ID": f"L{i}", "store_ID": "STORE2", "code": f"c{i}"},
            sync_id=f"s{i}",
            store_id="STORE2",
        )
        for i in range(first, first + count)
    ]


def refuse_commits(monkeypatch: pytest.MonkeyPatch, times: int) -> list[int]:
    """Make the next `times` COMMITs fail as a lost certification does; returns the call log."""
    real_commit = connection.commit
    calls: list[int] = []

    def commit() -> None:
        calls.append(1)
        if len(calls) <= times:
            raise OperationalError(*CERTIFICATION_FAILURE)
        real_commit()

    monkeypatch.setattr(connection, "commit", commit)
    return calls


def test_a_push_whose_commit_is_refused_is_replayed_whole_and_applied_once(sat, monkeypatch):
    calls = refuse_commits(monkeypatch, times=1)
    body = sat.push(locations(3))
    assert (body["received"], body["applied"], body["duplicates"]) == (3, 3, 0)
    assert len(calls) >= 2, "the refused commit was not retried"
    assert Record.objects.filter(record_type="Location").count() == 3
    assert PushedSyncId.objects.filter(site_id=2).count() == 3
    again = sat.push(locations(3))
    assert (again["applied"], again["duplicates"]) == (0, 3)


def test_a_push_refused_at_every_commit_is_503_with_retry_after_and_changes_nothing(
    sat, monkeypatch, settings
):
    settings.SYNC_DEADLOCK_RETRIES = 2
    refuse_commits(monkeypatch, times=100)
    response = sat.post("queued_records", locations(2))
    assert "try again" in json_error(response, 503)
    assert response["Retry-After"].isdigit()
    monkeypatch.undo()
    assert Record.objects.filter(record_type="Location").count() == 0
    assert PushedSyncId.objects.count() == 0


@pytest.mark.parametrize(
    "error",
    [
        (2003, "Can't connect to server on '127.0.0.1' (111)"),
        (2013, "Lost connection to server during query"),
        (1047, "WSREP has not yet prepared node for application use"),
    ],
    ids=["cannot-connect", "connection-lost", "galera-node-not-ready"],
)
def test_an_unreachable_database_is_503_with_retry_after(sat, monkeypatch, error):
    def unreachable(**kwargs):
        raise OperationalError(*error)

    monkeypatch.setattr("apps.queue.selectors.queue_head", unreachable)
    response = sat.get("queued_records", limit=10)
    assert "try again" in json_error(response, 503)
    assert response["Retry-After"].isdigit()


def test_other_database_errors_are_not_disguised_as_unavailable(sat, monkeypatch):
    def broken(**kwargs):
        raise OperationalError(1054, "Unknown column 'x' in 'field list'")

    monkeypatch.setattr("apps.queue.selectors.queue_head", broken)
    sat.client.raise_request_exception = False
    assert sat.get("queued_records", limit=10).status_code == 500
