"""The v2/v3 endpoints over HTTP (docs/protocol.md, "Endpoints"): routes, parameters, refusals, shapes."""

from __future__ import annotations

from urllib.parse import quote

import orjson
import pytest
from django.conf import settings as django_settings
from django.test import Client

from apps.records.models import Record
from apps.sites.models import Site
from apps.sites.services import store_create
from tests.support import (
    SyncClient,
    basic_auth,
    client_for,
    json_error,
    make_site,
    make_user,
    primary_upsert,
    record,
)

pytestmark = pytest.mark.django_db

# SyncIDs a client may send that are not queue numbers at all; the server must not fail on them.
ODD_SYNC_IDS = [
    pytest.param("²", id="superscript-digit"),
    pytest.param("99999999999999999999999", id="beyond-64-bits"),
]

SITE_KEYS = {
    "ServerID",
    "ServerVersion",
    "SiteID",
    "StoreID",
    "NameID",
    "SupplyingStoreID",
    "SupplyingStoreNameID",
}


def is_json(response) -> bool:
    return response["Content-Type"].startswith("application/json")


def units(*ids: str) -> None:
    for unit_id in ids:
        primary_upsert("unit", unit_id, {"ID": unit_id, "units": f"unit {unit_id}"})


def location(record_id: str, *, sync_id: str) -> dict:
    return record(
        "Location", record_id, {"ID": record_id, "store_ID": "STORE2"}, sync_id=sync_id, store_id="STORE2"
    )


# Routes -----------------------------------------------------------------------------------------------
CALLS = [
    ("get", "queued_records/count", None),
    ("get", "queued_records", None),
    ("post", "queued_records", []),
    ("post", "acknowledged_records", {"SyncRecordIDs": []}),
    ("get", "initial_dump", None),
    ("get", "site", None),
]


@pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
@pytest.mark.parametrize(("method", "path", "body"), CALLS, ids=[f"{m}-{p}" for m, p, _ in CALLS])
def test_every_sync_path_answers_json_with_and_without_a_trailing_slash(sat, method, path, body, slash):
    url = sat.url(path + slash)
    if method == "get":
        response = sat.client.get(url, **sat.headers())
    else:
        response = sat.client.post(url, orjson.dumps(body), content_type="application/json", **sat.headers())

    assert response.status_code == 200, response.content
    assert is_json(response)
    document = orjson.loads(response.content)
    if isinstance(document, dict) and "error" in document:
        assert document["error"] == ""


@pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
def test_the_user_path_answers_with_and_without_a_trailing_slash(site2, version, slash):
    make_user("alice", password="secret", stores=["STORE2"])

    response = Client().get(
        f"/sync/{version}/user{slash}?store=STORE2", HTTP_AUTHORIZATION=basic_auth("alice", "secret")
    )

    assert response.status_code == 200, response.content
    assert is_json(response)


@pytest.mark.parametrize("path", ["/health", "/health/", "/sync/status", "/sync/status/"])
def test_health_and_status_answer_json_without_auth_and_without_secrets(path):
    response = Client().get(path)

    assert response.status_code == 200
    assert is_json(response)
    body = orjson.loads(response.content)
    assert isinstance(body, dict) and body
    text = response.content.decode()
    assert django_settings.SECRET_KEY not in text
    password = django_settings.DATABASES["default"].get("PASSWORD")
    if password:
        assert password not in text
    assert "password" not in text.lower()


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    "path", ["/sync/v3/no_such_call", "/sync/v2/no_such_call/", "/sync/v9/site", "/no/such/thing"]
)
def test_an_unknown_route_is_404_json_and_never_a_redirect(method, path):
    response = getattr(Client(), method)(path)

    assert response.status_code not in (301, 302)
    json_error(response, 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "queued_records/count"),
        ("get", "acknowledged_records"),
        ("delete", "queued_records"),
        ("put", "site"),
        ("patch", "initial_dump"),
    ],
)
def test_a_wrong_method_is_405_json(sat, method, path):
    response = getattr(sat.client, method)(sat.url(path), **sat.headers())

    json_error(response, 405)


