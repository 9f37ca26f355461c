"""GET user, in v1, v2 and v3 alike: the mobile login, and a site asking for the user of its store.

The mSupply sync API document: `user?store=<store id>` with the site's credentials "will retrieve the
user ID for the sync satellite site having store ID=...". A site never learns about other sites' users
or stores: they get the same answer as names and ids that do not exist.
"""

from __future__ import annotations

import pytest
from django.test import Client

from apps.queue.models import SyncLog
from apps.sites.models import SyncUser
from apps.sites.services import store_create
from tests.support import basic_auth, json_error, make_site, make_user, sha256_hex

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["v1", "v2", "v3"])
def version(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(autouse=True)
def sites() -> None:
    """Site 2 with stores STORE2 and SHOP2, site 3 with STORE3, and STORE0 active on no site."""
    make_site(2, stores=["STORE2", "SHOP2"])
    make_site(3)
    store_create(store_id="STORE0", name="Closed store", site_id=None, name_id="NAME_STORE0")


def ask(version: str, *, name: str, password: str, **query: str):
    text = "&".join(f"{key}={value}" for key, value in query.items())
    return Client().get(
        f"/sync/{version}/user?{text}",
        HTTP_AUTHORIZATION=basic_auth(name, password),
        HTTP_MSUPPLY_SITE_UUID="device-1",
    )


def as_site2(version: str, **query: str):
    return ask(version, name="site2", password="pass", **query)


def found(response, user: SyncUser) -> None:
    assert response.status_code == 200, response.content
    assert response.json() == {"UserID": user.pk, "isAdmin": user.is_admin, "error": ""}


# The site's credentials and only the store --------------------------------------------------------
def test_the_only_active_user_of_the_sites_store_is_answered(version):
    alice = make_user("alice", stores=["STORE2"], admin=True)
    make_user("carol", stores=["STORE3"])
    retired = make_user("bob", stores=["STORE2"])
    SyncUser.objects.filter(pk=retired.pk).update(is_active=False)

    found(as_site2(version, store="STORE2"), alice)


def test_a_store_with_no_active_user_is_404_in_words(version):
    retired = make_user("bob", stores=["STORE2"])
    SyncUser.objects.filter(pk=retired.pk).update(is_active=False)

    message = json_error(as_site2(version, store="STORE2"), 404)

    assert "STORE2" in message and "no active user" in message


def test_a_store_with_several_active_users_is_400_asking_for_the_username(version):
    make_user("alice", stores=["STORE2"])
    make_user("bob", stores=["STORE2", "SHOP2"])

    message = json_error(as_site2(version, store="STORE2"), 400)

    assert "username" in message


@pytest.mark.parametrize("store", ["STORE3", "STORE0", "NO_SUCH_STORE"])
def test_a_store_not_active_on_the_site_is_403_whether_it_exists_or_not(version, store):
    make_user("carol", stores=["STORE3", "STORE0"])

    message = json_error(as_site2(version, store=store), 403)

    assert message.replace(store, "<store>") == "Store <store> is not active on this site."
    assert "carol" not in message


def test_neither_store_nor_username_is_400_saying_what_to_send(version):
    make_user("alice", stores=["STORE2"])

    message = json_error(as_site2(version), 400)

    assert "store=" in message and "username=" in message


# The site's credentials and a username -----------------------------------------------------------
def test_a_named_user_of_the_site_is_answered_with_or_without_its_store(version):
    bob = make_user("bob", stores=["SHOP2"])
    make_user("alice", stores=["SHOP2"])

    found(as_site2(version, username="bob"), bob)
    found(as_site2(version, username="bob", store="SHOP2"), bob)


def test_a_named_user_of_the_site_who_may_not_use_the_store_is_403(version):
    make_user("bob", stores=["SHOP2"])

    message = json_error(as_site2(version, username="bob", store="STORE2"), 403)

    assert "bob" in message and "STORE2" in message


@pytest.mark.parametrize("store", [None, "STORE2"])
def test_users_of_other_sites_inactive_users_and_unknown_names_get_one_and_the_same_404(version, store):
    make_user("carol", stores=["STORE3"])
    retired = make_user("dave", stores=["STORE2"])
    SyncUser.objects.filter(pk=retired.pk).update(is_active=False)
    query = {"store": store} if store else {}

    answers = {
        name: json_error(as_site2(version, username=name, **query), 404).replace(name, "<name>")
        for name in ("carol", "dave", "nobody")
    }

    assert set(answers.values()) == {"There is no active user '<name>' on this site."}, answers


def test_a_user_of_another_sites_store_is_not_revealed_through_that_store(version):
    make_user("carol", stores=["STORE3"])

    json_error(as_site2(version, username="carol", store="STORE3"), 403)
    json_error(as_site2(version, store="STORE3"), 403)


# The user's own credentials (the mobile login) --------------------------------------------------------
def test_a_users_own_credentials_answer_that_user_even_in_a_store_with_several(version):
    alice = make_user("alice", password="secret", stores=["STORE2"], admin=True)
    make_user("bob", stores=["STORE2"])

    found(ask(version, name="alice", password="secret", store="STORE2"), alice)
    found(ask(version, name="alice", password="secret"), alice)


def test_a_users_own_credentials_cannot_look_up_another_user(version):
    make_user("alice", password="secret", stores=["STORE2"])
    make_user("bob", stores=["STORE2"])

    message = json_error(ask(version, name="alice", password="secret", username="bob"), 403)

    assert "alice" in message


def test_a_users_own_credentials_refuse_a_store_the_user_may_not_use(version):
    make_user("alice", password="secret", stores=["STORE2"])

    json_error(ask(version, name="alice", password="secret", store="STORE3"), 403)


def test_a_wrong_password_is_401_for_users_and_sites_alike(version):
    make_user("alice", password="secret", stores=["STORE2"])

    for name in ("alice", "site2", "nobody"):
        response = ask(version, name=name, password="wrong", store="STORE2")
        json_error(response, 401)
        assert response["WWW-Authenticate"] == 'Basic realm="sync"'


def test_a_user_named_like_a_site_logs_in_with_the_users_password_and_the_site_with_its_own(version):
    namesake = make_user("site2", password="users-own", stores=["STORE2"])
    alice = make_user("alice", stores=["SHOP2"])

    found(ask(version, name="site2", password="users-own"), namesake)
    found(ask(version, name="site2", password="pass", store="SHOP2"), alice)


# The sync log -----------------------------------------------------------------------------------------
def logged() -> list[tuple]:
    return list(SyncLog.objects.order_by("id").values_list("site_id", "call", "api_version", "status_code"))


def test_a_sites_user_calls_are_logged_under_the_site(version):
    make_user("alice", stores=["STORE2"])

    as_site2(version, store="STORE2")
    as_site2(version, store="STORE3")

    assert logged() == [(2, "user", version, 200), (2, "user", version, 403)]
    assert "not active on this site" in SyncLog.objects.order_by("id").last().error


def test_a_users_own_login_is_logged_under_the_site_of_its_store(version):
    make_user("carol", password="secret", stores=["STORE3"])

    ask(version, name="carol", password="secret", store="STORE3")
    ask(version, name="carol", password="secret", store="STORE2")

    assert logged() == [(3, "user", version, 200), (2, "user", version, 403)]


def test_a_failed_login_to_user_logs_nothing(version):
    make_user("alice", password="secret", stores=["STORE2"])

    ask(version, name="alice", password="wrong", store="STORE2")
    ask(version, name="site2", password="wrong", store="STORE2")

    assert logged() == []


# The legacy v1 logins ---------------------------------------------------------------------------------
def test_the_shared_v1_credential_looks_up_the_user_for_the_site_named_by_from_site(settings):
    settings.SYNC_V1_SHARED_USER = "legacy-sync"
    settings.SYNC_V1_SHARED_PASSWORD_SHA256 = sha256_hex("shared-secret")
    alice = make_user("alice", stores=["STORE2"])

    found(ask("v1", name="legacy-sync", password="shared-secret", store="STORE2", from_site="2"), alice)
    json_error(ask("v1", name="legacy-sync", password="shared-secret", store="STORE2", from_site="3"), 403)
    json_error(ask("v3", name="legacy-sync", password="shared-secret", store="STORE2", from_site="2"), 401)
