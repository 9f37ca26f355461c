"""GET sync_status: a site's own pending and quarantined counts, last contact and last initial dump."""

from __future__ import annotations

import pytest

from tests.support import SyncClient, client_for, json_error, make_site, primary_upsert, record

pytestmark = pytest.mark.django_db


def status_of(client: SyncClient) -> dict:
    response = client.get("sync_status")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["error"] == ""
    return body


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_a_new_site_has_nothing_pending_and_was_never_dumped(version):
    client = client_for(make_site(2), version=version)

    body = status_of(client)

    assert body["SiteID"] == 2
    assert body["PendingRecords"] == 0
    assert body["QuarantinedRecords"] == 0
    assert body["LastInitialDump"] is None
    assert body["LastContact"] is not None  # this very call is a contact


def test_pending_counts_only_the_sites_own_queue(sat: SyncClient, other: SyncClient):
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Paracetamol"})
    primary_upsert("Location", "L3", {"ID": "L3", "code": "A", "store_ID": "STORE3"})

    assert status_of(sat)["PendingRecords"] == 1
    assert status_of(other)["PendingRecords"] == 2
    sat.drain()
    assert status_of(sat)["PendingRecords"] == 0


def test_quarantined_counts_the_sites_records_waiting_for_an_operator(sat: SyncClient, other: SyncClient):
    sat.push(
        [
            record("no_such_table", "X1", {"ID": "X1"}, sync_id="q1"),
            record("Location", "L9", {"ID": "L9", "code": "A", "store_ID": "STORE3"}, sync_id="q2"),
        ]
    )

    assert status_of(sat)["QuarantinedRecords"] == 2
    assert status_of(other)["QuarantinedRecords"] == 0


@pytest.mark.parametrize("full", [False, True], ids=["mobile", "full"])
def test_the_last_initial_dump_says_when_which_kind_and_how_many(sat: SyncClient, full: bool):
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Paracetamol"})
    primary_upsert("unit", "U1", {"ID": "U1", "units": "box"})

    dumped = sat.initial_dump(full=full)["NumRecords"]
    sat.drain()
    last = status_of(sat)["LastInitialDump"]

    assert last["Type"] == ("full" if full else "mobile")
    assert last["NumRecords"] == dumped
    assert last["Time"]


def test_a_later_dump_replaces_the_earlier_one(sat: SyncClient):
    sat.initial_dump(full=True)
    primary_upsert("unit", "U1", {"ID": "U1", "units": "box"})

    sat.initial_dump(full=False)

    last = status_of(sat)["LastInitialDump"]
    assert (last["Type"], last["NumRecords"]) == ("mobile", 2)  # the unit and the store's record


def test_sync_status_needs_the_sites_credentials_and_its_own_id(sat: SyncClient, other: SyncClient):
    json_error(client_for(make_site(4), password="wrong").get("sync_status"), 401)
    json_error(sat.get("sync_status", from_site=3), 403)