@pytest.mark.parametrize("path", ["queued_records", "acknowledged_records", "queued_records/"])
def test_a_post_is_never_answered_with_a_redirect(sat, path):
    response = sat.post(path, [])

    assert response.status_code == 200, response.content
    assert is_json(response)


# site -------------------------------------------------------------------------------------------------
def test_site_returns_exactly_the_site_keys_with_the_supplying_store(version):
    hub = make_site(3, stores=[])
    store_create(store_id="HUB", name="Hub", site_id=hub.pk, name_id="NAME_HUB")
    site = make_site(2, stores=[])
    store_create(store_id="STORE2", name="Clinic", site_id=2, name_id="NAME2", supplying_store_id="HUB")

    response = client_for(site, version=version).get("site")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == SITE_KEYS
    assert isinstance(body["ServerVersion"], int) and not isinstance(body["ServerVersion"], bool)
    assert {k: v for k, v in body.items() if k != "ServerVersion"} == {
        "ServerID": 1,
        "SiteID": 2,
        "StoreID": "STORE2",
        "NameID": "NAME2",
        "SupplyingStoreID": "HUB",
        "SupplyingStoreNameID": "NAME_HUB",
    }


def test_site_accepts_the_matching_site_name(sat):
    response = sat.client.get(f"/sync/{sat.version}/site?site_name=site2", **sat.headers())

    assert response.status_code == 200
    assert response.json()["SiteID"] == 2


def test_site_refuses_a_site_name_that_is_not_the_credentials_with_403(sat):
    make_site(3)

    response = sat.client.get(f"/sync/{sat.version}/site?site_name=site3", **sat.headers())

    json_error(response, 403)


# user -------------------------------------------------------------------------------------------------
def test_user_with_the_users_own_credentials_returns_its_id_and_admin_flag(site2, version):
    user = make_user("alice", password="secret", stores=["STORE2"], admin=True)

    response = Client().get(
        f"/sync/{version}/user?store=STORE2", HTTP_AUTHORIZATION=basic_auth("alice", "secret")
    )

    assert response.status_code == 200
    body = response.json()
    assert {"UserID", "isAdmin"} <= set(body) <= {"UserID", "isAdmin", "error"}
    assert body["UserID"] == user.pk
    assert body["isAdmin"] is True
    assert body.get("error", "") == ""


def test_user_refuses_a_store_the_user_may_not_use_with_403(site2, version):
    make_site(3)
    make_user("alice", password="secret", stores=["STORE2"])

    response = Client().get(
        f"/sync/{version}/user?store=STORE3", HTTP_AUTHORIZATION=basic_auth("alice", "secret")
    )

    json_error(response, 403)


def test_user_refuses_a_wrong_password_with_401(site2, version):
    make_user("alice", password="secret", stores=["STORE2"])

    response = Client().get(
        f"/sync/{version}/user?store=STORE2", HTTP_AUTHORIZATION=basic_auth("alice", "wrong")
    )

    json_error(response, 401)
    assert response["WWW-Authenticate"] == 'Basic realm="sync"'


# from_site / to_site ----------------------------------------------------------------------------------
SITE_PARAM_CALLS = [
    ("get", "queued_records/count"),
    ("get", "queued_records"),
    ("post", "queued_records"),
    ("post", "acknowledged_records"),
    ("get", "initial_dump"),
]


def call(sat: SyncClient, method: str, path: str, query: str):
    url = f"/sync/{sat.version}/{path}?{query}"
    if method == "get":
        return sat.client.get(url, **sat.headers())
    return sat.client.post(url, b"[]", content_type="application/json", **sat.headers())


