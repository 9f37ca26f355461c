"""The sync-health page: staff only, every column, filters and sorting, with a bounded number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.monitoring.models import LATEST, SiteHour
from apps.monitoring.services import count_call
from apps.queue.models import QuarantinedRecord, QueueEntry, SiteDump, SyncLog
from apps.records.models import Record
from apps.sites.models import Site
from tests.support import client_for, make_site, primary_upsert

pytestmark = pytest.mark.django_db

URL = "/admin/health/"


@pytest.fixture
def staff() -> Client:
    User.objects.create_user("operator", password="pw", is_staff=True)
    client = Client()
    client.login(username="operator", password="pw")
    return client


def site_rows(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr class="site-row" data-site="(\d+)">', html)]


def age_queue(site_id: int, *, hours: float) -> None:
    """Make the site's queued records look written `hours` ago (their entries were queued then)."""
    record_ids = QueueEntry.objects.filter(site_id=site_id).values_list("record_id", flat=True)
    Record.objects.filter(pk__in=list(record_ids)).update(modified_at=timezone.now() - timedelta(hours=hours))


def test_the_page_is_for_staff_only():
    assert Client().get(URL).status_code == 302  # to the admin login
    User.objects.create_user("clerk", password="pw", is_staff=False)
    client = Client()
    client.login(username="clerk", password="pw")
    assert client.get(URL).status_code == 302


def test_each_site_shows_its_contact_queue_lag_quarantine_errors_dump_and_version(staff):
    site = make_site(2)
    sat = client_for(site)
    sat.client.defaults["HTTP_MOBILE_VERSION"] = "8.7.4"
    sat.initial_dump()
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Aspirin"})
    sat.pull()
    assert sat.post("queued_records", b"[oops").status_code == 400
    QuarantinedRecord.objects.create(
        site=site, api_version="v3", raw="{}", reason="bad", received_at=timezone.now()
    )

    html = staff.get(URL).content.decode()

    row = html[html.index('data-site="2"') :].split("</tr>")[0]
    assert "8.7.4" in row
    assert "(mobile, " in row  # the last initial dump: its type and record count
    assert re.search(r'class="depth">\d+<', row)
    assert re.search(r'<td class="failing" title="[^"]+">1</td>', row)
    assert 'href="/admin/queue/synclog/?site__id__exact=2"' in row
    assert 'href="/admin/queue/queueentry/?site__id__exact=2"' in row
    assert 'href="/admin/queue/quarantinedrecord/?site__id__exact=2"' in row
    assert ">1</a>" in row  # one quarantined record, linked
    assert "<svg" in html and 'class="series"' in html


def test_queue_depth_is_capped(staff, settings):
    settings.MONITORING_QUEUE_DEPTH_CAP = 3
    make_site(2)
    for n in range(5):
        primary_upsert("item", f"I{n}", {"ID": f"I{n}", "item_name": f"Item {n}"})

    html = staff.get(URL).content.decode()

    assert 'class="depth">3+<' in html


def test_filters_behind_silent_and_failing(staff, settings):
    settings.MONITORING_BEHIND_MINUTES = 60
    for site_id in (2, 3, 4, 5):
        make_site(site_id)
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Aspirin"})  # queued to every site
    for site_id in (3, 4, 5):
        QueueEntry.objects.filter(site_id=site_id).delete()
    age_queue(2, hours=3)
    now = timezone.now()
    Site.objects.filter(pk=3).update(last_seen_at=now - timedelta(days=10))
    Site.objects.filter(pk__in=[2, 4, 5]).update(last_seen_at=now)
    count_call(site_id=4, call="push", status_code=500, duration_ms=1, at=now, counts={}, error="boom")

    assert site_rows(staff.get(URL, {"show": "behind"}).content.decode()) == [2]
    assert site_rows(staff.get(URL, {"show": "silent", "days": "7"}).content.decode()) == [3]
    assert site_rows(staff.get(URL, {"show": "silent", "days": "30"}).content.decode()) == []
    assert site_rows(staff.get(URL, {"show": "failing"}).content.decode()) == [4]
    assert site_rows(staff.get(URL).content.decode()) == [2, 3, 4, 5]


def test_sorting_by_lag_and_by_last_contact(staff):
    for site_id in (2, 3, 4):
        make_site(site_id)
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Aspirin"})
    QueueEntry.objects.filter(site_id=4).delete()
    # Site 3's entry is older: its record was queued again for site 2 later.
    age_queue(3, hours=5)
    entry = QueueEntry.objects.get(site_id=2)
    QueueEntry.objects.filter(pk=entry.pk).delete()
    primary_upsert("item", "I2", {"ID": "I2", "item_name": "Gauze"})
    QueueEntry.objects.filter(site_id__in=[3, 4]).exclude(record__record_id="I1").delete()
    now = timezone.now()
    for site_id, days in ((2, 3), (3, 1), (4, 2)):
        Site.objects.filter(pk=site_id).update(last_seen_at=now - timedelta(days=days))

    assert site_rows(staff.get(URL, {"sort": "-lag"}).content.decode()) == [3, 2, 4]
    assert site_rows(staff.get(URL, {"sort": "contact"}).content.decode()) == [2, 4, 3]
    assert site_rows(staff.get(URL, {"sort": "-contact"}).content.decode()) == [3, 4, 2]


def test_what_the_page_does_not_understand_is_said_in_words(staff):
    make_site(2)
    html = staff.get(URL, {"sort": "color", "show": "odd", "days": "-1"}).content.decode()
    assert "Cannot sort by &#x27;color&#x27;" in html
    assert "Unknown filter &#x27;odd&#x27;" in html
    assert "is not a number of days" in html
    assert site_rows(html) == [2]


def make_many_sites(count: int) -> None:
    now = timezone.now()
    Site.objects.bulk_create(
        [Site(id=n, name=f"bulk{n}", is_active=True, last_seen_at=now) for n in range(10, 10 + count)]
    )
    SiteHour.objects.bulk_create(
        [SiteHour(site_id=n, hour=LATEST, requests=1, last_call_at=now) for n in range(10, 10 + count)]
    )
    SiteDump.objects.bulk_create(
        [
            SiteDump(site_id=n, dumped_at=now, dump_type="mobile", record_count=0)
            for n in range(10, 10 + count)
        ]
    )


def page_queries(client: Client, **params: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, params)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_queries_are_bounded_and_independent_of_the_number_of_sites(staff):
    make_site(2)
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Aspirin"})
    make_many_sites(10)
    few = {show: len(page_queries(staff, show=show)) for show in ("", "behind", "silent", "failing")}
    make_many_sites(0)
    Site.objects.bulk_create([Site(id=n, name=f"more{n}") for n in range(100, 1100)])
    QueueEntry.objects.bulk_create(
        [QueueEntry(site_id=n, record=Record.objects.get(record_id="I1")) for n in range(100, 1100)]
    )
    many = {show: page_queries(staff, show=show) for show in ("", "behind", "silent", "failing")}

    assert {show: len(queries) for show, queries in many.items()} == few
    assert max(few.values()) <= 16
    for queries in many.values():
        for sql in queries:
            for table in (QueueEntry._meta.db_table, SyncLog._meta.db_table):
                # No count over the queue or the log: only counts of a LIMITed subquery.
                counted = re.findall(r"COUNT\([^)]*\)\s+FROM\s+(\S+)", sql, re.IGNORECASE)
                assert all(table not in name for name in counted), sql
            assert SyncLog._meta.db_table not in sql
    html = staff.get(URL, {"page": "2"}).content.decode()
    assert "page 2 of 11" in html
