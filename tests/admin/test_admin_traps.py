"""The admin cannot hurt the operator: each trap of the old admin, through HTTP."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.queue.models import QueueEntry
from apps.queue.snapshot import open_snapshot, snapshot_rows
from apps.records.models import Record
from apps.sites.models import Site, Store, SyncUser
from tests.admin.test_admin import SITES_URL, seed_items, site_form
from tests.support import basic_auth, client_for, make_site, make_user, primary_upsert, record

pytestmark = pytest.mark.django_db

STORES_URL = "/admin/sites/store/"
USERS_URL = "/admin/sites/syncuser/"
REBUILD_URL = f"{SITES_URL}rebuild-queues/"
BIG_TABLES = ("queue_queueentry", "queue_synclog", "queue_quarantinedrecord", "records_record")


def store_form(store: Store, **changes: Any) -> dict[str, Any]:
    fields = {"id": store.pk, "name": store.name, "code": store.code, "name_id": store.name_id}
    return {**fields, "site": store.site_id or "", **changes}


def queued_ids(site_id: int) -> set[str]:
    """What waits for the site: its dump's snapshot (apps/queue/snapshot.py) and its queue's rows."""
    snapshot = open_snapshot(site_id)
    dumped = [] if snapshot is None else [row[2] for _, row in snapshot_rows(snapshot, limit=10_000)]
    return {*dumped, *QueueEntry.objects.filter(site_id=site_id).values_list("record__record_id", flat=True)}


def rows_read_from_big_tables(queries: CaptureQueriesContext) -> list[str]:
    """Queries over the big tables other than an indexed EXISTS (`... LIMIT 1`), which reads one row."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if any(t in q["sql"] for t in BIG_TABLES) and not q["sql"].rstrip().endswith("LIMIT 1")
    ]


# --- A store's id ------------------------------------------------------------------------------------


def test_a_store_id_cannot_be_changed_after_creation(admin_client: Client) -> None:
    make_site(2)
    store = Store.objects.get(pk="STORE2")
    page = admin_client.get(f"{STORES_URL}STORE2/change/").content.decode()
    assert 'name="id"' not in page
    response = admin_client.post(f"{STORES_URL}STORE2/change/", store_form(store, id="COPY", name="Renamed"))
    assert response.status_code == 302, response.content
    assert list(Store.objects.values_list("pk", "name")) == [("STORE2", "Renamed")]


def test_a_store_added_in_the_admin_writes_its_record_for_the_sites(admin_client: Client) -> None:
    make_site(2)
    response = admin_client.post(
        f"{STORES_URL}add/",
        {"id": "NEW", "name": "New store", "code": "NS", "name_id": "NAME_NEW", "site": 2},
    )
    assert response.status_code == 302, response.content
    assert Store.objects.get(pk="NEW").site_id == 2
    assert Record.objects.filter(record_type_id="store", record_id="NEW").exists()


# --- Deleting a site ------------------------------------------------------------------------------


@pytest.fixture
def synced() -> Site:
    """Site 2 has synced: it is bound to its device, has a queue and a sync log."""
    site = make_site(2)
    seed_items(*[f"I{n}" for n in range(30)])
    client_for(site).count()
    return site


