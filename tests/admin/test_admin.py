"""The operators' admin: pages render, passwords and bindings work over HTTP, record edits fan out."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.queue.models import QuarantinedRecord, QueueEntry, SyncLog
from apps.queue.services import primary_changes_apply
from apps.records.canonical import wire_record
from apps.records.changes import Change
from apps.records.models import Record
from apps.sites.models import Site, SyncUser
from tests.support import client_for, make_site, make_user, sha256_hex

pytestmark = pytest.mark.django_db

RECORDS_URL = "/admin/records/record/"
SITES_URL = "/admin/sites/site/"
QUARANTINE_URL = "/admin/queue/quarantinedrecord/"


def seed_items(*ids: str) -> None:
    written = primary_changes_apply(
        changes=[Change("item", i, "upsert", data={"ID": i, "item_name": f"Item {i}"}) for i in ids]
    )
    assert not written.refused


def item(record_id: str) -> Record:
    return Record.objects.get(record_type_id="item", record_id=record_id)


def site_form(site_id: int | None = None, **fields: Any) -> dict[str, Any]:
    """What the browser posts for a site: its fields and the stores inline, as the change page renders it."""
    stores = list(Site.objects.get(pk=site_id).stores.values_list("pk", flat=True)) if site_id else []
    data: dict[str, Any] = {
        "stores-TOTAL_FORMS": len(stores),
        "stores-INITIAL_FORMS": len(stores),
        # The inline that adds stores, left empty.
        "stores-2-TOTAL_FORMS": 0,
        "stores-2-INITIAL_FORMS": 0,
        **fields,
    }
    for n, store_id in enumerate(stores):
        data |= {f"stores-{n}-id": store_id, f"stores-{n}-site": site_id}
    return data


def quarantine_row(site: Site, *, status: str = "pending", record_id: str = "Q1") -> QuarantinedRecord:
    return QuarantinedRecord.objects.create(
        site=site,
        sync_id=f"sync-{record_id}",
        record_type="item",
        record_id=record_id,
        api_version="v3",
        raw=orjson.dumps({"RecordType": "item", "RecordID": record_id}).decode(),
        reason="item is central data, edited on the primary only",
        status=status,
        received_at=timezone.now(),
    )


@pytest.fixture
def populated() -> Site:
    """One row in every table the admin lists, so each changelist renders real rows."""
    site = make_site(2)
    make_user("nurse", stores=["STORE2"])
    seed_items("ITEM1")
    quarantine_row(site)
    SyncLog.objects.create(site=site, call="pull", api_version="v3", pulled=1, created_at=timezone.now())
    return site


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        SITES_URL,
        "/admin/sites/store/",
        "/admin/sites/syncuser/",
        "/admin/records/recordtype/",
        RECORDS_URL,
        "/admin/queue/queueentry/",
        QUARANTINE_URL,
        "/admin/queue/synclog/",
        "/admin/queue/pushedsyncid/",
    ],
)
def test_every_changelist_renders(admin_client: Client, populated: Site, url: str) -> None:
    response = admin_client.get(url)
    assert response.status_code == 200


def test_change_pages_render_with_the_data_pretty_printed(admin_client: Client, populated: Site) -> None:
    record_page = admin_client.get(f"{RECORDS_URL}{item('ITEM1').pk}/change/")
    assert record_page.status_code == 200
    assert "&quot;item_name&quot;: &quot;Item ITEM1&quot;" in record_page.content.decode()
    quarantined = QuarantinedRecord.objects.get()
    assert admin_client.get(f"{QUARANTINE_URL}{quarantined.pk}/change/").status_code == 200
    site_page = admin_client.get(f"{SITES_URL}2/change/").content.decode()
    assert Site.objects.get(pk=2).password_hash not in site_page


def test_setting_a_site_password_in_the_admin_changes_what_the_site_logs_in_with(
    admin_client: Client,
) -> None:
    site = make_site(2, password="old-password")
    assert client_for(site, password="old-password").get("queued_records/count").status_code == 200
    response = admin_client.post(
        f"{SITES_URL}2/change/", site_form(2, name="site2", is_active="on", password="new-password")
    )
    assert response.status_code == 302, response.content
    assert client_for(site, password="new-password").get("queued_records/count").status_code == 200
    assert client_for(site, password="old-password").get("queued_records/count").status_code == 401


def test_saving_a_site_without_a_password_keeps_the_old_one(admin_client: Client) -> None:
    site = make_site(2, password="kept")
    response = admin_client.post(
        f"{SITES_URL}2/change/", site_form(2, name="site2", is_active="on", password="")
    )
    assert response.status_code == 302
    assert client_for(site, password="kept").get("queued_records/count").status_code == 200


def test_a_site_added_in_the_admin_can_sync_with_its_password(admin_client: Client) -> None:
    response = admin_client.post(
        f"{SITES_URL}add/", site_form(id=5, name="clinic", is_active="on", password="pw")
    )
    assert response.status_code == 302, response.content
    assert client_for(Site.objects.get(pk=5), password="pw").get("queued_records/count").status_code == 200


def test_the_primary_cannot_be_added_twice_nor_deleted(admin_client: Client) -> None:
    response = admin_client.post(f"{SITES_URL}add/", site_form(id=1, name="again", password="pw"))
    assert response.status_code == 200
    assert "satellites start at 2" in response.content.decode()
    refused = admin_client.get(f"{SITES_URL}1/delete/")
    assert "Site 1 is the primary itself" in refused.content.decode()
    assert admin_client.post(f"{SITES_URL}1/delete/", {"post": "yes"}).status_code == 200
    assert Site.objects.filter(pk=1).exists()


def test_reset_hardware_action_lets_another_device_bind(admin_client: Client) -> None:
    site = make_site(2)
    assert client_for(site, hardware_id="old-tablet").get("queued_records/count").status_code == 200
    assert Site.objects.get(pk=2).hardware_id == "old-tablet"
    response = admin_client.post(SITES_URL, {"action": "reset_hardware_binding", "_selected_action": [2]})
    assert response.status_code == 302
    assert Site.objects.get(pk=2).hardware_id == ""
    assert client_for(site, hardware_id="new-tablet").get("queued_records/count").status_code == 200


def test_rebuild_queue_action_queues_everything_again(admin_client: Client) -> None:
    site = make_site(2)
    seed_items("A", "B", "C")
    satellite = client_for(site)
    assert len(satellite.drain()) == 3
    assert satellite.count() == 0
    response = admin_client.post(
        SITES_URL, {"action": "rebuild_queue", "_selected_action": [1, 2]}, follow=True
    )
    assert response.status_code == 200
    # The three items and the store record of the site's own store.
    assert satellite.count() == 4
    assert "Site 1 is the primary itself" in response.content.decode()
    assert not QueueEntry.objects.filter(site_id=1).exists()


def test_editing_a_record_in_the_admin_sends_its_new_state_to_the_sites(admin_client: Client) -> None:
    site = make_site(2)
    seed_items("ITEM1")
    satellite = client_for(site)
    satellite.drain()
    new_data = {"ID": "ITEM1", "item_name": "Renamed", "default_pack_size": 10}
    response = admin_client.post(
        f"{RECORDS_URL}{item('ITEM1').pk}/change/", {"data": orjson.dumps(new_data).decode()}
    )
    assert response.status_code == 302, response.content
    pulled = satellite.pull()
    assert [(r["RecordID"], r["data"]) for r in pulled] == [
        ("ITEM1", wire_record("item", {"ID": "ITEM1", "item_name": "Renamed", "default_pack_size": "10"}))
    ]
    assert item("ITEM1").source_site_id == 1


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"ID": "ITEM1", "item_name": ', "not valid JSON"),
        ('["ID", "ITEM1"]', "must be a JSON object"),
        ('{"ID": "ITEM1", "default_pack_size": "many"}', "is not a number"),
        ('{"ID": "OTHER"}', "does not match"),
    ],
)
def test_a_bad_record_edit_is_a_form_error_and_changes_nothing(
    admin_client: Client, text: str, error: str
) -> None:
    site = make_site(2)
    seed_items("ITEM1")
    satellite = client_for(site)
    satellite.drain()
    before = item("ITEM1")
    response = admin_client.post(f"{RECORDS_URL}{before.pk}/change/", {"data": text})
    assert response.status_code == 200
    assert error in response.content.decode()
    after = item("ITEM1")
    assert (after.data, after.modified_at) == (before.data, before.modified_at)
    assert satellite.count() == 0


def test_a_record_added_in_the_admin_is_queued_for_the_sites(admin_client: Client) -> None:
    satellite = client_for(make_site(2))
    response = admin_client.post(
        f"{RECORDS_URL}add/", {"record_type": "item", "record_id": "NEW", "data": '{"ID": "NEW"}'}
    )
    assert response.status_code == 302, response.content
    assert [r["RecordID"] for r in satellite.pull()] == ["NEW"]


def test_the_delete_action_tombstones_records_and_tells_the_sites(admin_client: Client) -> None:
    site = make_site(2)
    seed_items("GONE", "KEPT")
    satellite = client_for(site)
    satellite.drain()
    response = admin_client.post(
        RECORDS_URL, {"action": "tombstone_records", "_selected_action": [item("GONE").pk]}
    )
    assert response.status_code == 302
    assert item("GONE").is_deleted and not item("KEPT").is_deleted
    assert [(r["RecordID"], r["SyncType"]) for r in satellite.pull()] == [("GONE", "D")]


def test_the_records_list_never_counts_or_reads_the_whole_table(admin_client: Client) -> None:
    seed_items(*[f"ITEM{n}" for n in range(5)])
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(RECORDS_URL, {"record_type__name__exact": "item"})
    assert response.status_code == 200
    assert "ITEM4" in response.content.decode()
    queries = [q["sql"].replace('"', "").replace("`", "") for q in captured.captured_queries]
    on_records = [sql for sql in queries if "records_record" in sql]
    assert on_records, "the list did not read the records table at all"
    # A count is allowed only over a LIMITed subquery: bounded whatever the table size.
    assert all("LIMIT" in sql.upper() for sql in on_records if "COUNT(" in sql.upper())
    assert not any("records_record.data" in sql or "records_record.wire" in sql for sql in on_records)


def test_quarantine_lists_pending_by_default_and_filters_by_status_and_version(admin_client: Client) -> None:
    site = make_site(2)
    quarantine_row(site, record_id="WAITING")
    quarantine_row(site, status="replayed", record_id="DONE")
    default_page = admin_client.get(QUARANTINE_URL).content.decode()
    assert "WAITING" in default_page and "DONE" not in default_page
    everything = admin_client.get(QUARANTINE_URL, {"status": "all"}).content.decode()
    assert "WAITING" in everything and "DONE" in everything
    other_version = admin_client.get(QUARANTINE_URL, {"api_version": "v1"}).content.decode()
    assert "WAITING" not in other_version


def test_quarantine_actions_replay_and_discard_the_selection_only(admin_client: Client) -> None:
    site = make_site(2)
    chosen = quarantine_row(site, record_id="CHOSEN")
    other = quarantine_row(site, record_id="OTHER")
    replayed = admin_client.post(
        QUARANTINE_URL, {"action": "replay", "_selected_action": [chosen.pk]}, follow=True
    )
    # Its raw text still has no SyncType: the replay keeps it pending with the codec's reason.
    assert "0 replayed, 1 still refused." in replayed.content.decode()
    assert "unknown SyncType" in replayed.content.decode()
    chosen.refresh_from_db()
    assert chosen.status == QuarantinedRecord.Status.PENDING and "unknown SyncType" in chosen.reason
    discarded = admin_client.post(
        QUARANTINE_URL, {"action": "discard", "_selected_action": [chosen.pk]}, follow=True
    )
    assert "Discarded 1 quarantined records" in discarded.content.decode()
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert chosen.status == QuarantinedRecord.Status.DISCARDED
    assert other.status == QuarantinedRecord.Status.PENDING
    assert other.reason == "item is central data, edited on the primary only"


def test_fixing_a_quarantined_record_saves_its_raw_text_but_refuses_broken_json(admin_client: Client) -> None:
    quarantined = quarantine_row(make_site(2))
    url = f"{QUARANTINE_URL}{quarantined.pk}/change/"
    assert admin_client.post(url, {"raw": "{broken"}).status_code == 200
    assert admin_client.post(url, {"raw": '{"RecordID": "FIXED"}'}).status_code == 302
    quarantined.refresh_from_db()
    assert quarantined.raw == '{"RecordID": "FIXED"}'


def test_a_sync_user_password_set_in_the_admin_is_stored_as_its_sha256(admin_client: Client) -> None:
    make_site(2)
    response = admin_client.post(
        "/admin/sites/syncuser/add/",
        {"username": "nurse", "password": "secret", "is_active": "on", "stores": ["STORE2"]},
    )
    assert response.status_code == 302, response.content
    user = SyncUser.objects.get(username="nurse")
    assert user.check_password_sha256(sha256_hex("secret"))
    assert not user.check_password_sha256(sha256_hex("other"))
    assert list(user.stores.values_list("pk", flat=True)) == ["STORE2"]
