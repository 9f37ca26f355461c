"""/metrics: refused without the token or an allowed network; after traffic it shows the counters."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.support import client_for, make_site, primary_upsert, record

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-metrics-token"


@pytest.fixture
def token(settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    return TOKEN


def scrape(**headers: str) -> str:
    response = Client().get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def value(text: str, name: str, **labels: str) -> float:
    """The sample `name{labels...}` (labels in any order, others allowed), 0 when absent."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0])) if "{" in line else {}
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_refused_when_metrics_are_not_configured(settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    response = Client().get("/metrics")
    assert response.status_code == 403
    assert b"METRICS_TOKEN" in response.content


def test_refused_without_the_token_or_with_a_wrong_one(token):
    missing = Client().get("/metrics")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert b"Authorization: Bearer" in missing.content
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    assert b"syncserver_requests" not in missing.content


def test_an_allowed_network_needs_no_token(settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.168.1.1").get("/metrics").status_code == 403


def test_counters_after_traffic(token):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    before = scrape(**auth)
    site = make_site(2)
    sat = client_for(site)
    location = {"ID": "L1", "code": "A", "store_ID": "STORE2"}
    bad = {"ID": "L9", "code": "A", "store_ID": "STORE3"}
    sat.push(
        [
            record("Location", "L1", location, sync_id="s1", store_id="STORE2"),
            record("Location", "L9", bad, sync_id="s2", store_id="STORE3"),
        ]
    )
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Aspirin"})
    pulled = sat.pull()
    sat.ack([r["SyncID"] for r in pulled])
    assert client_for(site, password="wrong").get("queued_records").status_code == 401
    primary_upsert("item", "I2", {"ID": "I2", "item_name": "Gauze"})  # left waiting: a queue gauge

    after = scrape(**auth)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    view = "QueuedRecordsView"
    assert grew("syncserver_requests_total", endpoint=view, method="POST", version="v3", status="200") == 1
    assert grew("syncserver_requests_total", endpoint=view, method="GET", version="v3", status="200") == 1
    assert grew("syncserver_requests_total", endpoint=view, method="GET", version="v3", status="401") == 1
    assert grew("syncserver_request_duration_seconds_count", endpoint=view, method="POST") == 1
    assert grew("syncserver_records_total", direction="pushed", version="v3") == 2
    assert grew("syncserver_records_total", direction="quarantined", version="v3") == 1
    assert grew("syncserver_records_total", direction="pulled", version="v3") == len(pulled)
    assert grew("syncserver_records_total", direction="acknowledged", version="v3") == len(pulled)
    assert grew("syncserver_auth_failures_total", endpoint=view) == 1
    assert value(after, "syncserver_queue_depth", site="2") == 1
    assert value(after, "syncserver_queue_lag_seconds", site="2") >= 0
    assert 'syncserver_queue_lag_seconds{site="2"}' in after
    assert value(after, "syncserver_sites_behind") == 0


def test_lockouts_are_counted(token, settings):
    settings.SYNC_AUTH_MAX_FAILURES = 2
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    before = scrape(**auth)
    wrong = client_for(make_site(2), password="wrong")
    statuses = [wrong.get("queued_records/count").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]

    after = scrape(**auth)

    name = "syncserver_auth_lockouts_total"
    assert value(after, name, endpoint="QueueCountView") - value(before, name, endpoint="QueueCountView") == 1


def test_a_failed_admin_login_counts_as_an_auth_failure(token):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    before = value(scrape(**auth), "syncserver_auth_failures_total", endpoint="admin")
    Client().post("/admin/login/", {"username": "nobody", "password": "x"})
    after = value(scrape(**auth), "syncserver_auth_failures_total", endpoint="admin")
    assert after - before == 1
