"""Replays, against our primary, the exact HTTP requests the real mSupply Mobile app (v3) sends.

The trace (../shared/msupply-samples/mobile-v3-wire-trace.json) is read at run time, never copied: a fresh
initialise of site 4 ('site4' / 'pass'), a pull of three queued records (an item insert, an item_line
update, an item deletion), their acknowledgement, then a push of two Location changes. Each response must
have the shape the app parses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from django.test import Client

from apps.queue.services import site_changes_apply
from apps.records.changes import Change
from apps.records.models import Record
from apps.sites.models import Site
from apps.sites.services import site_create, store_create
from tests.support import SAMPLES, needs_samples, primary_delete, primary_upsert

pytestmark = [pytest.mark.django_db, needs_samples]

ENVELOPE_KEYS = {"SyncID", "RecordType", "RecordID", "SyncType", "StoreID"}


def load_trace() -> dict[str, Any]:
    return orjson.loads((SAMPLES / "mobile-v3-wire-trace.json").read_bytes())


@pytest.fixture
def primary() -> None:
    """Site 4 with store STORE4 (name NAME4), supplied by STORE1 (name NAME1) on site 2."""
    site_create(site_id=2, name="hub", password="hub password")
    store_create(store_id="STORE1", name="Hub", site_id=2, name_id="NAME1")
    site_create(site_id=4, name="site4", password="pass")
    store_create(store_id="STORE4", name="Clinic", site_id=4, name_id="NAME4", supplying_store_id="STORE1")
    # Before the initialise: a stock line of the store, and an item the store does not stock.
    primary_upsert("item", "OLD_ITEM", {"ID": "OLD_ITEM", "item_name": "Discontinued"})
    primary_upsert(
        "item_line", "LINE1", {"ID": "LINE1", "item_ID": "OLD_ITEM", "store_ID": "STORE4", "quantity": 10}
    )


def changes_on_the_primary_after_the_dump() -> None:
    """The scenario's three queued records: an item inserted, the store's stock line updated, an item
    deleted. Made right after the initial dump so the queue then holds exactly those three."""
    primary_upsert("item", "NEW_ITEM", {"ID": "NEW_ITEM", "item_name": "Paracetamol 500mg", "code": "PAR"})
    primary_upsert(
        "item_line", "LINE1", {"ID": "LINE1", "item_ID": "OLD_ITEM", "store_ID": "STORE4", "quantity": 7}
    )
    primary_delete("item", "OLD_ITEM")


def location_the_device_synced_earlier() -> None:
    """LOC0, which the trace's push deletes: created by the device itself earlier, so not queued back."""
    site_changes_apply(
        site=Site.objects.get(pk=4),
        changes=[
            Change(
                record_type="Location",
                record_id="LOC0",
                action="upsert",
                data={"ID": "LOC0", "code": "F0", "store_ID": "STORE4"},
                store_id="STORE4",
            )
        ],
    )


def send(client: Client, request: dict[str, Any], body: Any) -> Any:
    """The request exactly as the trace has it: method, path (with or without slash), query, headers."""
    headers = dict(request["headers"])
    content_type = headers.pop("Content-Type", "application/json")
    data = b"" if body is None else orjson.dumps(body)
    return client.generic(request["method"], request["url"], data, content_type=content_type, headers=headers)


def assert_json(response: Any) -> Any:
    assert response.status_code == 200, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")
    return orjson.loads(response.content)


def test_the_mobile_apps_initialise_pull_ack_and_push_work_against_the_primary(primary):
    trace = load_trace()
    mock = trace["mock_responses_used"]
    client = Client()
    pulled: list[dict[str, Any]] = []
    pull_request: dict[str, Any] = {}
    counts: list[int] = []
    after: dict[str, Callable[[], None]] = {}

    for step, request in enumerate(trace["requests"]):
        path = request["url"].split("?")[0]
        call = request["method"] + " " + path.removeprefix("/sync/v3/").rstrip("/")
        body = request["body"]
        if call == "POST acknowledged_records":
            # The trace acknowledges the SyncIDs its mock server handed out ("S1", "S2", "S3"); ours
            # differ (and our dump also carries the two stores' records), so the ack carries the
            # SyncIDs our pull returned, in the app's own envelope.
            assert set(body) == {"SyncRecordIDs"}
            body = {"SyncRecordIDs": [r["SyncID"] for r in pulled]}
        if call == "POST queued_records":
            location_the_device_synced_earlier()

        document = assert_json(send(client, request, body))

        if call == "GET site":
            expected = mock["/sync/v3/site"]
            assert set(document) == set(expected)
            assert isinstance(document["ServerVersion"], int)
            assert {k: v for k, v in document.items() if k != "ServerVersion"} == {
                k: v for k, v in expected.items() if k != "ServerVersion"
            }
        elif call == "GET initial_dump":
            assert document["error"] == ""
            assert isinstance(document["NumRecords"], int)
            after[call] = changes_on_the_primary_after_the_dump
        elif call == "GET queued_records/count":
            assert set(document) == {"NumRecords"} and isinstance(document["NumRecords"], int)
            counts.append(document["NumRecords"])
        elif call == "GET queued_records":
            assert isinstance(document, list)
            pulled, pull_request = document, request
            for envelope in pulled:
                assert set(envelope) >= ENVELOPE_KEYS and "Data" not in envelope
                assert all(isinstance(envelope[k], str) for k in ENVELOPE_KEYS)
                if envelope["SyncType"] != "D":
                    assert all(isinstance(v, str) for v in envelope["data"].values())
        elif call == "POST acknowledged_records":
            assert document["error"] == ""
            # The app pulls and acknowledges again until it has what the count announced: the mock
            # served it all in one page, our dump's snapshot comes in a page of its own first.
            while more := assert_json(send(client, pull_request, None)):
                pulled += more
                ack = assert_json(send(client, request, {"SyncRecordIDs": [r["SyncID"] for r in more]}))
                assert ack["error"] == ""
        elif call == "POST queued_records":
            assert document["error"] == ""
        else:
            raise AssertionError(f"step {step}: the trace has a call this test does not know: {call}")
        if call in after:
            after.pop(call)()

    # The dump's two store records (STORE1 and STORE4), then the three changes made after it.
    assert counts == [5, 0, 0]
    assert [(r["SyncType"], r["RecordType"], r["RecordID"]) for r in pulled] == [
        ("I", "store", "STORE1"),
        ("I", "store", "STORE4"),
        ("I", "item", "NEW_ITEM"),
        ("U", "item_line", "LINE1"),
        ("D", "item", "OLD_ITEM"),
    ]
    assert pulled[3]["StoreID"] == "STORE4"
    assert pulled[3]["data"]["quantity"] == "7"
    assert "data" not in pulled[4]
    location = Record.objects.get(record_type="Location", record_id="LOC1")
    assert (location.is_deleted, location.store_id) == (False, "STORE4")
    assert orjson.loads(location.data)["Description"] == "Fridge 1"
    assert Record.objects.get(record_type="Location", record_id="LOC0").is_deleted
    assert Site.objects.get(pk=4).hardware_id == trace["requests"][0]["headers"]["msupply-site-uuid"]
