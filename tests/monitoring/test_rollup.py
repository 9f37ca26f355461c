"""The hourly rollup counts every sync call made through HTTP: pushes, pulls, acknowledgements, errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.monitoring.models import ALL_SITES, LATEST, SiteHour
from apps.monitoring.services import count_call, purge_rollup
from tests.support import client_for, make_site, primary_upsert, record

pytestmark = pytest.mark.django_db


def location(record_id: str, *, sync_id: str, store: str = "STORE2") -> dict:
    return record(
        "Location",
        record_id,
        {"ID": record_id, "code": "A", "store_ID": store},
        sync_id=sync_id,
        store_id=store,
    )


def this_hour(site_id: int) -> SiteHour:
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    return SiteHour.objects.get(site_id=site_id, hour=hour)


def test_pushes_pulls_acknowledgements_and_errors_add_up_per_site_and_for_all_sites():
    site2, site3 = make_site(2), make_site(3)
    two = client_for(site2)
    three = client_for(site3)
    # One good record and one of another site's store (quarantined).
    body = two.push([location("L1", sync_id="s1"), location("L9", sync_id="s2", store="STORE3")])
    assert (body["applied"], body["quarantined"]) == (1, 1)
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Aspirin"})
    primary_upsert("item", "I2", {"ID": "I2", "item_name": "Bandage"})
    pulled = three.pull()
    assert len(pulled) == 2
    three.ack([r["SyncID"] for r in pulled])
    wrong = client_for(site3, password="wrong")
    assert wrong.get("queued_records").status_code == 401

    mine, theirs, everyone = this_hour(2), this_hour(3), this_hour(ALL_SITES)
    assert (mine.requests, mine.pushed, mine.quarantined, mine.pulled, mine.errors) == (1, 2, 1, 0, 0)
    assert (theirs.requests, theirs.pulled, theirs.acknowledged, theirs.errors) == (2, 2, 2, 0)
    assert (everyone.requests, everyone.pushed, everyone.pulled, everyone.acknowledged) == (3, 2, 2, 2)
    assert everyone.quarantined == 1


def test_the_latest_row_keeps_the_last_times_error_and_app_version():
    site = make_site(2)
    mobile = client_for(site)
    mobile.client.defaults["HTTP_MOBILE_VERSION"] = "8.7.4"
    mobile.push([location("L1", sync_id="s1")])
    bad = mobile.post("queued_records", b"{not json")
    assert bad.status_code == 400
    mobile.client.defaults.pop("HTTP_MOBILE_VERSION")
    mobile.pull()  # a client that sends no version keeps the one seen

    latest = SiteHour.objects.get(site_id=2, hour=LATEST)
    assert latest.requests == 3
    assert latest.errors == 1
    assert latest.app_version == "8.7.4"
    assert latest.last_push_at is not None and latest.last_pull_at is not None
    assert latest.last_ack_at is None
    assert latest.last_status == 200
    assert latest.last_error_at is not None and latest.last_error  # the 400's words are kept
    assert latest.last_pull_at >= latest.last_error_at >= latest.last_push_at


def test_calls_in_different_hours_go_to_their_own_rows_and_the_purge_keeps_the_totals():
    make_site(2)
    now = timezone.now()
    long_ago = now - timedelta(days=500)
    for at in (long_ago, now - timedelta(hours=2), now):
        count_call(site_id=2, call="pull", status_code=200, duration_ms=5, at=at, counts={"pulled": 3})

    hours = SiteHour.objects.filter(site_id=2).exclude(hour=LATEST)
    assert hours.count() == 3
    assert SiteHour.objects.get(site_id=2, hour=LATEST).pulled == 9

    purge_rollup(now=now)

    assert sorted(h.hour for h in SiteHour.objects.filter(site_id=2).exclude(hour=LATEST)) == [
        (now - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0),
        now.replace(minute=0, second=0, microsecond=0),
    ]
    assert SiteHour.objects.get(site_id=2, hour=LATEST).pulled == 9
