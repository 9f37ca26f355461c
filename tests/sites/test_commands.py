"""The operator commands that register sites, stores and users, and reset a site's device binding."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from apps.sites.models import Site, Store, SyncUser
from tests.support import basic_auth, client_for, make_site, make_user, sha256_hex

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_createsite_registers_a_site_that_can_sync_with_its_password():
    output = run("createsite", "2", "clinic", "--password", "secret")
    assert "Created site 2 'clinic'" in output
    site = Site.objects.get(pk=2)
    assert site.check_password_sha256(sha256_hex("secret"))
    # The site authenticates over HTTP with what the command stored.
    assert client_for(site, password="secret").count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1", "primary"), "primary"),
        (("2", "taken-id"), "Site 2 exists already"),
        (("3", "site2"), "named 'site2' exists already"),
    ],
)
def test_createsite_refuses_in_words_and_changes_nothing(args: tuple[str, str], message: str):
    make_site(2)
    with pytest.raises(CommandError, match=message):
        run("createsite", *args, "--password", "pw")
    assert list(Site.objects.values_list("pk", flat=True)) == [1, 2]


def test_createsite_requires_a_password():
    with pytest.raises(CommandError, match="--password"):
        run("createsite", "2", "clinic")
    assert not Site.objects.filter(pk=2).exists()


def test_createstore_makes_a_store_active_on_a_site_with_its_supplier():
    make_site(2, stores=["WAREHOUSE"])
    output = run(
        "createstore",
        "CLINIC",
        "Clinic store",
        "--site",
        "2",
        "--name-id",
        "NAME_CLINIC",
        "--code",
        "CL",
        "--supplying-store",
        "WAREHOUSE",
    )
    assert "Created store CLINIC 'Clinic store'" in output
    assert "active on site 2" in output
    store = Store.objects.get(pk="CLINIC")
    assert (store.site_id, store.name_id, store.code, store.supplying_store_id) == (
        2,
        "NAME_CLINIC",
        "CL",
        "WAREHOUSE",
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--site", "9", "--name-id", "N"], "no site 9"),
        (["--site", "2", "--name-id", "N", "--supplying-store", "NOPE"], "no supplying store NOPE"),
        (["--site", "2", "--name-id", " "], "needs an id and a name_ID"),
    ],
)
def test_createstore_refuses_bad_input_and_creates_nothing(extra: list[str], message: str):
    make_site(2, stores=[])
    with pytest.raises(CommandError, match=message):
        run("createstore", "NEW", "New store", *extra)
    assert not Store.objects.filter(pk="NEW").exists()


def test_createsyncuser_gives_a_user_every_store_named():
    make_site(2, stores=["S1", "S2"])
    output = run("createsyncuser", "nurse", "--password", "pw", "--store", "S1", "--store", "S2", "--admin")
    assert "Created admin user 'nurse'" in output
    assert "S1, S2" in output
    user = SyncUser.objects.get(username="nurse")
    assert user.is_admin
    assert sorted(user.stores.values_list("pk", flat=True)) == ["S1", "S2"]
    assert user.check_password_sha256(sha256_hex("pw"))


def test_createsyncuser_needs_at_least_one_store():
    with pytest.raises(CommandError, match="--store"):
        run("createsyncuser", "nurse", "--password", "pw")
    assert not SyncUser.objects.exists()


def test_createsyncuser_refuses_an_unknown_store_and_creates_no_user():
    make_site(2, stores=["S1"])
    with pytest.raises(CommandError, match="no store MISSING"):
        run("createsyncuser", "nurse", "--password", "pw", "--store", "S1", "--store", "MISSING")
    assert not SyncUser.objects.exists()


def test_resethardware_lets_a_new_device_sync_as_the_site():
    site = make_site(2)
    assert client_for(site, hardware_id="old-tablet").count() == 0
    replaced = client_for(site, hardware_id="new-tablet").get("queued_records/count")
    assert "error" in replaced.json() and replaced.json()["error"]

    output = run("resethardware", "2")

    assert "Reset the hardware binding of site 2" in output
    assert client_for(site, hardware_id="new-tablet").count() == 0
    assert Site.objects.get(pk=2).hardware_id == "new-tablet"


def test_resethardware_of_an_unknown_site_is_refused():
    with pytest.raises(CommandError, match="no site 7"):
        run("resethardware", "7")


def test_setpassword_changes_what_a_site_logs_in_with():
    site = make_site(2, password="old")
    assert "Set the password of site 2 'site2'" in run("setpassword", "--site", "2", "--password", "new")
    assert client_for(site, password="new").get("queued_records/count").status_code == 200
    assert client_for(site, password="old").get("queued_records/count").status_code == 401


def test_setpassword_changes_what_a_user_logs_in_with():
    make_site(2)
    make_user("nurse", password="old", stores=["STORE2"])

    def login(password: str) -> int:
        return Client().get("/sync/v3/user", HTTP_AUTHORIZATION=basic_auth("nurse", password)).status_code

    assert login("old") == 200
    assert "Set the password of user 'nurse'" in run("setpassword", "--user", "nurse", "--password", "new")
    assert login("new") == 200
    assert login("old") == 401


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--site", "9", "--password", "x"), "There is no site 9"),
        (("--site", "1", "--password", "x"), "primary"),
        (("--user", "nobody", "--password", "x"), "There is no user 'nobody'"),
        (("--site", "2", "--password", ""), "must not be empty"),
    ],
)
def test_setpassword_refuses_in_words_and_changes_nothing(args: tuple[str, ...], message: str):
    make_site(2, password="kept")
    with pytest.raises(CommandError, match=message):
        run("setpassword", *args)
    assert Site.objects.get(pk=2).check_password_sha256(sha256_hex("kept"))


def test_deactivatesite_refuses_the_next_sync_and_activatesite_lets_it_in_again():
    site = make_site(2)
    assert "Deactivated site 2" in run("deactivatesite", "2")
    assert client_for(site).get("queued_records/count").status_code == 401
    assert "rebuild its queue with initialdump 2" in run("activatesite", "2")
    assert client_for(site).get("queued_records/count").status_code == 200


def test_the_primary_cannot_be_deactivated():
    with pytest.raises(CommandError, match="primary"):
        run("deactivatesite", "1")
    assert Site.objects.get(pk=1).is_active
