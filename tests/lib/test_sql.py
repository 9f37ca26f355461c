"""The shared low-level layer (apps/lib) against the database the suite runs on: SQLite, or MariaDB
when DATABASE_URL names one. The same assertions hold on both, which is the point of the layer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import OperationalError, connection, transaction

from apps.lib import sql
from apps.lib.transactions import Busy, atomic_with_retry, retry_on_conflict
from apps.queue.models import PushedSyncId
from tests.support import make_site

pytestmark = pytest.mark.django_db

TABLE = PushedSyncId._meta.db_table
HEAD = f"INSERT INTO {TABLE} (site_id, sync_id, received_at)"
# Text a hand-written VALUES list could get wrong: quotes, a backslash, a NUL, four-byte characters.
AWKWARD = ["it's", 'say "hi"', "back\\slash", "nul\0byte", "emoji 💊", "", "trailing "]


def _when(day: int) -> object:
    return connection.ops.adapt_datetimefield_value(datetime(2026, 1, day, tzinfo=UTC))


def _stored(site_id: int) -> dict[str, datetime]:
    rows = PushedSyncId.objects.filter(site_id=site_id).values_list("sync_id", "received_at")
    return {sync_id: received.day for sync_id, received in rows}


def test_insert_rows_stores_every_value_exactly_as_given():
    site = make_site(2)
    with connection.cursor() as cursor:
        sql.insert_rows(cursor, head=HEAD, rows=[(site.pk, text, _when(1)) for text in AWKWARD])
    assert sorted(_stored(site.pk)) == sorted(AWKWARD)


def test_insert_rows_splits_what_exceeds_one_statement_and_loses_nothing(monkeypatch):
    monkeypatch.setattr(sql, "MAX_STATEMENT_BYTES", 300)
    site = make_site(2)
    ids = [f"sync-{n:04}" for n in range(120)]
    with connection.cursor() as cursor:
        sql.insert_rows(cursor, head=HEAD, rows=[(site.pk, sync_id, _when(1)) for sync_id in ids])
    assert sorted(_stored(site.pk)) == ids


def test_insert_ignore_keeps_the_existing_row_and_replace_into_overwrites_it():
    site = make_site(2)
    with connection.cursor() as cursor:
        sql.insert_rows(cursor, head=HEAD, rows=[(site.pk, "a", _when(1)), (site.pk, "b", _when(1))])
        columns = f"{TABLE} (site_id, sync_id, received_at)"
        sql.insert_rows(
            cursor,
            head=f"{sql.insert_ignore()} {columns}",
            rows=[(site.pk, "a", _when(2)), (site.pk, "c", _when(2))],
        )
        assert _stored(site.pk) == {"a": 1, "b": 1, "c": 2}
        sql.insert_rows(cursor, head=f"{sql.replace_into()} {columns}", rows=[(site.pk, "b", _when(3))])
    assert _stored(site.pk) == {"a": 1, "b": 3, "c": 2}


def test_upsert_tail_updates_the_named_columns_of_existing_rows():
    site = make_site(2)
    tail = sql.upsert_tail(key=("site_id", "sync_id"), updated=("received_at",))
    with connection.cursor() as cursor:
        sql.insert_rows(cursor, head=HEAD, rows=[(site.pk, "a", _when(1))], tail=tail)
        sql.insert_rows(
            cursor, head=HEAD, rows=[(site.pk, "a", _when(4)), (site.pk, "b", _when(5))], tail=tail
        )
    assert _stored(site.pk) == {"a": 4, "b": 5}


def test_values_that_have_no_literal_are_refused_in_words():
    with pytest.raises(TypeError, match="no SQL literal for float"):
        sql.sql_literal(1.5)


def test_chunks_and_placeholders():
    assert sql.chunks([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert sql.placeholders(3) == "%s, %s, %s"


class _Conflicts:
    """A unit of work that meets a deadlock `failures` times, then succeeds."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def work(self) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise OperationalError(1213, "Deadlock found when trying to get lock")
        return self.calls


@pytest.fixture
def no_backoff(monkeypatch):
    monkeypatch.setattr("apps.lib.transactions.time.sleep", lambda seconds: None)


@pytest.mark.django_db(transaction=True)
def test_atomic_with_retry_replays_a_deadlocked_transaction(settings, no_backoff):
    settings.SYNC_DEADLOCK_RETRIES = 3
    work = _Conflicts(failures=2)
    assert atomic_with_retry(work.work)() == 3


@pytest.mark.django_db(transaction=True)
def test_a_conflict_that_outlasts_every_retry_is_busy_in_words(settings, no_backoff):
    settings.SYNC_DEADLOCK_RETRIES = 2
    work = _Conflicts(failures=5)
    with pytest.raises(Busy, match="try again in a few seconds"):
        retry_on_conflict(work.work)()
    assert work.calls == 2


@pytest.mark.django_db(transaction=True)
def test_no_retry_inside_an_enclosing_transaction(settings, no_backoff):
    settings.SYNC_DEADLOCK_RETRIES = 3
    work = _Conflicts(failures=1)
    with pytest.raises(OperationalError), transaction.atomic():
        atomic_with_retry(work.work)()
    assert work.calls == 1
