"""The look-ups' `@text@` means "contains", served by the suffix index (through HTTP, both databases)."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.lookups import selectors
from apps.lookups.indexing import rebuild_index
from apps.lookups.models import MIN_CONTAINS, SUFFIX_LENGTH, SearchSuffix
from apps.queue.services import primary_changes_apply
from apps.records.changes import Change
from tests.lookups.test_api_v4 import get, ids, patient
from tests.support import client_for, make_site, primary_delete, primary_upsert, record

pytestmark = pytest.mark.django_db

LONG_LAST = "Wolfeschlegelsteinhausenbergerdorff-Albuquerque"


@pytest.fixture(params=["few matches", "many matches"])
def people(request, monkeypatch) -> None:
    """The same answers whichever way the index is read: candidates by primary key (a text few keys
    contain) or the subquery (a text more than MAX_CANDIDATES keys contain; here more than one)."""
    if request.param == "many matches":
        monkeypatch.setattr(selectors, "MAX_CANDIDATES", 1)
    make_site(2)
    patient("P1", "Ana", "Silva", barcode="BC-00917")
    patient("P2", "Anabel", "Silvestre")
    patient("P3", "Mariana", "Vasconcelos", barcode="XBC-2")
    patient("P4", "Joana", LONG_LAST)
    primary_upsert("name", "S1", {"ID": "S1", "type": "facility", "first": "Ana", "last": "Silvano"})
    primary_upsert(
        "nameInsuranceJoin",
        "POL1",
        {"ID": "POL1", "nameID": "P3", "policyNumberFull": "NHI-778-01", "isActive": "true"},
    )
    primary_upsert(
        "clinician", "C1", {"ID": "C1", "first_name": "Maria", "last_name": "Lopes", "code": "REG-55-X"}
    )
    primary_upsert(
        "clinician", "C2", {"ID": "C2", "first_name": "Rosario", "last_name": "Dias", "code": "AB-1"}
    )


def test_a_text_in_the_middle_of_a_last_or_first_name_finds_the_patient(people):
    assert ids(get("patient", last_name="@vest@")) == ["P2"]
    assert ids(get("patient", last_name="@LV@")) == []  # two characters: a prefix, see below
    assert ids(get("patient", first_name="@ana@")) == ["P1", "P2", "P3", "P4"]  # by last name
    assert ids(get("patient", first_name="@iAn@")) == ["P3"]
    assert ids(get("patient", first_name="@ana@", last_name="@ilv@")) == ["P1", "P2"]


def test_a_text_in_the_middle_of_a_barcode_or_policy_number_finds_the_patient(people):
    assert ids(get("patient", barcode="@c-00@")) == ["P1"]
    assert ids(get("patient", barcode="@BC-@")) == ["P1", "P3"]
    assert ids(get("patient", policy_number="@778@")) == ["P3"]
    assert ids(get("patient", policy_number="@-01@", first_name="@mari@")) == ["P3"]


def test_a_text_in_the_middle_of_a_prescribers_name_or_code_finds_the_prescriber(people):
    assert ids(get("prescriber", code="@55-x@")) == ["C1"]
    assert ids(get("prescriber", last_name="@ope@")) == ["C1"]
    assert ids(get("prescriber", first_name="@ari@")) == ["C2", "C1"]  # Dias before Lopes
    assert ids(get("prescriber", first_name="@ari@", code="@ab-@")) == ["C2"]


def test_texts_longer_than_the_indexed_suffixes_are_checked_whole(people):
    inside = LONG_LAST[5:40].lower()
    assert len(inside) > SUFFIX_LENGTH
    assert ids(get("patient", last_name=f"@{inside}@")) == ["P4"]
    # The same first SUFFIX_LENGTH characters, then something the name does not contain.
    assert ids(get("patient", last_name=f"@{inside[:SUFFIX_LENGTH]}zzz@")) == []


def test_nothing_contains_the_text_answers_an_empty_list(people):
    for path, query in (
        ("patient", {"last_name": "@xyz@"}),
        ("patient", {"first_name": "@ana@", "last_name": "@vasq@"}),
        ("patient", {"policy_number": "@999@"}),
        ("prescriber", {"code": "@zz-9@"}),
    ):
        response = get(path, **query)
        assert response.status_code == 200
        assert response.json() == []


def test_one_or_two_characters_match_the_start_of_a_key(people):
    assert MIN_CONTAINS == 3
    assert ids(get("patient", last_name="@si@")) == ["P1", "P2"]
    assert ids(get("patient", last_name="@il@")) == []
    assert ids(get("patient", first_name="@a@")) == ["P1", "P2"]


def test_contains_keeps_the_order_limit_and_offset(people):
    assert ids(get("patient", first_name="@ana@")) == ["P1", "P2", "P3", "P4"]
    assert [ids(get("patient", first_name="@ana@", limit=2, offset=o)) for o in (0, 2, 4)] == [
        ["P1", "P2"],
        ["P3", "P4"],
        [],
    ]


def test_edits_deletes_and_type_changes_are_reflected(people):
    patient("P2", "Anabel", "Quintanilha")
    assert ids(get("patient", last_name="@vest@")) == []
    assert ids(get("patient", last_name="@tanil@")) == ["P2"]

    primary_delete("name", "P1")
    assert ids(get("patient", barcode="@c-00@")) == []
    assert ids(get("patient", barcode="@c-00@", is_deleted="true")) == ["P1"]

    # A patient that becomes a facility is no patient any more; its suffixes go with it.
    primary_upsert("name", "P3", {"ID": "P3", "type": "facility", "first": "Mariana", "last": "Vasconcelos"})
    assert ids(get("patient", first_name="@rian@")) == []
    assert not SearchSuffix.objects.filter(entry__record_id="P3").exists()

    primary_upsert(
        "clinician", "C1", {"ID": "C1", "first_name": "Maria", "last_name": "Lopes", "code": "Q-1"}
    )
    assert ids(get("prescriber", code="@55-x@")) == []
    primary_delete("clinician", "C2")
    assert ids(get("prescriber", first_name="@ari@")) == ["C1"]


def test_a_rebuilt_index_finds_the_same(people):
    before = ids(get("patient", first_name="@ana@"))
    suffixes = SearchSuffix.objects.count()
    SearchSuffix.objects.all().delete()
    assert ids(get("patient", first_name="@ana@")) == []

    rebuild_index()

    assert SearchSuffix.objects.count() == suffixes
    assert ids(get("patient", first_name="@ana@")) == before


def test_a_patient_pushed_by_a_site_is_found_by_contains():
    client = client_for(make_site(4))
    data = {"ID": "PX", "type": "patient", "first": "Teodora", "last": "Figueiredo", "store_ID": "STORE4"}
    assert client.push([record("name", "PX", data, sync_id="x1", store_id="STORE4")])["applied"] == 1
    assert ids(get("patient", site="site4", password="pass", last_name="@GUEIR@")) == ["PX"]


# -- The same answers as a plain "in", for any text -------------------------------------------------

FEW_LETTERS = "abn-"


@pytest.fixture(params=[2000, 5], ids=["candidates", "subquery"])
def random_patients(request, monkeypatch) -> dict[str, tuple[str, str]]:
    """Sixty patients named from four letters, so that texts match often and names repeat their
    pieces; some names are longer than the indexed suffixes."""
    monkeypatch.setattr(selectors, "MAX_CANDIDATES", request.param)
    make_site(2)
    rng = random.Random(11)
    names = {}
    for number in range(60):
        last, first = ("".join(rng.choice(FEW_LETTERS) for _ in range(rng.randint(1, 40))) for _ in "lf")
        patient(f"Q{number:02d}", first.upper() if number % 3 == 0 else first, last)
        names[f"Q{number:02d}"] = (last, first)
    return names


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(alphabet=FEW_LETTERS + "AB", min_size=1, max_size=32))
def test_a_search_answers_what_contains_the_text_in_order(random_patients, text: str):
    wanted = text.lower()

    def matches(key: str) -> bool:
        return wanted in key.lower() if len(wanted) >= MIN_CONTAINS else key.lower().startswith(wanted)

    expected = [
        patient_id
        for patient_id, (last, first) in sorted(
            random_patients.items(), key=lambda item: (item[1][0].lower(), item[1][1].lower(), item[0])
        )
        if matches(last)
    ]
    assert ids(get("patient", last_name=f"@{text}@", limit=500)) == expected
    by_first = {pid for pid, (_, first) in random_patients.items() if matches(first)}
    assert set(ids(get("patient", first_name=f"@{text}@", limit=500))) == by_first


# -- The search reads the index ---------------------------------------------------------------------


def many_patients(count: int) -> None:
    changes = [
        Change(
            record_type="name",
            record_id=f"N{i}",
            action="upsert",
            data={"ID": f"N{i}", "type": "patient", "first": f"Given{i}", "last": f"Family{i:05d}son"},
        )
        for i in range(count)
    ]
    assert not primary_changes_apply(changes=changes).refused


def explain(sql: str) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return [{"detail": row[-1]} for row in cursor.fetchall()]
        cursor.execute(f"EXPLAIN {sql}")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def search_queries(**query: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        found = ids(get("patient", **query))
    assert found == ["N123"]
    return [q["sql"] for q in captured.captured_queries if "lookups_search" in q["sql"]]


def test_a_contains_search_reads_the_suffix_index_and_the_entries_by_primary_key():
    make_site(2)
    many_patients(300)

    [suffix_sql, entries_sql] = search_queries(last_name="@y00123s@")

    assert "lookups_searchsuffix" in suffix_sql
    suffix_plan, entries_plan = explain(suffix_sql), explain(entries_sql)
    if connection.vendor == "sqlite":
        [suffix_step] = suffix_plan
        assert re.search(
            r"\bSEARCH \S+ USING COVERING INDEX search_suffix_idx \(kind=\? AND field=\? AND suffix>",
            suffix_step["detail"],
        ), suffix_plan
        assert any("USING INTEGER PRIMARY KEY" in step["detail"] for step in entries_plan), entries_plan
        assert not [s for s in suffix_plan + entries_plan if s["detail"].startswith("SCAN")]
    else:
        [suffix_step] = suffix_plan
        assert (suffix_step["key"], suffix_step["type"]) == ("search_suffix_idx", "range"), suffix_plan
        assert [(s["key"], s["type"] in ("const", "eq_ref", "range")) for s in entries_plan] == [
            ("PRIMARY", True)
        ], entries_plan
        assert not [s for s in suffix_plan + entries_plan if s["type"] == "ALL"]


def test_a_search_costs_the_same_number_of_queries_whatever_the_number_of_names():
    make_site(2)
    many_patients(30)
    assert ids(get("patient", last_name="@y00012s@")) == ["N12"]  # the site's first call
    with CaptureQueriesContext(connection) as small:
        assert ids(get("patient", last_name="@y00012s@")) == ["N12"]
    many_patients(300)
    with CaptureQueriesContext(connection) as large:
        assert ids(get("patient", last_name="@y00012s@")) == ["N12"]
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_index_is_kept_where_a_bulk_insert_returns_no_keys(monkeypatch):
    # MySQL (unlike MariaDB and SQLite) returns no keys from a bulk insert; the suffixes need them.
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    make_site(2)
    many_patients(12)
    patient("P9", "Ana", "Silvestre")
    assert ids(get("patient", last_name="@vest@")) == ["P9"]
    assert ids(get("patient", last_name="@y00011s@")) == ["N11"]
