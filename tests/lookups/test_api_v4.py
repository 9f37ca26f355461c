"""The mobile app's online look-ups (/api/v4), through HTTP, with the parameters the app sends."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.lookups.indexing import rebuild_index
from apps.lookups.models import SearchEntry, SearchSuffix
from apps.records.models import Record
from tests.support import (
    basic_auth,
    client_for,
    json_error,
    make_site,
    primary_delete,
    primary_upsert,
    record,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sites() -> dict[int, Any]:
    return {site_id: make_site(site_id) for site_id in (2, 3)}


def get(path: str, site: str = "site2", password: str = "pass", **query: Any):
    # The app sends no device header on these calls, only the site's credentials.
    return Client().get(f"/api/v4/{path}", query, HTTP_AUTHORIZATION=basic_auth(site, password))


def post(path: str, body: Any, site: str = "site2", password: str = "pass"):
    return Client().post(
        f"/api/v4/{path}",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth(site, password),
    )


def patient(record_id: str, first: str, last: str, **extra: Any) -> None:
    data = {"ID": record_id, "type": "patient", "first": first, "last": last, "name": f"{last}, {first}"}
    primary_upsert("name", record_id, {**data, "customer": True, "female": "true", **extra})


@pytest.fixture
def people(sites) -> None:
    patient("P1", "Ana", "Silva", date_of_birth="1990-02-03", barcode="BC-001", code="ANA1")
    patient("P2", "Anabel", "Silvestre", date_of_birth="1985-12-31")
    patient("P3", "Bruno", "Costa", date_of_birth="1990-02-03")
    primary_upsert(
        "name", "SUPPLIER", {"ID": "SUPPLIER", "type": "facility", "first": "Ana", "last": "Silva"}
    )
    primary_upsert(
        "nameInsuranceJoin",
        "POL1",
        {
            "ID": "POL1",
            "nameID": "P3",
            "policyNumberFull": "NHI-778-01",
            "insuranceProviderID": "PROV1",
            "discountRate": "20",
            "isActive": "true",
            "expiryDate": "2030-01-01",
            "type": "personal",
        },
    )
    primary_upsert("name_note", "NOTE1", {"ID": "NOTE1", "name_ID": "P3", "note": "allergic to penicillin"})
    primary_upsert(
        "clinician",
        "C1",
        {"ID": "C1", "first_name": "Maria", "last_name": "Lopes", "code": "REG-55", "store_ID": "STORE3"},
    )


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert isinstance(body, list), body
    return [p["ID"] for p in body]


def test_patients_are_found_by_the_names_the_app_sends_between_at_signs(people):
    assert ids(get("patient", first_name="@an@", last_name="@silv@", is_deleted="false")) == ["P1", "P2"]
    assert ids(get("patient", first_name="@ANAB@")) == ["P2"]
    assert ids(get("patient", last_name="@costa@")) == ["P3"]


def test_patients_are_found_by_date_of_birth_barcode_and_policy_number(people):
    assert ids(get("patient", dob="03021990")) == ["P3", "P1"]  # Costa before Silva
    assert ids(get("patient", dob="03021990", first_name="@ana@")) == ["P1"]
    assert ids(get("patient", barcode="@bc-001@")) == ["P1"]
    assert ids(get("patient", policy_number="@nhi-778@")) == ["P3"]


def test_a_patient_comes_with_its_policies_and_notes_in_the_shape_the_app_reads(people):
    [found] = get("patient", policy_number="@NHI-778-01@").json()
    assert (found["first"], found["last"], found["date_of_birth"], found["female"]) == (
        "Bruno",
        "Costa",
        "1990-02-03",
        True,
    )
    [policy] = found["nameInsuranceJoin"]
    assert (policy["ID"], policy["nameID"], policy["discountRate"], policy["isActive"]) == (
        "POL1",
        "P3",
        20,
        True,
    )
    [note] = found["nameNotes"]
    assert (note["ID"], note["name_ID"], note["note"]) == ("NOTE1", "P3", "allergic to penicillin")


def test_limit_and_offset_page_through_the_matches(people):
    assert ids(get("patient", last_name="@s@", limit=1, offset=0)) == ["P1"]
    assert ids(get("patient", last_name="@s@", limit=1, offset=1)) == ["P2"]
    assert ids(get("patient", last_name="@s@", limit=1, offset=2)) == []


def test_no_match_is_an_empty_list(people):
    assert get("patient", first_name="@zed@").json() == []
    assert get("prescriber", last_name="@nobody@").json() == []
    assert get("patient_history", id="P1").json() == []


def test_a_deleted_patient_is_found_only_when_asked_for(people):
    primary_delete("name", "P2")
    assert ids(get("patient", last_name="@silv@", is_deleted="false")) == ["P1"]
    assert ids(get("patient", last_name="@silv@", is_deleted="true")) == ["P2"]


@pytest.mark.parametrize(
    ("path", "query", "words"),
    [
        ("patient", {"dob": "31-12-1985"}, "'dob' must be a date as DDMMYYYY"),
        ("patient", {"dob": "31021985"}, "'dob' must be a date as DDMMYYYY"),
        ("patient", {"limit": "ten"}, "'limit' must be a whole number"),
        ("patient", {"limit": "0"}, "'limit' must be between 1 and 500"),
        ("patient", {"offset": "-1"}, "'offset' must be 0 or more"),
        ("patient", {"is_deleted": "maybe"}, "'is_deleted' must be true or false"),
        ("patient", {"first_name": "@" + "a" * 101 + "@"}, "longer than 100 characters"),
        ("prescriber", {"limit": "501"}, "'limit' must be between 1 and 500"),
        ("patient_history", {}, "'id' (the patient's name ID) is required"),
    ],
)
def test_bad_parameters_are_refused_in_words(people, path: str, query: dict[str, str], words: str):
    assert words in json_error(get(path, **query), 400)


def test_prescribers_are_found_by_name_and_registration_code(people):
    [found] = get("prescriber", first_name="@mar@", last_name="@lop@").json()
    assert (found["ID"], found["registration_code"], found["store_ID"]) == ("C1", "REG-55", "STORE3")
    assert ids(get("prescriber", code="@reg-5@")) == ["C1"]


def test_the_history_lists_the_patients_prescriptions_in_every_store_with_lines_items_and_prescriber(people):
    primary_upsert(
        "item", "VAX", {"ID": "VAX", "code": "V1", "item_name": "Vaccine", "doses": "2", "is_vaccine": "true"}
    )
    client = client_for(make_site(5, stores=["STORE5"]))
    prescription = {
        "ID": "RX1",
        "store_ID": "STORE5",
        "name_ID": "P1",
        "type": "ci",
        "status": "fn",
        "mode": "dispensary",
        "prescriber_ID": "C1",
        "confirm_date": "2026-11-30",
    }
    line = {"ID": "RXL1", "transaction_ID": "RX1", "item_ID": "VAX", "item_name": "Vaccine", "quantity": "3"}
    body = client.push(
        [
            record("transact", "RX1", prescription, sync_id="s1", store_id="STORE5"),
            record("trans_line", "RXL1", line, sync_id="s2", store_id="STORE5"),
        ]
    )
    assert body["applied"] == 2

    [entry] = get("patient_history", id="P1").json()
    assert (entry["ID"], entry["confirm_date"]) == ("RX1", "2026-11-30")
    assert (entry["clinician"]["first_name"], entry["clinician"]["last_name"]) == ("Maria", "Lopes")
    [history_line] = entry["transLines"]
    assert (history_line["ID"], history_line["quantity"], history_line["item_name"]) == ("RXL1", 3, "Vaccine")
    item = history_line["itemLine"]["item"]
    assert (item["code"], item["doses"], item["is_vaccine"]) == ("V1", 2, True)
    assert history_line["medicineAdministrator"] is None


def test_the_look_ups_need_an_active_sites_credentials(people, sites):
    for path in ("patient", "prescriber", "patient_history?id=P1"):
        assert "wrong password" in json_error(get(path, password="nope"), 401)
    assert json_error(Client().get("/api/v4/patient"), 401)
    sites[3].is_active = False
    sites[3].save()
    assert json_error(get("patient", site="site3"), 401)


def test_every_site_searches_the_whole_system(people):
    make_site(7, stores=[])
    assert ids(get("patient", site="site7", last_name="@silv@")) == ids(get("patient", last_name="@silv@"))
    assert ids(get("prescriber", site="site7", last_name="@lop@")) == ["C1"]


def test_the_look_ups_answer_a_site_bound_to_its_device_without_the_device_header(people):
    bound = client_for(make_site(6))
    assert bound.count() == 0  # binds site 6 to its device
    assert ids(get("patient", site="site6", first_name="@bruno@")) == ["P3"]


def test_making_a_patient_visible_joins_it_to_the_store_and_queues_it_with_its_policies(people, sites):
    site2, site3 = client_for(sites[2]), client_for(sites[3])
    site2.drain()
    site3.drain()

    response = post("name_store_join", {"store_ID": "STORE2", "name_ID": "P3"})

    assert response.status_code == 200, response.content
    join_id = response.json()["ID"]
    pulled = site2.drain()
    assert [(r["RecordType"], r["RecordID"]) for r in pulled] == [
        ("name", "P3"),
        ("nameInsuranceJoin", "POL1"),
        ("name_note", "NOTE1"),
        ("name_store_join", join_id),
    ]
    assert (pulled[3]["data"]["name_ID"], pulled[3]["data"]["store_ID"]) == ("P3", "STORE2")
    stored = Record.objects.get(record_type_id="name_store_join", record_id=join_id)
    assert (stored.store_id, stored.ref_id, stored.source_site_id) == ("STORE2", "P3", 1)
    # The other site hears nothing of it; the patient is in the store's mobile dump from now on.
    assert site3.count() == 0
    site2.initial_dump()
    assert ("name", "P3") in {(r["RecordType"], r["RecordID"]) for r in site2.drain()}


def test_asking_again_for_a_visible_patient_creates_no_second_join(people, sites):
    first = post("name_store_join", {"store_ID": "STORE2", "name_ID": "P1"}).json()
    again = post("name_store_join", {"store_ID": "STORE2", "name_ID": "P1"}).json()

    assert (first["created"], again["created"], again["ID"]) == (True, False, first["ID"])
    assert Record.objects.filter(record_type_id="name_store_join").count() == 1


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"store_ID": "STORE3", "name_ID": "P1"}, 403, "Store STORE3 is not active on this site"),
        ({"store_ID": "STORE2", "name_ID": "NOBODY"}, 404, "There is no name NOBODY"),
        ({"store_ID": "STORE2"}, 400, "needs name_ID as text"),
        (["STORE2", "P1"], 400, '{"store_ID"'),
        (b"{not json", 400, "not valid JSON"),
    ],
)
def test_a_refused_join_says_why_and_changes_nothing(people, sites, body: Any, status: int, words: str):
    client_for(sites[2]).drain()
    response = post("name_store_join", body)
    assert words in json_error(response, status)
    assert not Record.objects.filter(record_type_id="name_store_join").exists()
    assert client_for(sites[2]).count() == 0


def test_another_sites_credentials_cannot_join_a_patient_to_this_sites_store(people, sites):
    response = post("name_store_join", {"store_ID": "STORE2", "name_ID": "P1"}, site="site3")
    assert "not active on this site" in json_error(response, 403)


def test_the_index_is_rebuilt_from_the_stored_records(people):
    SearchSuffix.objects.all().delete()
    SearchEntry.objects.all().delete()
    assert ids(get("patient", first_name="@ana@")) == []

    # Three patients, one policy, one clinician; the supplier is no patient.
    assert rebuild_index() == 5

    assert ids(get("patient", first_name="@ana@")) == ["P1", "P2"]
    assert SearchEntry.objects.count() == 5


def test_each_history_line_names_its_medicine_administrator_as_the_app_reads_it(people):
    primary_upsert("item", "VAX", {"ID": "VAX", "code": "V1", "item_name": "Vaccine", "is_vaccine": "true"})
    primary_upsert(
        "medicine_administrator",
        "MA1",
        {"ID": "MA1", "first_name": "Rosa", "last_name": "Teixeira", "code": "VAC-7", "is_active": True},
    )
    client = client_for(make_site(5, stores=["STORE5"]))
    prescription = {"ID": "RX2", "store_ID": "STORE5", "name_ID": "P1", "type": "ci", "status": "fn"}
    lines = {
        # The app pushes the lower-case spelling; the registry's is medicine_administrator_ID.
        "L1": {"medicine_administrator_id": "MA1"},
        "L2": {"medicine_administrator_ID": "MA1"},
        "L3": {"medicine_administrator_id": "NOBODY"},
        "L4": {},
    }
    body = client.push(
        [
            record("transact", "RX2", prescription, sync_id="t0", store_id="STORE5"),
            *(
                record(
                    "trans_line",
                    line_id,
                    {"ID": line_id, "transaction_ID": "RX2", "item_ID": "VAX", "quantity": "1", **extra},
                    sync_id=f"t{line_id}",
                    store_id="STORE5",
                )
                for line_id, extra in lines.items()
            ),
        ]
    )
    assert body["applied"] == 5

    [entry] = get("patient_history", id="P1").json()
    administrators = {line["ID"]: line["medicineAdministrator"] for line in entry["transLines"]}
    assert administrators["L3"] is None and administrators["L4"] is None
    for line_id in ("L1", "L2"):
        found = administrators[line_id]
        assert (found["ID"], found["first_name"], found["last_name"], found["code"]) == (
            "MA1",
            "Rosa",
            "Teixeira",
            "VAC-7",
        )

    primary_delete("medicine_administrator", "MA1")
    [entry] = get("patient_history", id="P1").json()
    assert [line["medicineAdministrator"] for line in entry["transLines"]] == [None] * 4
