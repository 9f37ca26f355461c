"""Authentication of sites over HTTP (docs/protocol.md, "Sites and authentication"), for v2 and v3.

HTTP Basic with `site name : sha256 hex of the password`, the hardware binding of the
`msupply-site-uuid` header, throttling of repeated failures, and the cache of verified credentials.
"""

from __future__ import annotations

import base64

import orjson
import pytest
from django.test import Client

from apps.records.models import Record
from apps.sites.models import Site
from apps.sites.services import site_reset_hardware, site_set_password
from tests.support import basic_auth, client_for, json_error, make_site, record

pytestmark = pytest.mark.django_db

# docs/protocol.md, "Sites and authentication": user `username`, password `password`.
KNOWN_VECTOR = (
    "Basic dXNlcm5hbWU6NWU4ODQ4OThkYTI4MDQ3MTUxZDBlNTZmOGRjNjI5Mjc3MzYw"
    "M2QwZDZhYWJiZGQ2MmExMWVmNzIxZDE1NDJkOA=="
)
MISMATCH = "Site registration doesn't match. "


def count_with(authorization: str | None, *, version: str, site_id: int = 2, device: str | None = "device-1"):
    headers = {}
    if authorization is not None:
        headers["HTTP_AUTHORIZATION"] = authorization
    if device is not None:
        headers["HTTP_MSUPPLY_SITE_UUID"] = device
    return Client().get(f"/sync/{version}/queued_records/count?from_site={site_id}&to_site=1", **headers)


def assert_refused_401(response) -> None:
    json_error(response, 401)
    assert response["WWW-Authenticate"] == 'Basic realm="sync"'


def location(record_id: str, *, sync_id: str, store: str = "STORE2") -> dict:
    return record(
        "Location",
        record_id,
        {"ID": record_id, "code": record_id, "store_ID": store},
        sync_id=sync_id,
        store_id=store,
    )


def test_the_known_vector_of_the_protocol_is_accepted_with_the_production_hasher(settings, version):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    site = make_site(2, name="username", password="password")
    assert site.password_hash.startswith("pbkdf2_sha256$")
    assert basic_auth("username", "password") == KNOWN_VECTOR

    response = count_with(KNOWN_VECTOR, version=version)

    assert response.status_code == 200, response.content
    assert response.json() == {"NumRecords": 0}


def test_a_wrong_password_is_refused_with_401(site2, version):
    assert_refused_401(count_with(basic_auth("site2", "wrong"), version=version))


def test_an_unknown_site_is_refused_with_401(site2, version):
    assert_refused_401(count_with(basic_auth("nobody", "pass"), version=version))


def test_a_missing_authorization_header_is_refused_with_401(site2, version):
    assert_refused_401(count_with(None, version=version))


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bearer " + base64.b64encode(b"site2:x").decode(), id="not-basic"),
        pytest.param("Basic !!!not-base64!!!", id="not-base64"),
        pytest.param("Basic " + base64.b64encode(b"site2-without-colon").decode(), id="no-colon"),
        pytest.param("Basic", id="no-credentials"),
    ],
)
def test_a_malformed_authorization_header_is_refused_with_401(site2, version, header):
    assert_refused_401(count_with(header, version=version))


def test_an_inactive_site_is_refused_with_401_even_with_the_right_password(site2, version):
    assert count_with(basic_auth("site2", "pass"), version=version).status_code == 200
    site2.is_active = False
    site2.save()  # as the admin does; saving forgets the cached site

    assert_refused_401(count_with(basic_auth("site2", "pass"), version=version))


def test_with_the_site_cache_off_even_a_bulk_update_applies_to_the_next_request(site2, version, settings):
    settings.SYNC_AUTH_SITE_CACHE_SECONDS = 0
    assert count_with(basic_auth("site2", "pass"), version=version).status_code == 200
    Site.objects.filter(pk=2).update(is_active=False)  # no signals: only the cache TTL bounds it

    assert_refused_401(count_with(basic_auth("site2", "pass"), version=version))


def test_the_first_device_binds_the_site_and_another_device_is_refused_with_200_and_an_error(site2, version):
    first = client_for(site2, version=version, hardware_id="device-1")
    assert first.count() == 0
    assert Site.objects.get(pk=2).hardware_id == "device-1"

    response = client_for(site2, version=version, hardware_id="device-2").get("queued_records/count")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"].startswith(MISMATCH)
    assert first.count() == 0


def test_a_bound_site_called_without_the_device_header_is_refused(site2, version):
    assert client_for(site2, version=version, hardware_id="device-1").count() == 0

    response = client_for(site2, version=version, hardware_id=None).get("queued_records/count")

    assert response.status_code == 200
    assert response.json()["error"].startswith(MISMATCH)


def test_a_push_from_the_wrong_device_applies_nothing(site2, version):
    site3 = make_site(3)
    client_for(site2, version=version, hardware_id="device-1").count()
    name = record("name", "N1", {"ID": "N1", "name": "Clinic", "type": "patient"}, sync_id="s1")

    response = client_for(site2, version=version, hardware_id="device-2").post("queued_records", [name])

    assert response.status_code == 200
    assert response.json()["error"].startswith(MISMATCH)
    assert not Record.objects.filter(record_id="N1").exists()
    assert client_for(site3, version=version).count() == 0


def test_after_a_hardware_reset_the_new_device_binds_and_the_old_one_is_refused(site2, version):
    old = client_for(site2, version=version, hardware_id="device-1")
    new = client_for(site2, version=version, hardware_id="device-2")
    old.count()
    assert new.get("queued_records/count").json()["error"].startswith(MISMATCH)

    site_reset_hardware(site_id=2)

    assert new.count() == 0
    push = new.push([location("L1", sync_id="s1")])
    assert push["applied"] == 1
    assert old.get("queued_records/count").json()["error"].startswith(MISMATCH)


def test_repeated_failures_are_throttled_with_429_even_for_the_right_password(settings, site2, version):
    settings.SYNC_AUTH_MAX_FAILURES = 3
    for _ in range(3):
        assert_refused_401(count_with(basic_auth("site2", "wrong"), version=version))

    for password in ("wrong", "pass"):
        response = count_with(basic_auth("site2", password), version=version)
        json_error(response, 429)
        assert int(response["Retry-After"]) > 0


def test_failures_below_the_limit_do_not_lock_out_the_right_password(settings, site2, version):
    settings.SYNC_AUTH_MAX_FAILURES = 3
    for _ in range(2):
        assert_refused_401(count_with(basic_auth("site2", "wrong"), version=version))

    response = count_with(basic_auth("site2", "pass"), version=version)

    assert response.status_code == 200
    assert orjson.loads(response.content) == {"NumRecords": 0}


def test_a_cached_credential_stops_working_as_soon_as_the_password_changes(site2, version):
    assert count_with(basic_auth("site2", "pass"), version=version).status_code == 200
    assert count_with(basic_auth("site2", "pass"), version=version).status_code == 200

    site_set_password(site=Site.objects.get(pk=2), password="new secret")

    assert_refused_401(count_with(basic_auth("site2", "pass"), version=version))
    assert count_with(basic_auth("site2", "new secret"), version=version).status_code == 200
