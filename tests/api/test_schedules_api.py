"""The scheduled-imports API over HTTP: keys, create/list/read/change/delete, run now, history."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from apps.imports.models import DataSource, ImportRun, ImportSchedule
from apps.records.models import Record
from apps.sites.services import apikey_create
from tests.imports.conftest import write_csv
from tests.support import client_for, make_site

pytestmark = pytest.mark.django_db

BASE = "/api/sync/schedules"


class Api:
    def __init__(self, key: str) -> None:
        self.client, self.key = Client(), key

    def call(self, method: str, path: str, body: Any = None, **query: Any):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.key}"}
        if method == "get":
            return self.client.get(path, query, **headers)
        data = orjson.dumps(body) if body is not None else b""
        return getattr(self.client, method)(path, data, content_type="application/json", **headers)


def key_for(
    *, staff: bool = True, scopes: tuple[str, ...] = ("schedules",), username: str = "operator"
) -> str:
    owner = get_user_model().objects.create_user(username=username, password="x", is_staff=staff)
    return apikey_create(name=f"key of {username}", scopes=list(scopes), owner=owner)[1]


@pytest.fixture
def file_root(tmp_path: Path, settings) -> Path:
    settings.IMPORTS_FILE_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def api() -> Api:
    return Api(key_for())


def daily_csv(path: str = "items.csv", **config: Any) -> dict[str, Any]:
    return {
        "name": "Items from the ERP",
        "sourceType": "csv",
        "recordType": "item",
        "frequency": "daily",
        "config": {"path": path, "syncTime": "02:30", "timeZone": "Pacific/Auckland", **config},
    }


def error_of(response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    assert body["success"] is False and isinstance(body["error"], str) and len(body["error"].split()) >= 2
    return body["error"]


def test_create_read_and_list_a_schedule(api: Api, file_root: Path):
    created = api.call("post", BASE, daily_csv())
    assert created.status_code == 201, created.content
    schedule = created.json()["schedule"]
    assert schedule["config"] == {
        "path": "items.csv",
        "syncTime": "02:30",
        "timeZone": "Pacific/Auckland",
        "timeoutSeconds": 60,
        "deleteMissing": False,
        "mapping": {},
    }
    assert schedule["nextSyncAt"].endswith("Z") and schedule["lastRun"] is None
    read = api.call("get", f"{BASE}/{schedule['id']}").json()["schedule"]
    assert read == schedule
    listed = api.call("get", BASE).json()
    assert listed["success"] is True and listed["totalCount"] == 1 and listed["schedules"] == [schedule]


def test_list_filters_and_counts(api: Api, file_root: Path):
    for n, enabled in enumerate([True, False, True]):
        body = {**daily_csv(), "name": f"s{n}", "enabled": enabled}
        assert api.call("post", BASE, body).status_code == 201
    assert api.call("get", BASE, enabled="false").json()["totalCount"] == 1
    page = api.call("get", BASE, enabled="true", limit=1).json()
    assert (page["totalCount"], [s["name"] for s in page["schedules"]]) == (2, ["s0"])
    assert api.call("get", BASE, name="s2").json()["totalCount"] == 1
    assert api.call("get", BASE, recordType="name").json()["totalCount"] == 0
    assert "true or false" in error_of(api.call("get", BASE, enabled="maybe"), 400)


def test_put_merges_config_key_by_key_and_recomputes_the_next_run(api: Api, file_root: Path):
    schedule = api.call("post", BASE, daily_csv(mapping={"Code": "code"})).json()["schedule"]
    changed = api.call(
        "put", f"{BASE}/{schedule['id']}", {"config": {"syncTime": "23:59", "timeZone": "UTC"}}
    )
    assert changed.status_code == 200, changed.content
    after = changed.json()["schedule"]
    assert after["config"] == {**schedule["config"], "syncTime": "23:59", "timeZone": "UTC"}
    assert after["nextSyncAt"].endswith("T23:59:00Z")
    weekly = api.call(
        "put", f"{BASE}/{schedule['id']}", {"frequency": "weekly", "config": {"dayOfWeek": "sunday"}}
    ).json()["schedule"]
    assert weekly["config"]["dayOfWeek"] == "sunday" and weekly["config"]["mapping"] == {"Code": "code"}
    disabled = api.call("put", f"{BASE}/{schedule['id']}", {"enabled": False}).json()["schedule"]
    assert disabled["nextSyncAt"] is None


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"config": {"syncTime": "25:00"}}, "HH:MM"),
        ({"config": {"timeZone": "Nowhere/City"}}, "time zone"),
        ({"config": {"colour": "red"}}, "Unknown config key"),
        ({"frequency": "weekly"}, "dayOfWeek"),
        ({"recordType": "not_a_type"}, "not a record type"),
        ({"enabled": "yes"}, "true or false"),
        ({"config": {"path": "../../etc/passwd", "url": "http://x"}}, "exactly one"),
        ({"owner": 1}, "Unknown key"),
        ({"config": {"mapping": {"Code": "kode"}}}, "does not have: kode"),
    ],
)
def test_bad_changes_are_refused_in_words_and_change_nothing(api: Api, file_root: Path, body, words):
    schedule = api.call("post", BASE, daily_csv()).json()["schedule"]
    assert words in error_of(api.call("put", f"{BASE}/{schedule['id']}", body), 400)
    assert api.call("get", f"{BASE}/{schedule['id']}").json()["schedule"] == schedule


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"name": "x", "recordType": "item"}, "sourceType is required"),
        ({**daily_csv(), "sourceType": "ftp"}, "sourceType must be one of"),
        ({**daily_csv(), "config": {}}, "exactly one of config.path"),
        ({"sourceType": "sql", "name": "x", "recordType": "item", "config": {"connection": "erp",
          "query": "DELETE FROM t"}}, "SELECT"),
    ],
)  # fmt: skip
def test_bad_new_schedules_are_refused_and_nothing_is_created(api: Api, body, words):
    assert words in error_of(api.call("post", BASE, body), 400)
    assert not ImportSchedule.objects.exists() and not DataSource.objects.exists()


def test_malformed_json_is_a_400(api: Api):
    response = api.client.post(
        BASE, b"{not json", content_type="application/json", HTTP_AUTHORIZATION=api.key
    )
    assert "not valid JSON" in error_of(response, 400)


def test_sync_runs_now_reports_changes_and_reaches_the_satellites(api: Api, file_root: Path):
    satellite = client_for(make_site(2))
    write_csv(file_root, "items.csv", ["ID,code", "A1,X", "A2,Y"])
    schedule = api.call("post", BASE, daily_csv()).json()["schedule"]
    response = api.call("post", f"{BASE}/{schedule['id']}/sync")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True and body["changes"] == {"added": 2, "updated": 0, "deleted": 0}
    assert body["run"]["trigger"] == "manual" and body["run"]["status"] == "succeeded"
    assert sorted(r["RecordID"] for r in satellite.drain()) == ["A1", "A2"]
    # A second manual run within the minute: 429 with when to retry.
    again = api.call("post", f"{BASE}/{schedule['id']}/sync")
    assert "try again" in error_of(again, 429)
    assert 1 <= again.json()["retryAfter"] <= 60 and again["Retry-After"] == str(again.json()["retryAfter"])


def test_sync_of_a_running_schedule_is_a_409(api: Api, file_root: Path):
    schedule = api.call("post", BASE, daily_csv()).json()["schedule"]
    ImportSchedule.objects.filter(pk=schedule["id"]).update(
        claim_token="other-runner", claimed_at=timezone.now()
    )
    assert "running now" in error_of(api.call("post", f"{BASE}/{schedule['id']}/sync"), 409)


def test_a_failed_sync_says_why_and_when_to_retry(api: Api, file_root: Path):
    schedule = api.call("post", BASE, daily_csv(path="missing.csv")).json()["schedule"]
    response = api.call("post", f"{BASE}/{schedule['id']}/sync")
    assert response.status_code == 502
    assert response["Retry-After"].isdigit()
    body = response.json()
    assert (body["success"], body["error"]) == (False, "Sync failed")
    assert "missing.csv" in body["message"] and body["retryAfter"] == 60


def test_history_pages_newest_first(api: Api, file_root: Path):
    schedule = api.call("post", BASE, daily_csv()).json()["schedule"]
    start = timezone.now() - timedelta(days=1)
    for n in range(5):
        ImportRun.objects.create(
            schedule_id=schedule["id"], trigger="scheduled", status="succeeded", rows=n,
            started_at=start + timedelta(hours=n), finished_at=start + timedelta(hours=n, seconds=3),
        )  # fmt: skip
    first = api.call("get", f"{BASE}/{schedule['id']}/history", limit=2).json()
    assert [r["rows"] for r in first["history"]] == [4, 3]
    assert first["pagination"] == {"limit": 2, "offset": 0, "hasMore": True}
    assert first["history"][0]["durationSeconds"] == 3.0
    last = api.call("get", f"{BASE}/{schedule['id']}/history", limit=2, offset=4).json()
    assert [r["rows"] for r in last["history"]] == [0] and last["pagination"]["hasMore"] is False
    default = api.call("get", f"{BASE}/{schedule['id']}/history").json()
    assert default["pagination"] == {"limit": 50, "offset": 0, "hasMore": False}
    assert "from 1 to 500" in error_of(api.call("get", f"{BASE}/{schedule['id']}/history", limit=0), 400)


def test_delete_keeps_the_imported_records(api: Api, file_root: Path):
    write_csv(file_root, "items.csv", ["ID,code", "A1,X"])
    schedule = api.call("post", BASE, daily_csv()).json()["schedule"]
    api.call("post", f"{BASE}/{schedule['id']}/sync")
    response = api.call("delete", f"{BASE}/{schedule['id']}")
    assert response.status_code == 200 and response.json()["success"] is True
    assert not ImportSchedule.objects.exists() and not ImportRun.objects.exists()
    assert Record.objects.filter(record_type_id="item", record_id="A1", is_deleted=False).exists()
    assert "no schedule" in error_of(api.call("get", f"{BASE}/{schedule['id']}"), 404)


def test_keys_must_exist_have_the_scope_and_belong_to_staff(file_root: Path):
    assert error_of(Client().get(BASE), 401)
    assert error_of(Api("ssk_nope_wrong").call("get", BASE), 401)
    settings_only = Api(key_for(scopes=("settings",), username="a"))
    assert "schedules" in error_of(settings_only.call("get", BASE), 401)
    not_staff = Api(key_for(staff=False, username="b"))
    assert "staff" in error_of(not_staff.call("get", BASE), 403)
    ownerless = Api(apikey_create(name="no owner", scopes=["schedules"])[1])
    assert "staff" in error_of(ownerless.call("post", BASE, daily_csv()), 403)
    assert not ImportSchedule.objects.exists()


def test_secrets_are_never_stored_or_returned(api: Api, monkeypatch):
    monkeypatch.setenv("IMPORTS_SQL_ERP_URL", "mysql://reader:s3cret-pass@db.example/erp")
    body = {
        "name": "erp",
        "sourceType": "sql",
        "recordType": "item",
        "config": {"connection": "erp", "query": "SELECT code AS ID FROM products"},
    }
    response = api.call("post", BASE, body)
    assert response.status_code == 201, response.content
    assert b"s3cret" not in response.content and b"s3cret" not in api.call("get", BASE).content
    assert response.json()["schedule"]["config"]["connection"] == "erp"


def test_a_schedule_on_an_existing_source_and_a_shared_source_is_changed_only_in_the_admin(api: Api):
    first = api.call("post", BASE, daily_csv()).json()["schedule"]
    body = {
        "name": "names too",
        "recordType": "name",
        "sourceId": first["sourceId"],
        "config": {"syncTime": "04:00"},
    }
    second = api.call("post", BASE, body)
    assert second.status_code == 201, second.content
    assert second.json()["schedule"]["config"]["path"] == "items.csv"
    assert "admin" in error_of(api.call("put", f"{BASE}/{first['id']}", {"config": {"path": "b.csv"}}), 400)
    both = {**body, "name": "x", "config": {"path": "c.csv"}}
    assert "not both" in error_of(api.call("post", BASE, both), 400)
    # Deleting one schedule keeps the source the other still uses.
    api.call("delete", f"{BASE}/{first['id']}")
    assert DataSource.objects.filter(pk=first["sourceId"]).exists()