def test_deleting_a_site_that_has_synced_is_refused_and_deactivation_offered(
    admin_client: Client, synced: Site
) -> None:
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(f"{SITES_URL}2/delete/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "has synced" in text and "Deactivate it instead" in text
    assert 'name="action" value="deactivate_sites"' in text
    assert rows_read_from_big_tables(queries) == []
    assert admin_client.post(f"{SITES_URL}2/delete/", {"post": "yes"}).status_code == 200
    assert Site.objects.filter(pk=2).exists() and QueueEntry.objects.filter(site_id=2).count() == 30

    # The button the page offers: the site is refused at its next sync, and keeps its queue.
    response = admin_client.post(SITES_URL, {"action": "deactivate_sites", "_selected_action": [2]})
    assert response.status_code == 302
    assert client_for(synced).get("queued_records/count").status_code == 401
    assert QueueEntry.objects.filter(site_id=2).count() == 30


def test_the_bulk_delete_action_refuses_sites_that_have_synced_and_deletes_nothing(
    admin_client: Client, synced: Site
) -> None:
    make_site(3, stores=[])
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.post(SITES_URL, {"action": "delete_selected", "_selected_action": [2, 3]})
    text = response.content.decode()
    assert response.status_code == 200 and "Site 2 site2 has synced" in text
    assert rows_read_from_big_tables(queries) == []
    response = admin_client.post(
        SITES_URL, {"action": "delete_selected", "_selected_action": [2, 3], "post": "yes"}
    )
    assert set(Site.objects.values_list("pk", flat=True)) == {1, 2, 3}


def test_a_site_whose_records_name_it_is_refused_even_without_a_last_contact(admin_client: Client) -> None:
    site = make_site(2)
    pushed = client_for(site).push(
        [record("Location", "L1", {"ID": "L1", "store_ID": "STORE2"}, sync_id="s1", store_id="STORE2")]
    )
    assert pushed["error"] == ""
    # As if its records had come another way (loaded, imported) and its device were reset.
    Site.objects.filter(pk=2).update(last_seen_at=None, hardware_id="")
    page = admin_client.get(f"{SITES_URL}2/delete/").content.decode()
    assert "its records name it as their source" in page
    assert admin_client.post(f"{SITES_URL}2/delete/", {"post": "yes"}).status_code == 200
    assert Site.objects.filter(pk=2).exists()


def test_a_site_that_never_synced_is_deleted_without_listing_its_queue(admin_client: Client) -> None:
    make_site(3, stores=[])
    seed_items(*[f"I{n}" for n in range(30)])
    assert QueueEntry.objects.filter(site_id=3).count() == 30
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(f"{SITES_URL}3/delete/")
    assert page.status_code == 200 and "Are you sure" in page.content.decode()
    assert rows_read_from_big_tables(queries) == []
    assert admin_client.post(f"{SITES_URL}3/delete/", {"post": "yes"}).status_code == 302
    assert not Site.objects.filter(pk=3).exists()
    assert not QueueEntry.objects.filter(site_id=3).exists()


# --- Rebuilding queues --------------------------------------------------------------------------------


@pytest.fixture
def catalogue() -> None:
    """Item I1 is joined to store 2, I2 to store 3: a mobile dump of site 2 holds I1 only."""
    make_site(2)
    make_site(3)
    primary_upsert("item_store_join", "J1", {"ID": "J1", "item_ID": "I1", "store_ID": "STORE2"})
    primary_upsert("item_store_join", "J2", {"ID": "J2", "item_ID": "I2", "store_ID": "STORE3"})
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Paracetamol"})
    primary_upsert("item", "I2", {"ID": "I2", "item_name": "Amoxicillin"})
    QueueEntry.objects.all().delete()


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("rebuild_queue", {"I1", "I2", "J1", "STORE2", "STORE3"}),
        ("rebuild_queue_mobile", {"I1", "J1", "STORE2", "STORE3"}),
    ],
)
def test_rebuild_queue_offers_the_full_dump_and_the_mobile_subset(
    admin_client: Client, catalogue: None, action: str, expected: set[str]
) -> None:
    response = admin_client.post(SITES_URL, {"action": action, "_selected_action": [2]}, follow=True)
    assert response.status_code == 200
    assert "queue rebuilt" in response.content.decode()
    assert queued_ids(2) == expected


def rebuild_page_sites(response: Any) -> list[int]:
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    assert location.path == REBUILD_URL
    return sorted(int(v) for v in parse_qs(location.query)["site"])


def test_moving_a_store_asks_to_rebuild_both_sites_queues_and_does_it(
    admin_client: Client, catalogue: None
) -> None:
    primary_upsert("Location", "L2", {"ID": "L2", "store_ID": "STORE2", "code": "shelf"}, store_id="STORE2")
    assert "L2" in queued_ids(2)
    store = Store.objects.get(pk="STORE2")
    moved = admin_client.post(f"{STORES_URL}STORE2/change/", store_form(store, site=3))
    assert rebuild_page_sites(moved) == [2, 3]
    question = admin_client.get(moved["Location"]).content.decode()
    assert "Site 2 site2" in question and "Site 3 site3" in question and "Store STORE2 moved" in question

    done = admin_client.post(REBUILD_URL, {"site": [2, 3], "kind": "full"}, follow=True)
    assert done.status_code == 200
    # Store 2's own records (its location, its item join) now go to site 3, and no longer to site 2.
    assert {"L2", "J1", "J2"} <= queued_ids(3)
    assert queued_ids(2) == {"I1", "I2", "STORE2", "STORE3"}


def test_not_now_rebuilds_nothing_and_says_so(admin_client: Client, catalogue: None) -> None:
    done = admin_client.post(REBUILD_URL, {"site": [2], "kind": "none"}, follow=True)
    assert "Queues not rebuilt" in done.content.decode()
    assert queued_ids(2) == set()


def test_reactivating_a_site_asks_to_rebuild_its_queue_and_does_it(
    admin_client: Client, catalogue: None
) -> None:
    Site.objects.filter(pk=2).update(is_active=False)
    saved = admin_client.post(f"{SITES_URL}2/change/", site_form(2, name="site2", is_active="on"))
    assert rebuild_page_sites(saved) == [2]
    admin_client.post(REBUILD_URL, {"site": [2], "kind": "mobile"})
    assert queued_ids(2) == {"I1", "J1", "STORE2", "STORE3"}


