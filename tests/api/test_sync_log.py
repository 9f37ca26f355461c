"""Every authenticated call leaves one sync log row: what moved, the status, and any error."""

from __future__ import annotations

import pytest

from apps.queue.models import SyncLog
from tests.support import client_for, make_site, primary_upsert, record

pytestmark = pytest.mark.django_db


def logged(site_id: int) -> list[tuple]:
    rows = SyncLog.objects.filter(site_id=site_id).order_by("id")
    return list(
        rows.values_list("call", "api_version", "status_code", "pushed", "applied", "pulled", "acknowledged")
    )


def test_each_call_is_logged_with_what_it_moved():
    site = client_for(make_site(2), version="v2")
    primary_upsert("unit", "U1", {"ID": "U1", "units": "tab"})
    primary_upsert("unit", "U2", {"ID": "U2", "units": "cap"})

    site.count()
    pulled = site.pull(10)
    site.ack([r["SyncID"] for r in pulled])
    site.push([record("Location", "L1", {"ID": "L1", "store_ID": "STORE2"}, sync_id="s1", store_id="STORE2")])

    assert logged(2) == [
        ("count", "v2", 200, 0, 0, 0, 0),
        ("pull", "v2", 200, 0, 0, 2, 0),
        ("acknowledge", "v2", 200, 0, 0, 0, 2),
        ("push", "v2", 200, 1, 1, 0, 0),
    ]


def test_a_refused_call_is_logged_with_its_error():
    site = client_for(make_site(2))

    response = site.get("queued_records", limit=0)

    assert response.status_code == 400
    row = SyncLog.objects.get(site_id=2)
    assert (row.call, row.status_code) == ("pull", 400)
    assert "limit" in row.error


def test_a_failed_login_logs_nothing_for_any_site():
    make_site(2)
    site = client_for(make_site(3), password="wrong")

    assert site.get("queued_records/count").status_code == 401
    assert not SyncLog.objects.exists()
