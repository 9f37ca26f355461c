"""The v1 behaviour suite, through HTTP: every endpoint, every refusal, and the legacy auth options.

v1 shares the endpoints and the queue with v2/v3 and differs only in its record format (table and field
numbers) and in two opt-in authentication options for old installations.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from django.test import Client

from apps.queue.models import QuarantinedRecord, SyncLog
from apps.queue.services import primary_changes_apply
from apps.records.canonical import wire_record
from apps.records.changes import Change
from apps.records.registry import get_registry
from apps.records.transfers import counterpart_id
from apps.sites.models import Site
from tests.support import SyncClient, client_for, make_site, record, sha256_hex

pytestmark = pytest.mark.django_db

REGISTRY = get_registry()


def v1_record(
    table: str,
    record_id: str,
    data: dict[str, str] | None,
    *,
    sync_id: str,
    store_id: str = "",
    sync_type: str = "U",
) -> dict[str, Any]:
    spec = REGISTRY.types[table]
    item: dict[str, Any] = {
        "SyncID": sync_id,
        "TableNumber": spec.table_number,
        "RecordID": record_id,
        "KeyFieldID": spec.fields[spec.key_field],
        "SyncType": sync_type,
        "StoreID": store_id,
    }
    if data is not None:
        item["fields"] = [spec.fields[name] for name in data]
        item["values"] = list(data.values())
    return item


def by_name(envelope: dict[str, Any]) -> dict[str, str]:
    """A pulled v1 record's fields and values, mapped back to names through the registry."""
    spec = REGISTRY.by_number[envelope["TableNumber"]]
    return {spec.field_names[n]: v for n, v in zip(envelope["fields"], envelope["values"], strict=True)}


def units(*ids: str) -> None:
    """Central records, as an operator would make them on the primary."""
    primary_changes_apply(
        changes=[
            Change(record_type="unit", record_id=i, action="upsert", data={"ID": i, "units": f"u-{i}"})
            for i in ids
        ]
    )


@pytest.fixture
def site3() -> Site:
    return make_site(3)


@pytest.fixture
def legacy(site2: Site) -> SyncClient:
    return client_for(site2, version="v1")


# Queue: count, pull, acknowledge ------------------------------------------------------------------------


def test_a_v1_site_counts_pulls_and_acknowledges_its_queue_by_numbers(legacy: SyncClient) -> None:
    units("U1", "U2", "U3")
    assert legacy.count() == 3
    first_two = legacy.pull(limit=2)
    unit = REGISTRY.types["unit"]
    whole_u1 = wire_record("unit", {"ID": "U1", "units": "u-U1"})
    assert [r["RecordID"] for r in first_two] == ["U1", "U2"]
    assert first_two[0] == {
        "SyncID": first_two[0]["SyncID"],
        "TableNumber": unit.table_number,
        "RecordID": "U1",
        "KeyFieldID": unit.fields["ID"],
        "SyncType": "I",
        "StoreID": "",
        # The whole record, in field-number order: the empty value of its type for a field never set.
        "fields": sorted(unit.fields.values()),
        "values": [whole_u1[unit.field_names[n]] for n in sorted(unit.fields.values())],
    }
    # Peek: the records stay queued until they are acknowledged.
    assert legacy.count() == 3
    legacy.ack([first_two[0]["SyncID"]])
    response = legacy.post("acknowledged_records/", [first_two[1]["SyncID"]])
    assert (response.status_code, response.json()) == (200, {"error": ""})
    assert [r["RecordID"] for r in legacy.pull()] == ["U3"]
    response = legacy.post("acknowledged_records", {"syncIDs": [legacy.pull()[0]["SyncID"], "nonsense"]})
    assert response.json() == {"error": ""}
    assert legacy.count() == 0
    assert legacy.pull() == []


def test_a_v1_pull_without_limit_sends_one_record(legacy: SyncClient) -> None:
    units("U1", "U2")
    response = legacy.get("queued_records")
    assert response.status_code == 200
    assert [r["RecordID"] for r in response.json()] == ["U1"]