@pytest.mark.parametrize(("method", "path"), SITE_PARAM_CALLS)
def test_another_sites_from_site_is_refused_with_403(sat, method, path):
    make_site(3)
    units("U1")

    json_error(call(sat, method, path, "from_site=3&to_site=1"), 403)
    assert client_for(Site.objects.get(pk=3), version=sat.version).count() == 1


@pytest.mark.parametrize(("method", "path"), SITE_PARAM_CALLS)
def test_a_to_site_other_than_the_primary_is_refused_with_403(sat, method, path):
    json_error(call(sat, method, path, "from_site=2&to_site=3"), 403)


@pytest.mark.parametrize(("method", "path"), SITE_PARAM_CALLS)
@pytest.mark.parametrize("query", ["to_site=1", "from_site=two&to_site=1", "from_site=&to_site=1"])
def test_a_missing_or_non_numeric_from_site_is_refused_with_400(sat, method, path, query):
    json_error(call(sat, method, path, query), 400)


# limit and sync_id ------------------------------------------------------------------------------------
def test_a_pull_without_limit_returns_one_record(sat):
    units("U1", "U2", "U3")

    response = sat.client.get(sat.url("queued_records"), **sat.headers())

    assert response.status_code == 200
    assert [r["RecordID"] for r in response.json()] == ["U1"]


def test_a_limit_above_the_cap_is_capped(settings, sat):
    settings.SYNC_PULL_CAP = 2
    units("U1", "U2", "U3")

    assert [r["RecordID"] for r in sat.pull(limit=100)] == ["U1", "U2"]
    assert sat.count() == 3


@pytest.mark.parametrize("limit", ["0", "-1", "ten"])
def test_a_limit_below_one_or_not_a_number_is_refused_with_400(sat, limit):
    json_error(sat.get("queued_records", limit=limit), 400)


def test_a_pull_by_sync_id_returns_that_one_record(sat):
    units("U1", "U2", "U3")
    second = sat.pull(limit=3)[1]

    response = sat.get("queued_records", sync_id=second["SyncID"])

    assert response.status_code == 200
    assert response.json() == [second]


@pytest.mark.parametrize("sync_id", ["999999999", "not-a-sync-id"])
def test_a_pull_by_an_unknown_sync_id_returns_an_empty_array(sat, sync_id):
    units("U1")

    response = sat.get("queued_records", sync_id=sync_id)

    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize("sync_id", ODD_SYNC_IDS)
def test_a_pull_by_a_sync_id_that_is_no_queue_number_returns_an_empty_array(sat, sync_id):
    units("U1")
    tolerant = client_for(
        Site.objects.get(pk=2), version=sat.version, client=Client(raise_request_exception=False)
    )

    response = tolerant.client.get(
        f"/sync/{sat.version}/queued_records?from_site=2&to_site=1&sync_id={quote(sync_id)}", **sat.headers()
    )

    assert response.status_code == 200, response.content
    assert response.json() == []


def test_a_pull_by_another_sites_sync_id_returns_an_empty_array(sat):
    other = client_for(make_site(3), version=sat.version)
    units("U1")
    foreign = other.pull()[0]["SyncID"]
    assert foreign not in {r["SyncID"] for r in sat.pull()}

    response = sat.get("queued_records", sync_id=foreign)

    assert response.status_code == 200
    assert response.json() == []


def test_an_acknowledged_sync_id_is_no_longer_found(sat):
    units("U1")
    sync_id = sat.pull()[0]["SyncID"]
    sat.ack([sync_id])

    assert sat.get("queued_records", sync_id=sync_id).json() == []


# body size --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["queued_records", "acknowledged_records"])
def test_a_body_above_the_limit_is_refused_with_413_json_and_nothing_applied(settings, sat, path):
    settings.SYNC_MAX_BODY_BYTES = 300
    body = [location(f"L{i}", sync_id=f"s{i}") for i in range(10)]
    assert len(orjson.dumps(body)) > 300

    json_error(sat.post(path, body), 413)
    assert not Record.objects.filter(record_type="Location").exists()