def test_the_activate_action_asks_to_rebuild_the_queues_of_the_sites_it_activated(
    admin_client: Client, catalogue: None
) -> None:
    Site.objects.filter(pk=3).update(is_active=False)
    response = admin_client.post(SITES_URL, {"action": "activate_sites", "_selected_action": [2, 3]})
    assert rebuild_page_sites(response) == [3]
    assert Site.objects.get(pk=3).is_active


# --- Lockouts -----------------------------------------------------------------------------------


def lock_out(name: str, *, as_user: bool = False) -> Client:
    client = Client()
    path = "/sync/v3/user" if as_user else "/sync/v3/queued_records/count?from_site=2&to_site=1"
    for _ in range(10):
        assert client.get(path, HTTP_AUTHORIZATION=basic_auth(name, "wrong")).status_code == 401
    assert client.get(path, HTTP_AUTHORIZATION=basic_auth(name, "pass")).status_code == 429
    return client


def test_a_locked_out_site_is_released_from_the_site_list(admin_client: Client) -> None:
    make_site(2)
    lock_out("site2")
    response = admin_client.post(
        SITES_URL, {"action": "release_lockouts", "_selected_action": [2]}, follow=True
    )
    assert "failure count(s) forgotten" in response.content.decode()
    assert client_for(Site.objects.get(pk=2)).get("queued_records/count").status_code == 200


def test_a_locked_out_user_is_released_from_the_user_list(admin_client: Client) -> None:
    make_site(2)
    user = make_user("nurse", stores=["STORE2"])
    lock_out("nurse", as_user=True)
    response = admin_client.post(USERS_URL, {"action": "release_lockouts", "_selected_action": [user.pk]})
    assert response.status_code == 302
    assert Client().get("/sync/v3/user", HTTP_AUTHORIZATION=basic_auth("nurse", "pass")).status_code == 200


# --- A new site with its store and user on one page ----------------------------------------------------


def new_site_form(**extra: Any) -> dict[str, Any]:
    return {
        **site_form(id=5, name="clinic", is_active="on", password="pw"),
        "stores-2-TOTAL_FORMS": 1,
        "stores-2-0-id": "STORE5",
        "stores-2-0-name": "Clinic store",
        "stores-2-0-name_id": "NAME5",
        **extra,
    }


def test_a_new_site_gets_its_store_and_user_on_its_own_page(admin_client: Client) -> None:
    assert "add stores to this site" in admin_client.get(f"{SITES_URL}add/").content.decode().lower()
    response = admin_client.post(
        f"{SITES_URL}add/", new_site_form(new_user="nurse5", new_user_password="secret")
    )
    assert response.status_code == 302, response.content
    site = Site.objects.get(pk=5)
    assert list(site.stores.values_list("pk", flat=True)) == ["STORE5"]
    assert Record.objects.filter(record_type_id="store", record_id="STORE5").exists()
    user = SyncUser.objects.get(username="nurse5")
    assert list(user.stores.values_list("pk", flat=True)) == ["STORE5"]
    assert Client().get("/sync/v3/user", HTTP_AUTHORIZATION=basic_auth("nurse5", "secret")).status_code == 200
    assert client_for(site, password="pw").get("queued_records/count").status_code == 200


def test_a_store_is_added_to_an_existing_site_on_its_page(admin_client: Client) -> None:
    make_site(2)
    data = {
        **site_form(2, name="site2", is_active="on"),
        "stores-2-TOTAL_FORMS": 1,
        "stores-2-0-id": "SECOND",
        "stores-2-0-name": "Second",
        "stores-2-0-name_id": "NAME_SECOND",
    }
    assert admin_client.post(f"{SITES_URL}2/change/", data).status_code == 302
    assert set(Site.objects.get(pk=2).stores.values_list("pk", flat=True)) == {"STORE2", "SECOND"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"stores-2-TOTAL_FORMS": 0, "new_user": "nurse5", "new_user_password": "x"}, "needs a store"),
        ({"new_user": "nurse5"}, "The new user needs a password"),
        ({"new_user_password": "x"}, "Give the new user a name"),
        ({"stores-2-0-id": "STORE2"}, "already exists"),
    ],
)
def test_a_bad_new_site_page_is_refused_in_words_and_creates_nothing(
    admin_client: Client, extra: dict[str, Any], message: str
) -> None:
    make_site(2)
    response = admin_client.post(f"{SITES_URL}add/", new_site_form(**extra))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Site.objects.filter(pk=5).exists()
    assert not SyncUser.objects.filter(username="nurse5").exists()
