"""A record is not refused for a field name the registry lacks: kept, sent on v2/v3 pulls as received,
dropped only where v1 cannot number it, and listed for the operator (admin and `unknownfields`)."""

from __future__ import annotations

from io import StringIO

import orjson
import pytest
from django.core.management import call_command

from apps.records.models import Record, UnknownField
from apps.records.registry import get_registry
from apps.sites.models import Site
from tests.support import client_for, make_site, record

pytestmark = pytest.mark.django_db

LOCATION = {"ID": "L1", "code": "F1", "store_ID": "STORE2", "new_in_8_8": "cold room", "TempZone": 4}


@pytest.fixture
def pusher():
    return client_for(make_site(2))


def test_a_record_with_unknown_fields_is_applied_and_keeps_them(pusher):
    body = pusher.push([record("Location", "L1", LOCATION, sync_id="s1", store_id="STORE2")])

    assert (body["applied"], body["quarantined"]) == (1, 0)
    stored = Record.objects.get(record_type_id="Location", record_id="L1")
    assert orjson.loads(stored.data) == LOCATION


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_v2_and_v3_pulls_carry_unknown_fields_as_received(pusher, version):
    pusher.push([record("Location", "L1", LOCATION, sync_id="s1", store_id="STORE2")])
    reader = client_for(pusher_site(), version=version)
    reader.initial_dump(full=True)

    [pulled] = [r for r in reader.drain() if r["RecordID"] == "L1"]

    assert (pulled["data"]["new_in_8_8"], pulled["data"]["TempZone"]) == ("cold room", "4")
    assert pulled["data"]["code"] == "F1"


def pusher_site() -> Site:
    return Site.objects.get(pk=2)


def test_v1_pulls_drop_only_the_fields_it_cannot_number(pusher):
    pusher.push([record("Location", "L1", LOCATION, sync_id="s1", store_id="STORE2")])
    reader = client_for(pusher_site(), version="v1")
    reader.initial_dump(full=True)

    [pulled] = [r for r in reader.drain() if r["RecordID"] == "L1"]

    spec = get_registry().types["Location"]
    assert sorted(pulled["fields"]) == sorted(spec.fields.values())
    assert dict(zip(pulled["fields"], pulled["values"], strict=True))[spec.fields["code"]] == "F1"


def test_the_operator_sees_the_unknown_names_in_the_admin_and_the_command(pusher, admin_client):
    pusher.push([record("Location", "L1", LOCATION, sync_id="s1", store_id="STORE2")])

    names = set(UnknownField.objects.values_list("record_type", "name"))
    assert names == {("Location", "new_in_8_8"), ("Location", "TempZone")}
    page = admin_client.get("/admin/records/unknownfield/")
    assert page.status_code == 200
    assert "new_in_8_8" in page.content.decode()
    out = StringIO()
    call_command("unknownfields", stdout=out)
    assert "Location.TempZone" in out.getvalue() and "2 unknown field name(s)." in out.getvalue()
    call_command("unknownfields", "--clear", stdout=StringIO())
    assert not UnknownField.objects.exists()


def test_a_field_name_in_another_case_is_the_registry_field_not_an_unknown_one(pusher):
    data = {"id": "L1", "CODE": "F1", "Store_id": "STORE2"}
    assert pusher.push([record("Location", "L1", data, sync_id="s1", store_id="STORE2")])["applied"] == 1

    assert not UnknownField.objects.exists()
    wire = orjson.loads(Record.objects.get(record_type_id="Location", record_id="L1").wire)
    assert (wire["ID"], wire["code"], wire["store_ID"]) == ("L1", "F1", "STORE2")


def test_the_same_field_twice_in_two_cases_with_different_values_is_quarantined(pusher):
    data = {"ID": "L1", "code": "F1", "Code": "F2", "store_ID": "STORE2"}
    body = pusher.push([record("Location", "L1", data, sync_id="s1", store_id="STORE2")])

    assert body["quarantined"] == 1
    assert "given twice with different values" in body["quarantinedRecords"][0]["reason"]


def test_the_quarantine_list_counts_pending_records_per_site_and_reason(pusher, admin_client):
    bad = [
        record("item", f"I{n}", {"ID": f"I{n}"}, sync_id=f"q{n}") for n in range(3)
    ]  # central data from a satellite
    pusher.push(bad)

    page = admin_client.get("/admin/queue/quarantinedrecord/")

    text = page.content.decode()
    assert page.status_code == 200
    assert "Pending quarantine, by site and reason" in text
    assert "<td>3</td>" in text and "item is central data, edited on the primary only" in text
