"""Settings documents over HTTP: the four actions, millisecond ordering, exact round trips, refusals,
versions and their restore in the admin."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.settingsync.models import SettingsDocument, SettingsVersion
from apps.sites.services import apikey_create, apikey_revoke
from tests.settingsync.support import URL, save, update

pytestmark = pytest.mark.django_db

T0 = "2026-03-01T10:00:00.000Z"
T0_PLUS_1MS = "2026-03-01T10:00:00.001Z"
T1 = "2026-03-01T11:00:00.000Z"


@pytest.fixture
def key() -> str:
    return apikey_create(name="reception tablets", scopes=["settings"])[1]


def test_the_four_actions(key: str):
    first = save(key, update("tablet-1", T0, {"theme": "dark"}))
    assert first.status_code == 200, first.content
    assert first.json() == {
        "success": True,
        "data": {"theme": "dark"},
        "action": "created",
        "error": "",
        "savedTs": T0,
    }
    newer = save(key, update("tablet-2", T1, {"theme": "light"})).json()
    assert (newer["action"], newer["data"], newer["savedTs"]) == ("incomingNewer", {"theme": "light"}, T1)
    same = save(key, update("tablet-3", T1, {"theme": "blue"})).json()
    assert (same["action"], same["data"]) == ("none", {"theme": "light"})
    older = save(key, update("tablet-1", T0, {"theme": "dark"})).json()
    assert (older["action"], older["data"], older["savedTs"]) == ("existingNewer", {"theme": "light"}, T1)
    document = SettingsDocument.objects.get()
    assert (document.device_name, document.content) == ("tablet-2", '{"theme":"light"}')


def test_one_millisecond_decides(key: str):
    save(key, update("a", T0_PLUS_1MS, "newer"))
    assert save(key, update("b", T0, "older")).json()["action"] == "existingNewer"
    assert save(key, update("b", "2026-03-01T10:00:00.0019Z", "same ms")).json()["action"] == "none"
    assert save(key, update("b", "2026-03-01T10:00:00.002Z", "newest")).json()["action"] == "incomingNewer"
    assert SettingsDocument.objects.get().content == '"newest"'


def test_offsets_and_epoch_milliseconds_name_the_same_instant(key: str):
    save(key, update("a", "2026-03-01T11:00:00.000+01:00", 1))
    epoch_ms = int(datetime(2026, 3, 1, 10, tzinfo=UTC).timestamp() * 1000)
    assert save(key, update("b", epoch_ms, 2)).json()["action"] == "none"


@pytest.mark.parametrize(
    "value",
    [
        "U2FsdGVkX1+vupppZksvRf5pq5g5XjFRlipRkwB0K1Y=",
        {"b": [1, 2.5, None, True], "a": {"nested": "é"}, "big": 123456789012345678901234567890},
        [1, "two"],
        "",
        None,
    ],
)
def test_strings_and_objects_come_back_exactly_as_sent(key: str, value):
    save(key, update("a", T0, value))
    fetched = save(key, update("b", "1900-01-01T00:00:00.000Z", "ignored"))
    body = fetched.json()
    assert body["action"] == "existingNewer"
    assert body["data"] == value and type(body["data"]) is type(value)


def test_a_1900_save_time_fetches_and_never_writes(key: str):
    fetch = update("new-tablet", "1900-01-01T00:00:00.000Z", {"blank": True})
    assert save(key, fetch).json() == {
        "success": True,
        "data": None,
        "action": "none",
        "error": "",
        "savedTs": None,
    }
    assert not SettingsDocument.objects.exists()
    save(key, update("a", T0, {"x": 1}))
    assert save(key, fetch).json()["data"] == {"x": 1}
    assert SettingsDocument.objects.get().content == '{"x":1}'


def test_each_key_has_its_own_document(key: str):
    _, other = apikey_create(name="kitchen", scopes=["settings"])
    save(key, update("a", T0, "reception"))
    assert save(other, update("b", T0, "kitchen")).json()["action"] == "created"
    assert save(key, update("c", "1900-01-01T00:00:00Z", None)).json()["data"] == "reception"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "body: not valid JSON"),
        (b"[1]", "body: expected an object"),
        (b'{"savedTs": "2026-03-01T10:00:00Z", "settings": {}}', "deviceName: required"),
        (b'{"deviceName": "a", "settings": {}}', "savedTs: required"),
        (b'{"deviceName": "a", "savedTs": "yesterday", "settings": {}}', "savedTs: 'yesterday' is not"),
        (b'{"deviceName": "a", "savedTs": "2026-03-01T10:00:00Z"}', "settings: required"),
        (b'{"deviceName": "a", "savedTs": "2026-03-01T10:00:00Z", "settings": NaN}', "body: not valid JSON"),
    ],
)
def test_a_bad_body_is_refused_in_words_and_stores_nothing(key: str, body: bytes, message: str):
    response = save(key, body)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert response.json()["error"].startswith(message)
    assert not SettingsDocument.objects.exists()


def test_a_save_time_more_than_a_day_ahead_is_refused(key: str):
    tomorrow = datetime.now(UTC) + timedelta(hours=25)
    response = save(key, update("broken-clock", tomorrow.isoformat(), {"x": 1}))
    assert response.status_code == 400
    assert response.json()["error"].startswith("savedTs: more than 24 hours ahead")
    soon = datetime.now(UTC) + timedelta(hours=23)
    assert save(key, update("fast-clock", soon.isoformat(), {"x": 1})).json()["action"] == "created"


def test_over_one_mebibyte_is_refused_with_413(key: str):
    big = "x" * (1024 * 1024)
    response = save(key, update("a", T0, big))
    assert response.status_code == 413
    assert response.json()["success"] is False
    assert not SettingsDocument.objects.exists()


def test_revoked_unknown_and_wrongly_scoped_keys_are_refused(key: str):
    assert save(key, update("a", T0, 1), bearer=False).status_code == 200
    revoked, raw_revoked = apikey_create(name="old tablet", scopes=["settings"])
    apikey_revoke(key=revoked)
    _, schedules_only = apikey_create(name="importer", scopes=["schedules"])
    for raw in (raw_revoked, schedules_only, "ssk_0000000000_nope"):
        response = save(raw, update("a", T1, 2))
        assert response.status_code == 401
        assert response.json()["success"] is False
    no_header = Client().post(URL, b"{}", content_type="application/json")
    assert no_header.status_code == 401
    assert SettingsDocument.objects.get().content == "1"


def test_settings_content_is_never_logged(key: str, caplog):
    secret = "do-not-log-this-value"
    with caplog.at_level(logging.DEBUG):
        save(key, update("a", T0, {"password": secret}))
        save(key, update("a", "next week", {"password": secret}))
        save(key, update("a", T0, {"password": secret, "x": "y" * (1024 * 1024)}))
    assert secret not in caplog.text


def test_the_last_ten_versions_are_kept(key: str):
    for minute in range(12):
        save(key, update("a", f"2026-03-01T10:{minute:02d}:00.000Z", {"n": minute}))
    contents = list(SettingsVersion.objects.order_by("id").values_list("content", flat=True))
    assert contents == [f'{{"n":{n}}}' for n in range(2, 12)]


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("admin", "a@example.org", "pw"))
    return client


def test_an_operator_restores_a_version_and_devices_take_it(key: str, admin_client: Client):
    save(key, update("a", T0, {"good": True}))
    save(key, update("b", T1, {"good": False}))
    good = SettingsVersion.objects.get(content='{"good":true}')
    page = admin_client.get("/admin/settingsync/settingsdocument/")
    assert page.status_code == 200 and "reception tablets" in page.content.decode()
    response = admin_client.post(
        "/admin/settingsync/settingsversion/",
        {"action": "restore", "_selected_action": [good.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Restored" in response.content.decode()
    # A device that holds the bad save (T1) now gets the restored settings back.
    answer = save(key, update("b", T1, {"good": False})).json()
    assert (answer["action"], answer["data"]) == ("existingNewer", {"good": True})
    assert SettingsVersion.objects.count() == 3
