"""One source of truth for stores: creating a store writes its central `store` record, and a loaded or
edited `store` record updates the Store the server routes by."""

from __future__ import annotations

from io import StringIO

import orjson
import pytest
from django.core.management import call_command
from django.test import Client

from apps.records.models import Record
from apps.sites.models import Store
from apps.sites.services import site_create
from tests.api.test_loadrecords import load, write
from tests.support import SyncClient, client_for, make_site, primary_upsert

pytestmark = pytest.mark.django_db


def store_wire(store_id: str) -> dict[str, str]:
    return orjson.loads(Record.objects.get(record_type_id="store", record_id=store_id).wire)


def test_createstore_writes_the_store_record_that_the_app_then_receives():
    site_create(site_id=4, name="mobile4", password="pass")
    other = client_for(make_site(5))

    call_command(
        "createstore", "STORE_B", "Store B", "--site", "4", "--name-id", "NAME_B", "--code", "SB",
        stdout=StringIO(),
    )  # fmt: skip

    record = store_wire("STORE_B")
    assert (record["ID"], record["name"], record["code"], record["name_ID"]) == (
        "STORE_B",
        "Store B",
        "SB",
        "NAME_B",
    )
    assert record["sync_id_remote_site"] == "4"
    app = SyncClient(site_id=4, name="mobile4", password="pass")
    assert app.get("site").json()["StoreID"] == "STORE_B"
    app.initial_dump()
    [own] = [r for r in app.drain() if r["RecordType"] == "store" and r["RecordID"] == "STORE_B"]
    assert own["data"]["code"] == "SB"
    assert [r["RecordID"] for r in other.pull(10) if r["RecordType"] == "store"] == ["STORE_B"]


def test_a_loaded_store_record_updates_the_store_it_names(tmp_path):
    make_site(2)
    make_site(3)
    changes = [
        {
            "RecordType": "store",
            "RecordID": "STORE2",
            "data": {"ID": "STORE2", "name": "Renamed", "code": "RN", "name_ID": "NAME_STORE2",
                     "sync_id_remote_site": 3, "tags": "district"},
        },
        {"RecordType": "store", "RecordID": "HQ",
         "data": {"ID": "HQ", "name": "Head office", "sync_id_remote_site": 1}},
    ]  # fmt: skip

    counts, _ = load(write(tmp_path, "stores.json", changes))

    assert counts["refused"] == 0
    moved = Store.objects.get(pk="STORE2")
    assert (moved.name, moved.code, moved.site_id) == ("Renamed", "RN", 3)
    # A store served by the primary itself is on no satellite.
    assert Store.objects.get(pk="HQ").site_id is None
    assert store_wire("STORE2")["tags"] == "district"


def test_a_store_record_naming_a_site_that_does_not_exist_is_refused_and_changes_nothing(tmp_path):
    make_site(2)
    changes = [
        {"RecordType": "store", "RecordID": "STORE2", "data": {"ID": "STORE2", "sync_id_remote_site": 42}}
    ]

    counts, output = load(write(tmp_path, "stores.json", changes))

    assert counts["refused"] == 1
    assert "site 42" in output and "does not exist" in output
    assert Store.objects.get(pk="STORE2").site_id == 2


def test_editing_a_store_in_the_admin_writes_its_record_and_keeps_its_other_fields(admin_client: Client):
    make_site(2)
    primary_upsert("store", "STORE2", {"ID": "STORE2", "name": "Store STORE2", "name_ID": "NAME_STORE2",
                                       "sync_id_remote_site": 2, "tags": "north"})  # fmt: skip

    response = admin_client.post(
        "/admin/sites/store/STORE2/change/",
        {"id": "STORE2", "name": "Store 2", "code": "S2", "name_id": "NAME_STORE2", "site": "2"},
    )

    assert response.status_code == 302, response.content
    record = store_wire("STORE2")
    assert (record["name"], record["code"], record["tags"]) == ("Store 2", "S2", "north")
