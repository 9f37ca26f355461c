"""Fuzzing every endpoint through HTTP: no request is answered 500, and a refused request (4xx) changes
nothing in the database (row counts and a checksum of every data table compared before and after).

Failed-login counts and the sync log are left out of the comparison: counting a refusal is their job.
So are a site's hardware binding and last-seen time: valid credentials bind the device on first use
(docs/protocol.md, "Sites and authentication") whatever the rest of the request.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.queue.models import PushedSyncId, QuarantinedRecord, QueueEntry
from apps.records.models import Record
from apps.records.registry import get_registry
from apps.sites.models import Site, Store, SyncUser
from tests.support import basic_auth, make_site, make_user, primary_upsert

pytestmark = pytest.mark.django_db

FUZZ = hypothesis_settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CALLS = [
    ("GET", "queued_records"),
    ("POST", "queued_records"),
    ("GET", "queued_records/count"),
    ("POST", "acknowledged_records"),
    ("GET", "initial_dump"),
    ("POST", "initial_dump"),
    ("GET", "site"),
    ("GET", "user"),
    ("GET", "schema"),
]
OTHER_PATHS = [("GET", "/sync/status"), ("GET", "/health"), ("POST", "/sync/status")]


def snapshot() -> dict[str, Any]:
    """Counts and a checksum of each data table."""
    tables = {
        "records": Record.objects.values_list(
            "record_type_id", "record_id", "store_id", "is_deleted", "data"
        ),
        "queue": QueueEntry.objects.values_list("site_id", "record_id", "id"),
        "pushed": PushedSyncId.objects.values_list("site_id", "sync_id"),
        "quarantine": QuarantinedRecord.objects.values_list("site_id", "sync_id", "raw", "status"),
        "sites": Site.objects.values_list("id", "name", "is_active", "password_hash"),
        "stores": Store.objects.values_list("id", "site_id"),
        "users": SyncUser.objects.values_list("id", "username", "password_hash"),
    }
    state = {}
    for name, rows in tables.items():
        ordered = sorted(map(repr, rows))
        state[name] = (len(ordered), hashlib.sha256("\n".join(ordered).encode()).hexdigest())
    return state


# Strategies -------------------------------------------------------------------------------------------
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", " ", "²", "١٢", "STORE2", "STORE3", "T1", "1", "0", "-1", "9" * 25, "a\x00b"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
record_types = st.sampled_from(["Location", "transact", "trans_line", "name", "unit", "item", "nope", ""])


@st.composite
def wire_records(draw: st.DrawFn) -> dict[str, Any]:
    """Something shaped like a pushed record (v1, v2 or v3), with any values in its fields."""
    registry = get_registry()
    record_type = draw(record_types)
    spec = registry.types.get(record_type)
    field_names = list(spec.fields) if spec else ["ID", "x"]
    item: dict[str, Any] = {}
    keys = ["SyncID", "RecordType", "RecordID", "SyncType", "StoreID", "Data", "data", "TableNumber"]
    keys += ["KeyFieldID", "fields", "values", "mergeIDtokeep", "mergeIDtodelete"]
    for key in draw(st.lists(st.sampled_from(keys), unique=True, max_size=len(keys))):
        if key == "RecordType":
            item[key] = record_type
        elif key == "SyncType":
            item[key] = draw(st.sampled_from(["I", "U", "D", "M", "X", "", 1]) | json_values)
        elif key in ("Data", "data"):
            names = st.sampled_from(field_names) | st.text(max_size=8)
            item[key] = draw(st.dictionaries(names, json_values, max_size=6) | json_values)
        elif key == "TableNumber":
            item[key] = draw(st.sampled_from([spec.table_number if spec else 9999, "37", "²", -1]) | scalars)
        elif key == "fields":
            item[key] = draw(st.lists(st.integers(-2, 200) | scalars, max_size=5) | json_values)
        elif key == "values":
            item[key] = draw(st.lists(json_values, max_size=5) | json_values)
        else:
            item[key] = draw(scalars)
    return item


bodies = st.one_of(
    st.none(),
    st.binary(max_size=200),
    json_values.map(orjson.dumps),
    st.lists(wire_records(), max_size=6).map(orjson.dumps),
    wire_records().map(orjson.dumps),
    st.lists(st.text(max_size=12) | st.integers(-(2**63), 2**63 - 1), max_size=6).map(
        lambda ids: orjson.dumps({"SyncRecordIDs": ids})
    ),
    st.integers(1, 400).map(lambda depth: b"[" * depth + b"]" * depth),
    st.sampled_from([b'[{"SyncID": 123456789012345678901234567890}]', b'{"SyncRecordIDs": [1e999]}']),
)
credentials = st.sampled_from(
    [
        basic_auth("site2", "pass"),
        basic_auth("site2", "wrong"),
        basic_auth("site3", "pass"),
        basic_auth("nurse", "pass"),
        basic_auth("nobody", "pass"),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic !!!",
        "Bearer x",
        "",
    ]
) | st.text(max_size=30)
query_values = st.one_of(
    st.sampled_from(["1", "2", "3", "0", "-1", "", "full", "nurse", "site2", "STORE2", "9" * 30, "²"]),
    st.text(max_size=12),
)
query_names = ["from_site", "to_site", "limit", "sync_id", "type", "username", "store", "site_name"]


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.integers(0, 9)) == 0:
        method, path = draw(st.sampled_from(OTHER_PATHS))
    else:
        method, call = draw(st.sampled_from(CALLS))
        version = draw(st.sampled_from(["v1", "v2", "v3", "v3", "v4"]))
        path = f"/sync/{version}/{call}" + draw(st.sampled_from(["", "/"]))
    query = {
        name: draw(query_values)
        for name in draw(st.lists(st.sampled_from(query_names), unique=True, max_size=len(query_names)))
    }
    if draw(st.booleans()):
        query.update(from_site="2", to_site="1")
    headers = {"HTTP_AUTHORIZATION": draw(credentials)}
    if draw(st.booleans()):
        headers["HTTP_MSUPPLY_SITE_UUID"] = draw(st.sampled_from(["device-2", "other", ""]))
    return {"method": method, "path": path, "query": query, "headers": headers, "body": draw(bodies)}


@pytest.fixture
def world() -> None:
    make_site(2)
    make_site(3)
    make_user("nurse", stores=["STORE2"])
    primary_upsert("unit", "U1", {"ID": "U1", "units": "tab"})
    primary_upsert("Location", "L3", {"ID": "L3", "store_ID": "STORE3"})


def send(request: dict[str, Any]):
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in request["query"].items())
    url = request["path"] + (f"?{query}" if query else "")
    client = Client(REMOTE_ADDR="192.0.2.1")
    if request["method"] == "GET":
        return client.get(url, **request["headers"])
    return client.post(url, request["body"] or b"", content_type="application/json", **request["headers"])


@FUZZ
@given(request=requests())
def test_no_request_is_a_500_and_a_refused_one_changes_nothing(world, settings, request):
    settings.SYNC_AUTH_MAX_FAILURES_PER_ADDRESS = 10**9  # keep fuzzing past the address lock
    before = snapshot()

    response = send(request)  # the test client raises on an unhandled exception

    assert response.status_code < 500, (response.status_code, response.content[:300])
    if 400 <= response.status_code < 500:
        assert snapshot() == before, (response.status_code, response.content[:300])
    if response.status_code != 204 and response.content:
        assert response["Content-Type"].startswith("application/json")


@FUZZ
@given(records=st.lists(wire_records(), min_size=1, max_size=8), version=st.sampled_from(["v1", "v2", "v3"]))
def test_any_push_of_record_shaped_items_is_answered_in_words(world, records, version):
    client = Client(REMOTE_ADDR="192.0.2.2")
    response = client.post(
        f"/sync/{version}/queued_records?from_site=2&to_site=1",
        orjson.dumps(records),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth("site2", "pass"),
    )

    assert response.status_code in (200, 400), response.content[:300]
    body = response.json()
    if response.status_code == 200:
        assert body["received"] == len(records)
        assert body["applied"] + body["duplicates"] + body["quarantined"] == len(records)
        assert all(q["reason"] for q in body["quarantinedRecords"])
    else:
        assert body["error"]