def test_a_v1_pull_by_sync_id_sends_that_record_or_nothing(legacy: SyncClient) -> None:
    units("U1", "U2")
    second = legacy.pull(limit=2)[1]
    assert legacy.get("queued_records", sync_id=second["SyncID"]).json() == [second]
    assert legacy.get("queued_records", sync_id="999999").json() == []
    assert legacy.get("queued_records", sync_id="abc").json() == []


def test_v1_answers_with_and_without_the_trailing_slash(legacy: SyncClient) -> None:
    units("U1")
    assert legacy.get("queued_records/count/").json() == {"NumRecords": 1}
    assert len(legacy.get("queued_records/", limit=5).json()) == 1
    response = legacy.post("queued_records/", [])
    assert (response.status_code, response.json()["applied"]) == (200, 0)


def test_a_deletion_and_a_merge_are_pulled_without_fields(legacy: SyncClient) -> None:
    units("U1", "U2", "U3")
    legacy.drain()
    primary_changes_apply(
        changes=[
            Change(record_type="unit", record_id="U1", action="delete"),
            Change(record_type="unit", record_id="U2", action="merge", merge_keep_id="U3"),
        ]
    )
    deleted, merged = legacy.pull(limit=10)
    assert (deleted["SyncType"], deleted["RecordID"]) == ("D", "U1")
    assert "fields" not in deleted and "values" not in deleted
    assert merged["SyncType"] == "M"
    assert (merged["mergeIDtokeep"], merged["mergeIDtodelete"]) == ("U3", "U2")
    assert "fields" not in merged


# Push ---------------------------------------------------------------------------------------------------


def test_a_v1_push_is_applied_and_its_transfer_reaches_the_other_party_in_its_format(
    site2: Site, site3: Site
) -> None:
    pusher = client_for(site2, version="v1")
    invoice = {"ID": "T1", "store_ID": "STORE2", "name_ID": "NAME_STORE3", "type": "ci", "status": "fn"}
    body = pusher.push(
        [v1_record("transact", "T1", {**invoice, "comment": "for 3"}, sync_id="p1", store_id="STORE2")]
    )
    assert {k: body[k] for k in ("error", "received", "applied", "duplicates", "quarantined")} == {
        "error": "",
        "received": 1,
        "applied": 1,
        "duplicates": 0,
        "quarantined": 0,
    }
    [pulled_v1] = client_for(site3, version="v1").pull()
    assert pulled_v1["TableNumber"] == REGISTRY.types["transact"].table_number
    supplier_invoice = counterpart_id("si", "T1", "STORE3")
    assert (pulled_v1["RecordID"], pulled_v1["StoreID"]) == (supplier_invoice, "STORE3")
    fields = by_name(pulled_v1)
    assert (fields["type"], fields["linked_transaction_id"], fields["comment"]) == ("si", "T1", "for 3")
    # No echo: the pusher does not get its own change back.
    assert pusher.count() == 0


def test_a_v1_push_of_the_same_sync_id_twice_is_applied_once(legacy: SyncClient) -> None:
    location = v1_record("Location", "L1", {"ID": "L1", "store_ID": "STORE2"}, sync_id="p1")
    assert legacy.push([location])["applied"] == 1
    again = legacy.push([location, v1_record("Location", "L2", {"store_ID": "STORE2"}, sync_id="p2")])
    assert (again["applied"], again["duplicates"]) == (1, 1)


def test_a_single_v1_object_is_accepted_as_a_batch_of_one(legacy: SyncClient) -> None:
    body = legacy.push(v1_record("Location", "L1", {"store_ID": "STORE2"}, sync_id="p1"))  # type: ignore[arg-type]
    assert (body["received"], body["applied"]) == (1, 1)