def test_a_body_within_the_limit_is_accepted(settings, sat):
    settings.SYNC_MAX_BODY_BYTES = 300
    body = [location("L1", sync_id="s1")]
    assert len(orjson.dumps(body)) < 300

    assert sat.push(body)["applied"] == 1


# acknowledged_records ---------------------------------------------------------------------------------
def test_acknowledging_with_a_bare_array_removes_the_records(sat):
    units("U1", "U2")
    first = sat.pull()[0]["SyncID"]

    response = sat.post("acknowledged_records", [first])

    assert response.status_code == 200
    assert response.json() == {"error": ""}
    assert [r["RecordID"] for r in sat.pull(10)] == ["U2"]


@pytest.mark.parametrize("key", ["SyncRecordIDs", "syncIDs"])
def test_acknowledging_with_a_wrapped_list_removes_the_records(sat, key):
    units("U1", "U2")
    first = sat.pull()[0]["SyncID"]

    response = sat.post("acknowledged_records", {key: [first]})

    assert response.json() == {"error": ""}
    assert [r["RecordID"] for r in sat.pull(10)] == ["U2"]


@pytest.mark.parametrize(
    "body",
    [[], {"SyncRecordIDs": []}, {"syncIDs": []}, ["123456789", "not-a-sync-id"]],
    ids=["bare-empty", "mobile-empty", "syncIDs-empty", "unknown-ids"],
)
def test_empty_and_unknown_acknowledgements_are_fine_and_remove_nothing(sat, body):
    units("U1")

    response = sat.post("acknowledged_records", body)

    assert response.status_code == 200
    assert response.json() == {"error": ""}
    assert sat.count() == 1


def test_acknowledging_twice_is_fine(sat):
    units("U1", "U2")
    first = sat.pull()[0]["SyncID"]
    sat.ack([first])

    response = sat.post("acknowledged_records", {"SyncRecordIDs": [first]})

    assert response.json() == {"error": ""}
    assert sat.count() == 1


def test_acknowledging_another_sites_sync_id_removes_nothing_from_its_queue(sat):
    other = client_for(make_site(3), version=sat.version)
    units("U1")
    foreign = other.pull()[0]["SyncID"]

    assert sat.post("acknowledged_records", [foreign]).json() == {"error": ""}
    assert other.count() == 1
    assert sat.count() == 1


@pytest.mark.parametrize("sync_id", ODD_SYNC_IDS)
def test_acknowledging_a_sync_id_that_is_no_queue_number_is_fine(sat, sync_id):
    units("U1")
    tolerant = client_for(
        Site.objects.get(pk=2), version=sat.version, client=Client(raise_request_exception=False)
    )

    response = tolerant.post("acknowledged_records", {"SyncRecordIDs": [sync_id]})

    assert response.status_code == 200, response.content
    assert response.json() == {"error": ""}
    assert sat.count() == 1


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"other": ["1"]}', b'[{"SyncID": "1"}]', b'"1"', b'{"SyncRecordIDs": "1"}'],
    ids=["invalid-json", "unknown-key", "objects", "string", "wrapped-string"],
)
def test_a_malformed_acknowledgement_is_refused_with_400(sat, body):
    units("U1")

    json_error(sat.post("acknowledged_records", body), 400)
    assert sat.count() == 1


# initial_dump -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("full", [False, True], ids=["mobile", "full"])
def test_initial_dump_reports_the_number_of_records_then_queued(sat, full):
    units("U1", "U2")
    primary_upsert("Location", "L1", {"ID": "L1", "store_ID": "STORE2"})
    primary_upsert("Location", "L3", {"ID": "L3", "store_ID": "STORE3"})
    sat.drain()

    body = sat.initial_dump(full=full)

    # The two units, the site's own location, and the central record of its store.
    assert body == {"error": "", "type": "full" if full else "mobile", "NumRecords": 4}
    assert sat.count() == 4
