"""The operator commands that rebuild a site's queue and purge old bookkeeping."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apps.queue.models import PushedSyncId, QueueEntry, SyncLog
from apps.queue.services import primary_changes_apply
from apps.records.changes import Change
from tests.support import client_for, make_site

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def central_and_store_records() -> None:
    primary_changes_apply(
        changes=[
            Change("item", "I1", "upsert", {"ID": "I1", "item_name": "Aspirin"}),
            Change("Location", "L2", "upsert", {"ID": "L2", "store_ID": "STORE2"}),
            Change("Location", "L3", "upsert", {"ID": "L3", "store_ID": "STORE3"}),
        ]
    )


def test_initialdump_full_rebuilds_the_queue_with_what_routes_to_the_site():
    site = make_site(2)
    make_site(3)
    central_and_store_records()
    client = client_for(site)
    client.drain()
    assert client.count() == 0

    output = run("initialdump", "2", "--full")

    # The item, the store's location, and the central records of both stores.
    assert "Rebuilt the queue of site 2 'site2' (full dump): 4 records." in output
    assert sorted(r["RecordID"] for r in client.pull(10)) == ["I1", "L2", "STORE2", "STORE3"]


def test_initialdump_without_full_queues_the_mobile_subset():
    site = make_site(2)
    central_and_store_records()
    # An item nobody joined to the store is not in the mobile subset; the store's own location is.
    output = run("initialdump", "2")
    assert "(mobile-store dump): 2 records." in output
    pulled = client_for(site).pull(10)
    assert [row["RecordID"] for row in pulled] == ["STORE2", "L2"]


@pytest.mark.parametrize(("site_id", "message"), [("9", "no site 9"), ("1", "primary")])
def test_initialdump_refuses_a_site_without_a_queue_and_changes_no_queue(site_id: str, message: str):
    make_site(2)
    central_and_store_records()
    before = QueueEntry.objects.count()
    with pytest.raises(CommandError, match=message):
        run("initialdump", site_id)
    assert QueueEntry.objects.count() == before


def test_purgesync_removes_only_rows_past_their_retention(settings):
    settings.SYNC_PUSHED_ID_RETENTION_DAYS = 10
    settings.SYNC_LOG_RETENTION_DAYS = 5
    site = make_site(2)
    now = timezone.now()
    PushedSyncId.objects.create(site=site, sync_id="old", received_at=now - timedelta(days=11))
    PushedSyncId.objects.create(site=site, sync_id="new", received_at=now - timedelta(days=9))
    SyncLog.objects.create(site=site, call="push", api_version="v3", created_at=now - timedelta(days=6))
    SyncLog.objects.create(site=site, call="push", api_version="v3", created_at=now - timedelta(days=1))

    output = run("purgesync")

    assert "Removed 1 pushed SyncIDs older than 10 days and 1 sync log rows older than 5 days, " in output
    assert list(PushedSyncId.objects.values_list("sync_id", flat=True)) == ["new"]
    assert SyncLog.objects.count() == 1
