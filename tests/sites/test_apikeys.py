"""API keys: made by command or admin and shown once, stored hashed, scoped, revocable, throttled."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from apps.sites.models import ApiKey
from apps.sites.services import apikey_create, apikey_revoke

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.sites.apikey_urls")]


def whoami(authorization: str | None):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    return Client().get("/whoami", **headers)


def createapikey(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("createapikey", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_createapikey_prints_a_key_that_authenticates_bare_or_as_bearer():
    raw_key, note = createapikey("tablet", "--scope", "settings")
    assert "shown only this once" in note
    for header in (raw_key, f"Bearer {raw_key}", f"bearer  {raw_key}"):
        response = whoami(header)
        assert response.status_code == 200, response.content
        assert response.json() == {"key": "tablet", "owner": None}


def test_the_key_is_stored_only_as_a_hash():
    key, raw_key = apikey_create(name="tablet", scopes=["settings"])
    secret = raw_key.rsplit("_", 1)[-1]
    stored = ApiKey.objects.filter(pk=key.pk).values()[0]
    assert all(secret not in str(value) for value in stored.values())
    assert raw_key.startswith(f"ssk_{key.prefix}_")


def test_a_key_with_an_owner_acts_for_that_user():
    get_user_model().objects.create_user("ops", password="x", is_staff=True)
    raw_key, _ = createapikey("importer", "--scope", "settings,schedules", "--owner", "ops")
    assert ApiKey.objects.get().scope_list == ["schedules", "settings"]
    assert whoami(f"Bearer {raw_key}").json() == {"key": "importer", "owner": "ops"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("k", "--scope", "everything"), "Unknown API key scope everything"),
        (("k", "--scope", "settings", "--owner", "nobody"), "There is no user 'nobody'"),
        (("  ", "--scope", "settings"), "needs a name"),
    ],
)
def test_createapikey_refuses_in_words_and_makes_nothing(args: tuple[str, ...], message: str):
    with pytest.raises(CommandError, match=message):
        createapikey(*args)
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize(
    "header",
    ["", "Bearer ", "Basic c2l0ZTI6eA==", "ssk_nosuchkey_abc", "not-a-key"],
)
def test_missing_or_unknown_keys_are_refused_with_401(header: str):
    response = whoami(header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "API key" in response.json()["error"]


def test_a_key_without_the_scope_or_with_a_wrong_secret_is_refused():
    _, schedules_key = apikey_create(name="importer", scopes=["schedules"])
    assert whoami(schedules_key).status_code == 401
    _, settings_key = apikey_create(name="tablet", scopes=["settings"])
    assert whoami(settings_key[:-2] + "xx").status_code == 401
    assert whoami(settings_key).status_code == 200


def test_a_revoked_key_is_refused():
    key, raw_key = apikey_create(name="tablet", scopes=["settings"])
    assert whoami(raw_key).status_code == 200
    apikey_revoke(key=key)
    response = whoami(raw_key)
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]


def test_last_used_time_is_kept():
    key, raw_key = apikey_create(name="tablet", scopes=["settings"])
    assert key.last_used_at is None
    whoami(raw_key)
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_repeated_failures_lock_the_key_out_with_429(settings):
    settings.SYNC_AUTH_MAX_FAILURES = 3
    _, raw_key = apikey_create(name="tablet", scopes=["settings"])
    wrong = raw_key[:-3] + "abc"
    assert [whoami(wrong).status_code for _ in range(3)] == [401, 401, 401]
    response = whoami(raw_key)
    assert response.status_code == 429
    assert int(response["Retry-After"]) == settings.SYNC_AUTH_FAILURE_WINDOW_SECONDS


@pytest.fixture
def admin_client() -> Client:
    user = get_user_model().objects.create_superuser("admin", "admin@example.org", "pw")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.urls("syncserver.urls")
def test_admin_makes_a_key_and_shows_it_once(admin_client: Client, settings):
    response = admin_client.post(
        "/admin/sites/apikey/add/", {"name": "pos tablet", "scopes": ["settings"]}, follow=True
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"] if "The new API key is" in str(m)]
    assert len(shown) == 1
    raw_key = shown[0].split("The new API key is ", 1)[1].split(" ", 1)[0]
    key = ApiKey.objects.get()
    assert key.name == "pos tablet" and key.scopes == "settings"
    assert raw_key.startswith(f"ssk_{key.prefix}_")
    # Not on the list or the change page afterwards.
    assert raw_key not in admin_client.get("/admin/sites/apikey/").content.decode()
    assert raw_key not in admin_client.get(f"/admin/sites/apikey/{key.pk}/change/").content.decode()
    settings.ROOT_URLCONF = "tests.sites.apikey_urls"
    assert whoami(raw_key).json() == {"key": "pos tablet", "owner": None}


@pytest.mark.urls("syncserver.urls")
def test_admin_refuses_a_key_without_a_scope(admin_client: Client):
    response = admin_client.post("/admin/sites/apikey/add/", {"name": "pos tablet"})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not ApiKey.objects.exists()


@pytest.mark.urls("syncserver.urls")
def test_admin_revoke_action_refuses_the_key_from_then_on(admin_client: Client, settings):
    key, raw_key = apikey_create(name="tablet", scopes=["settings"])
    response = admin_client.post(
        "/admin/sites/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert "Revoked 1 API key" in response.content.decode()
    settings.ROOT_URLCONF = "tests.sites.apikey_urls"
    assert whoami(raw_key).status_code == 401
