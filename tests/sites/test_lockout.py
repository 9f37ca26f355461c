"""Lockout of failed logins: it stops guessing without letting an attacker lock the owner out.

Client addresses here are documentation addresses (RFC 5737) set as REMOTE_ADDR in the test client;
nothing is sent anywhere.
"""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client

from apps.sites.lockout import record_failure
from apps.sites.models import LoginFailure, Site
from tests.support import basic_auth, json_error, make_site, make_user

pytestmark = pytest.mark.django_db

OWNER = "192.0.2.10"
ATTACKER = "198.51.100.66"
PROXY = "203.0.113.1"


class CountingHasher(MD5PasswordHasher):
    """MD5, counting how often a password is verified: the stand-in for the slow hash's cost."""

    algorithm = "counting_md5"
    verified = 0

    def verify(self, password: str, encoded: str) -> bool:
        type(self).verified += 1
        return super().verify(password, encoded)


def count(name: str, password: str, *, address: str, site_id: int = 2, **meta: str):
    return Client(REMOTE_ADDR=address).get(
        f"/sync/v3/queued_records/count?from_site={site_id}&to_site=1",
        HTTP_AUTHORIZATION=basic_auth(name, password),
        **meta,
    )


def user_login(name: str, password: str, *, address: str):
    return Client(REMOTE_ADDR=address).get("/sync/v3/user", HTTP_AUTHORIZATION=basic_auth(name, password))


@pytest.fixture
def limits(settings):
    settings.SYNC_AUTH_MAX_FAILURES = 3
    settings.SYNC_AUTH_MAX_FAILURES_PER_ADDRESS = 20
    return settings


@pytest.fixture
def site2(limits) -> Site:
    return make_site(2)


def lock(name: str, *, address: str, times: int = 3) -> None:
    """`times` wrong passwords: refused with 401 until the lock, then with 429."""
    for attempt in range(times):
        assert count(name, "wrong", address=address).status_code == (401 if attempt < 3 else 429)


def test_the_owner_gets_in_while_an_attacker_elsewhere_is_locked_out(site2):
    lock("site2", address=ATTACKER, times=10)

    locked = count("site2", "pass", address=ATTACKER)
    json_error(locked, 429)
    assert int(locked["Retry-After"]) > 0
    assert count("site2", "pass", address=OWNER).status_code == 200


def test_the_lock_is_in_the_database_so_no_cache_flush_or_name_flood_lifts_it(site2, limits):
    limits.SYNC_AUTH_MAX_FAILURES_PER_ADDRESS = 10_000
    lock("site2", address=ATTACKER)
    for index in range(50):
        assert count(f"random-{index}", "x", address=ATTACKER).status_code == 401
    cache.clear()  # what another worker, or a flushed per-process cache, would see

    json_error(count("site2", "pass", address=ATTACKER), 429)


def test_failures_at_the_user_login_count_like_site_failures(site2):
    make_user("nurse", stores=["STORE2"])
    for _ in range(3):
        json_error(user_login("nurse", "wrong", address=ATTACKER), 401)

    json_error(user_login("nurse", "pass", address=ATTACKER), 429)
    assert user_login("nurse", "pass", address=OWNER).status_code == 200


def test_many_names_from_one_address_lock_that_address_only(site2, limits):
    limits.SYNC_AUTH_MAX_FAILURES_PER_ADDRESS = 5
    for index in range(5):
        count(f"guess-{index}", "x", address=ATTACKER)

    assert "from this address" in json_error(count("site2", "pass", address=ATTACKER), 429)
    assert count("site2", "pass", address=OWNER).status_code == 200


def test_unknown_and_inactive_names_cost_the_same_slow_hash_as_a_wrong_password(settings, limits):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    make_site(2)
    make_site(3)
    Site.objects.filter(pk=3).update(is_active=False)
    make_user("nurse", stores=["STORE2"])
    costs = {}
    for label, call in {
        "wrong password": lambda: count("site2", "wrong", address=OWNER),
        "unknown site": lambda: count("nobody", "wrong", address=OWNER),
        "inactive site": lambda: count("site3", "wrong", address=OWNER, site_id=3),
        "wrong user password": lambda: user_login("nurse", "wrong", address=OWNER),
        "unknown user": lambda: user_login("nobody", "wrong", address=OWNER),
    }.items():
        CountingHasher.verified = 0
        assert call().status_code == 401
        costs[label] = CountingHasher.verified

    assert set(costs.values()) == {1}, costs


def test_forwarded_addresses_are_believed_only_from_a_trusted_proxy(site2, limits):
    forwarded = {"HTTP_X_FORWARDED_FOR": f"{OWNER}, {ATTACKER}"}
    # Not trusted: the header is ignored and the proxy's own address is counted.
    for _ in range(3):
        count("site2", "wrong", address=PROXY, **forwarded)
    assert LoginFailure.objects.filter(name="site2", address=PROXY).exists()

    limits.SYNC_TRUSTED_PROXIES = [PROXY]
    for _ in range(3):
        count("site2", "wrong", address=PROXY, **forwarded)
    # The nearest address the proxy reported is counted, not what the client wrote before it.
    assert LoginFailure.objects.get(name="site2", address=ATTACKER).failures == 3
    assert not LoginFailure.objects.filter(address=OWNER).exists()
    assert count("site2", "pass", address=PROXY, HTTP_X_FORWARDED_FOR=OWNER).status_code == 200


def test_releaselockout_lets_the_name_in_again(site2):
    lock("site2", address=ATTACKER)
    out = StringIO()

    call_command("releaselockout", "--name", "site2", stdout=out)

    assert "Released 'site2'" in out.getvalue()
    assert count("site2", "pass", address=ATTACKER).status_code == 200


def test_the_admin_lists_lockouts_and_releases_them(site2):
    lock("site2", address=ATTACKER)
    User.objects.create_superuser("root", password="root-password")
    admin = Client(REMOTE_ADDR=OWNER)
    admin.force_login(User.objects.get(username="root"))
    page = admin.get("/admin/sites/loginfailure/")
    assert page.status_code == 200 and ATTACKER in page.content.decode()

    row = LoginFailure.objects.get(name="site2")
    response = admin.post(
        "/admin/sites/loginfailure/", {"action": "release", "_selected_action": [row.pk]}, follow=True
    )

    assert "Released" in response.content.decode()
    assert count("site2", "pass", address=ATTACKER).status_code == 200


def test_the_admin_login_is_throttled_per_name_and_address(limits):
    User.objects.create_superuser("root", password="root-password")

    def login(password: str, address: str):
        return Client(REMOTE_ADDR=address).post(
            "/admin/login/?next=/admin/", {"username": "root", "password": password}
        )

    for _ in range(3):
        assert login("wrong", ATTACKER).status_code == 200  # the form again, with an error
    refused = login("root-password", ATTACKER)

    assert refused.status_code == 200 and "Too many failed logins" in refused.content.decode()
    assert login("root-password", OWNER).status_code == 302


@pytest.mark.mariadb
@pytest.mark.skipif(connection.vendor != "mysql", reason="needs MySQL/MariaDB for parallel connections")
@pytest.mark.django_db(transaction=True)
def test_failures_counted_by_parallel_workers_add_up_exactly():
    threads, per_thread = 6, 10
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                record_failure(name="site2", address=ATTACKER)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    running = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()

    assert errors == []
    assert LoginFailure.objects.get(name="site2", address=ATTACKER).failures == threads * per_thread
    assert LoginFailure.objects.get(name="", address=ATTACKER).failures == threads * per_thread
