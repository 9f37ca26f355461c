import random
import re
from io import StringIO

import orjson
import pytest
from django.core.management import call_command
from django.test import Client

from apps.demo.dataset import DemoSite, generate_dataset
from apps.demo.generators import GENERATORS, DemoSize, generate_item, generate_record
from apps.demo.seeding import seed_demo
from apps.queue.models import QuarantinedRecord, QueueEntry
from apps.records.changes import Change
from apps.records.models import Record
from apps.records.registry import get_registry
from apps.records.services import validate_change
from apps.sites.models import Site, Store, SyncUser
from tests.support import SyncClient

pytestmark = pytest.mark.django_db

SMALL = ["--items", "20", "--names", "20", "--transactions", "40", "--no-progress"]
STORE_DATA = {"item_line", "item_store_join", "name_store_join", "Location", "transact", "trans_line"}
CENTRAL = {"unit", "item_category", "item", "name", "store"}


def run_demodata(*args: str) -> str:
    out = StringIO()
    call_command("demodata", *SMALL, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def counts() -> tuple[int, int, int, int, int]:
    return (
        Site.objects.count(),
        Store.objects.count(),
        SyncUser.objects.count(),
        Record.objects.count(),
        QueueEntry.objects.count(),
    )


def demo_sites() -> list[DemoSite]:
    return [
        DemoSite(2, "pharmacy", "demo", "S2" * 16, "Pharmacy", "PHA", "N2" * 16, "pharmacist"),
        DemoSite(3, "clinic", "demo", "S3" * 16, "Clinic", "CLI", "N3" * 16, "nurse"),
    ]


def all_records(seed: int, size: DemoSize) -> list[tuple[str, dict]]:
    return [
        (record_type, record)
        for record_type, _total, records in generate_dataset(size=size, sites=demo_sites(), seed=seed)
        for record in records
    ]


def test_demodata_creates_two_sites_that_log_in_and_dump_their_records():
    output = run_demodata()
    pharmacy, clinic = Site.objects.get(pk=2), Site.objects.get(pk=3)
    assert (pharmacy.name, clinic.name) == ("pharmacy", "clinic")
    pharmacy_store, clinic_store = pharmacy.stores.get(), clinic.stores.get()
    assert clinic_store.supplying_store == pharmacy_store
    assert list(SyncUser.objects.get(username="pharmacist").stores.all()) == [pharmacy_store]
    assert list(SyncUser.objects.get(username="nurse").stores.all()) == [clinic_store]
    assert "pharmacist / demo" in output and "Basic " in output

    client = SyncClient(site_id=2, name="pharmacy", password="demo")
    assert client.initial_dump()["NumRecords"] > 0
    pulled = client.drain()
    types = {r["RecordType"] for r in pulled}
    assert types >= CENTRAL | STORE_DATA
    assert all(r["data"]["store_ID"] == pharmacy_store.pk for r in pulled if r["RecordType"] == "item_line")
    # The mobile dump holds only the items the store can see, not every item.
    assert 0 < sum(r["RecordType"] == "item" for r in pulled) < 20
    assert client.count() == 0
    assert not QuarantinedRecord.objects.exists()


def test_the_clinic_receives_the_pharmacy_transfers_as_supplier_invoices_with_their_lines():
    run_demodata()
    pharmacy_store = Store.objects.get(site_id=2)
    clinic = SyncClient(site_id=3, name="clinic", password="demo")
    clinic.initial_dump()
    pulled = clinic.drain()
    transfers = [
        r
        for r in pulled
        if r["RecordType"] == "transact"
        and r["data"]["name_ID"] == pharmacy_store.name_id
        and r["data"]["linked_transaction_id"]
    ]
    assert transfers
    assert {(r["data"]["type"], r["StoreID"]) for r in transfers} == {("si", Store.objects.get(site_id=3).pk)}
    assert not any(
        r["data"]["store_ID"] == pharmacy_store.pk for r in pulled if r["RecordType"] == "transact"
    )
    transfer_ids = {r["RecordID"] for r in transfers}
    assert any(r["data"]["transaction_ID"] in transfer_ids for r in pulled if r["RecordType"] == "trans_line")


def test_running_demodata_twice_changes_nothing():
    run_demodata()
    before = counts()
    output = run_demodata()
    assert counts() == before
    total_row = next(line for line in output.splitlines() if line.startswith("total"))
    generated, added, updated, unchanged, refused = (int(n) for n in total_row.split()[1:6])
    assert (added, updated, refused) == (0, 0, 0)
    # Besides what it generated, the store holds the supplier invoices its transfers created (once).
    counterparts = Record.objects.filter(record_type_id="transact", data__contains='"type":"si"').exclude(
        data__contains='"linked_transaction_id":""'
    )
    counterpart_lines = Record.objects.filter(
        record_type_id="trans_line", ref_id__in=list(counterparts.values_list("record_id", flat=True))
    )
    assert counterparts.exists()
    assert unchanged == generated == before[3] - counterparts.count() - counterpart_lines.count()


def test_every_generated_record_is_accepted_by_the_registry():
    result = seed_demo(size=DemoSize(items=20, names=20, transactions=10), sites=3, seed=5)
    assert result.refused == 0
    assert {c.record_type for c in result.counts} == CENTRAL | STORE_DATA
    assert all(c.added == c.generated for c in result.counts if c.record_type != "store")
    # Creating the sites' stores wrote their store records first; the demo's fuller ones update them.
    [stores] = [c for c in result.counts if c.record_type == "store"]
    assert stores.updated == stores.generated == len(result.sites)
    assert [s.name for s in result.sites] == ["pharmacy", "clinic", "clinic2"]


def test_same_seed_gives_the_same_records_and_another_seed_other_ids():
    size = DemoSize(items=15, names=15, transactions=8)
    first, again, other = all_records(7, size), all_records(7, size), all_records(8, size)
    assert first == again
    fixed = {s.store_id for s in demo_sites()} | {s.name_id for s in demo_sites()}
    assert {r["ID"] for _, r in first}.isdisjoint({r["ID"] for _, r in other} - fixed)
    # One table's size does not move the ids of the others.
    bigger = all_records(7, DemoSize(items=15, names=15, transactions=30))
    assert [r["ID"] for t, r in first if t == "item"] == [r["ID"] for t, r in bigger if t == "item"]


def test_generated_records_are_shaped_like_real_ones():
    registry = get_registry()
    rng = random.Random(3)
    for record_type in GENERATORS:
        record = generate_record(rng, record_type)
        change = Change(record_type=record_type, record_id=record["ID"], action="upsert", data=record)
        assert validate_change(change, registry) is None, record_type
        assert len(record["ID"]) == 32 and record["ID"] == record["ID"].upper()
    sizes = [len(orjson.dumps(generate_item(rng, index=n))) for n in range(50)]
    assert min(sizes) >= 800
    item = generate_item(rng)
    assert isinstance(item["default_pack_size"], int) and isinstance(item["is_vaccine"], bool)
    assert item["start_of_year_date"] == "0000-00-00"


def test_demodata_prints_a_staff_login_that_opens_the_admin_once():
    output = run_demodata()
    login = re.search(
        r"Admin: http://127.0.0.1:8000/admin/  user admin  password (\S+)  \(demo only\)", output
    )
    assert login, output
    browser = Client()
    response = browser.post(
        "/admin/login/?next=/admin/", {"username": "admin", "password": login.group(1), "next": "/admin/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert browser.get("/admin/sites/site/").status_code == 200
    # A second run keeps the password the operator may have noted or changed.
    again = run_demodata()
    assert "user admin  password (unchanged: the user existed already)" in again
    assert Client().login(username="admin", password=login.group(1))