def test_bad_v1_records_are_quarantined_by_number_and_the_rest_of_the_batch_applied(
    site2: Site, site3: Site
) -> None:
    location = REGISTRY.types["Location"]
    key = location.fields["ID"]
    store = location.fields["store_ID"]
    good = v1_record("Location", "L1", {"ID": "L1", "store_ID": "STORE2"}, sync_id="good")
    unknown_table = {**good, "SyncID": "table", "TableNumber": 4242}
    unknown_field = {**good, "SyncID": "field", "fields": [key, 7777], "values": ["L1", "x"]}
    uneven = {**good, "SyncID": "uneven", "fields": [key, store], "values": ["L1"]}
    no_key = {**good, "SyncID": "nokey", "RecordID": ""}
    wrong_key = {**good, "SyncID": "wrongkey", "KeyFieldID": store}
    disagreeing = {**good, "SyncID": "disagree", "RecordID": "L9"}
    not_ours = v1_record("Location", "L3", {"ID": "L3", "store_ID": "STORE3"}, sync_id="foreign")
    batch = [unknown_table, good, unknown_field, uneven, no_key, wrong_key, disagreeing, not_ours]

    body = client_for(site2, version="v1").push(batch)

    assert (body["received"], body["applied"], body["quarantined"]) == (8, 1, 7)
    reasons = {r["SyncID"]: r["reason"] for r in body["quarantinedRecords"]}
    assert "4242" in reasons["table"]
    assert "7777" in reasons["field"] and str(location.table_number) in reasons["field"]
    assert "'fields' has 2 entries but 'values' has 1" in reasons["uneven"]
    assert f"field {key}" in reasons["nokey"]
    assert f"KeyFieldID {store} is not the key" in reasons["wrongkey"]
    assert "RecordID 'L9' does not agree" in reasons["disagree"]
    assert "STORE3 is not active on this site" in reasons["foreign"]
    # Each is kept exactly as sent, marked v1, for an operator to fix and replay.
    kept = {q.sync_id: q for q in QuarantinedRecord.objects.filter(site=site2)}
    assert set(kept) == set(reasons)
    assert all(q.api_version == "v1" for q in kept.values())
    assert orjson.loads(kept["field"].raw) == unknown_field
    assert kept["field"].record_type == "Location"
    # The good record went through: site 2's re-install sees it (and only it, with the stores).
    reinstall = client_for(site2, version="v1")
    assert reinstall.initial_dump(full=True)["NumRecords"] == 3
    assert [r["RecordID"] for r in reinstall.pull(10)] == ["STORE2", "STORE3", "L1"]


def test_a_v1_push_that_is_not_an_array_of_objects_is_refused_whole(legacy: SyncClient) -> None:
    good = v1_record("Location", "L1", {"store_ID": "STORE2"}, sync_id="p1")
    for body in (b"not json", b'"text"', orjson.dumps([good, 7]), b""):
        response = legacy.post("queued_records", body)
        assert response.status_code == 400, body
        assert response.json()["error"]
    assert legacy.initial_dump(full=True)["NumRecords"] == 1  # only its store's record


def test_a_v1_delete_removes_the_record_from_what_is_dumped(legacy: SyncClient) -> None:
    legacy.push([v1_record("Location", "L1", {"store_ID": "STORE2"}, sync_id="p1")])
    assert legacy.initial_dump(full=True)["NumRecords"] == 2  # the location and its store's record
    body = legacy.push([v1_record("Location", "L1", None, sync_id="p2", sync_type="D")])
    assert body["applied"] == 1
    assert legacy.initial_dump(full=True)["NumRecords"] == 1


# Initial dump -------------------------------------------------------------------------------------------


def test_a_v1_initial_dump_rebuilds_the_queue_in_v1_form(legacy: SyncClient) -> None:
    units("U1", "U2")
    legacy.push([v1_record("Location", "L1", {"store_ID": "STORE2"}, sync_id="p1")])
    legacy.drain()
    assert legacy.initial_dump(full=True) == {"error": "", "type": "full", "NumRecords": 4}
    dumped = legacy.drain()
    # Central lookups before store data (dump order); every record in its numbered form.
    assert [(r["TableNumber"], r["RecordID"]) for r in dumped] == [
        (REGISTRY.types["unit"].table_number, "U1"),
        (REGISTRY.types["unit"].table_number, "U2"),
        (REGISTRY.types["store"].table_number, "STORE2"),
        (REGISTRY.types["Location"].table_number, "L1"),
    ]
    assert by_name(dumped[3]) == wire_record("Location", {"ID": "L1", "store_ID": "STORE2"})
    assert legacy.initial_dump() == {"error": "", "type": "mobile", "NumRecords": 4}
    response = legacy.get("initial_dump", type="partial")
    assert response.json() == {"error": "", "type": "mobile", "NumRecords": 4}


# Parameters ---------------------------------------------------------------------------------------------


def test_v1_refuses_another_sites_queue_and_missing_parameters(legacy: SyncClient) -> None:
    headers = legacy.headers()
    assert legacy.client is not None
    cases = {
        "/sync/v1/queued_records/count?from_site=3&to_site=1": 403,
        "/sync/v1/queued_records/count?from_site=2&to_site=2": 403,
        "/sync/v1/queued_records/count?to_site=1": 400,
        "/sync/v1/queued_records/count?from_site=two&to_site=1": 400,
        "/sync/v9/queued_records/count?from_site=2&to_site=1": 404,
    }
    for url, status in cases.items():
        response = legacy.client.get(url, **headers)
        assert response.status_code == status, url
        assert response.json()["error"], url


# Schema -------------------------------------------------------------------------------------------------


def test_the_schema_publishes_every_table_with_its_numbers_without_credentials() -> None:
    response = Client().get("/sync/v1/schema")
    assert response.status_code == 200
    document = response.json()
    assert document["error"] == ""
    tables = {t["TableNumber"]: t for t in document["tables"]}
    assert set(tables) == set(REGISTRY.by_number)
    assert [t["TableNumber"] for t in document["tables"]] == sorted(tables)
    for number, spec in REGISTRY.by_number.items():
        table = tables[number]
        assert (table["name"], table["key_field"], table["scope"]) == (spec.name, spec.key_field, spec.scope)
        assert table["KeyFieldID"] == spec.fields[spec.key_field]
        assert {f["name"]: f["number"] for f in table["fields"]} == spec.fields
        assert [f["number"] for f in table["fields"]] == sorted(spec.fields.values())
    assert Client().get("/sync/v1/schema/").json() == document


def test_the_schema_is_a_v1_endpoint_only() -> None:
    assert Client().get("/sync/v3/schema").status_code == 404


def test_the_status_lists_v1_among_the_served_versions() -> None:
    assert "v1" in Client().get("/sync/status").json()["api_versions"]


def test_v1_calls_are_logged_as_v1(legacy: SyncClient, site2: Site) -> None:
    legacy.count()
    assert list(SyncLog.objects.filter(site=site2).values_list("call", "api_version")) == [("count", "v1")]


# Authentication -----------------------------------------------------------------------------------------


def plain_client(
    site: Site, secret: str, *, version: str = "v1", name: str | None = None, hardware_id: str = "device-1"
) -> SyncClient:
    """A client whose Basic credentials carry `secret` as is (not hashed), as old installations do."""
    client = client_for(site, version=version)
    token = base64.b64encode(f"{name or site.name}:{secret}".encode()).decode()
    headers = {"HTTP_AUTHORIZATION": f"Basic {token}", "HTTP_MSUPPLY_SITE_UUID": hardware_id}
    client.headers = lambda: headers  # type: ignore[method-assign]
    return client


def test_v1_needs_the_sha256_credentials_like_every_version(site2: Site) -> None:
    response = client_for(site2, password="wrong", version="v1").get("queued_records/count")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="sync"'
    assert response.json()["error"]


def test_the_plain_password_is_refused_unless_the_operator_allows_it(site2: Site) -> None:
    response = plain_client(site2, "pass").get("queued_records/count")
    assert response.status_code == 401


def test_the_plain_password_is_accepted_on_v1_only_when_allowed(site2: Site, settings: Any) -> None:
    settings.SYNC_V1_ALLOW_PLAIN_PASSWORD = True
    assert plain_client(site2, "pass").get("queued_records/count").json() == {"NumRecords": 0}
    assert client_for(site2, version="v1").count() == 0  # the SHA-256 still works
    assert plain_client(site2, "wrong").get("queued_records/count").status_code == 401
    assert plain_client(site2, "pass", version="v3").get("queued_records/count").status_code == 401


@pytest.fixture
def shared(settings: Any) -> str:
    settings.SYNC_V1_SHARED_USER = "legacy-sync"
    settings.SYNC_V1_SHARED_PASSWORD_SHA256 = sha256_hex("shared-secret")
    return "legacy-sync"


def test_the_shared_credential_is_refused_while_it_is_not_configured(site2: Site) -> None:
    response = plain_client(site2, sha256_hex("shared-secret"), name="legacy-sync").get(
        "queued_records/count"
    )
    assert response.status_code == 401


def test_the_shared_credential_opens_the_queue_of_the_site_named_by_from_site(
    site2: Site, site3: Site, shared: str
) -> None:
    units("U1")
    client_for(site3).drain()  # site 3 has acknowledged; site 2 has not
    as_site3 = plain_client(site3, sha256_hex("shared-secret"), name=shared)
    assert as_site3.count() == 0
    as_site2 = plain_client(site2, sha256_hex("shared-secret"), name=shared)
    assert [r["RecordID"] for r in as_site2.pull()] == ["U1"]
    pushed = as_site2.push([v1_record("Location", "L1", {"store_ID": "STORE2"}, sync_id="p1")])
    assert pushed["applied"] == 1


def test_the_shared_credential_is_refused_with_a_wrong_password_another_version_or_no_site(
    site2: Site, shared: str
) -> None:
    good = sha256_hex("shared-secret")
    assert plain_client(site2, sha256_hex("nope"), name=shared).get("queued_records/count").status_code == 401
    assert plain_client(site2, "shared-secret", name=shared).get("queued_records/count").status_code == 401
    assert plain_client(site2, good, name=shared, version="v3").get("queued_records/count").status_code == 401
    client = plain_client(site2, good, name=shared)
    assert client.client is not None
    for query in ("to_site=1", "from_site=1&to_site=1", "from_site=77&to_site=1", "from_site=x&to_site=1"):
        response = client.client.get(f"/sync/v1/queued_records/count?{query}", **client.headers())
        assert response.status_code == 401, query
        assert "from_site" in response.json()["error"]


def test_the_shared_credential_takes_the_plain_password_only_when_that_is_allowed(
    site2: Site, shared: str, settings: Any
) -> None:
    settings.SYNC_V1_ALLOW_PLAIN_PASSWORD = True
    assert plain_client(site2, "shared-secret", name=shared).count() == 0


def test_the_shared_credential_still_respects_the_sites_hardware_binding(site2: Site, shared: str) -> None:
    plain_client(site2, sha256_hex("shared-secret"), name=shared).count()  # binds site 2 to device-1
    intruder = plain_client(site2, sha256_hex("shared-secret"), name=shared, hardware_id="device-2")
    response = intruder.get("queued_records/count")
    assert response.status_code == 200
    assert "Site registration doesn't match" in response.json()["error"]


def test_a_record_pushed_in_v3_is_pulled_in_v1_with_the_same_fields(site2: Site, site3: Site) -> None:
    # A patient a satellite created: central data, so site 3 receives it as it was pushed.
    patient = {"ID": "N2", "name": "Ana", "type": "patient", "margin": 12.5, "female": False}
    client_for(site2).push([record("name", "N2", patient, sync_id="p1")])
    [pulled] = client_for(site3, version="v1").pull()
    given = {"ID": "N2", "name": "Ana", "type": "patient", "margin": "12.5", "female": "false"}
    assert {name: value for name, value in by_name(pulled).items() if name in given} == given
    assert by_name(pulled) == wire_record("name", patient)
