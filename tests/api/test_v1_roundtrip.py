"""Property: any record of any registry table survives push -> pull between v1, v2 and v3.

Each example writes one record with a random subset of the table's fields (plus its key, and its store
where it has one), each with a random value valid for the field's type in any of the forms clients send
(typed JSON, text, ISO timestamps, seconds since midnight, ...), names spelled in any case, in one
format, and reads it back in another, mapping numbers through the published schema as a v1 integrator
would. The record comes back whole: every field of the table, each the canonical text of its type
(the empty value of its type for a field not sent). Records travel the way real ones do:
- store and transfer data is pushed over HTTP by the site where its store is active, and read back by
  that site's re-install (initial_dump type=full), since a push is never echoed to its pusher;
- central data a satellite may create (patients in `name`) is pushed over HTTP the same way and read by
  another site from its queue;
- other central data is edited on the primary only, so the v1 (or v3) body goes through the same codec
  function the endpoint uses and then `primary_changes_apply`; another site reads it from its queue.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any

import orjson
import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.api.codecs import named as v3_codec
from apps.api.codecs import numbered as v1_codec
from apps.queue.services import primary_changes_apply
from apps.records.fieldtypes import EMPTY_WIRE, text_wire, to_wire
from apps.records.registry import RecordTypeSpec, get_registry
from apps.sites.models import Site
from tests.support import SyncClient, client_for, make_site

pytestmark = pytest.mark.django_db

REGISTRY = get_registry()
TABLES = sorted(REGISTRY.types)
OWN_STORE = "STORE2"

# Function-scoped fixtures (the sites, the schema) are shared by a test's examples on purpose: each
# example writes a record with a fresh id, so earlier examples do not disturb it.
EXAMPLES = settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
fresh_ids = itertools.count(1)

# Real ids are hex or UUIDs; the counter prefix makes each example's record new.
id_suffixes = st.text(alphabet="0123456789abcdef-", max_size=32)
_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
_moments = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 12, 30))
_finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
# Every form a client sends a value of each type in.
TYPED_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "text": st.one_of(st.text(max_size=24), st.none()),
    "integer": st.one_of(st.integers(-(10**12), 10**12), st.integers(-(10**6), 10**6).map(str), st.none()),
    "real": st.one_of(st.integers(-(10**9), 10**9), _finite, _finite.map(repr), st.just("")),
    "boolean": st.one_of(st.booleans(), st.sampled_from(["true", "false", "True", "FALSE", "1", "0"])),
    "date": st.one_of(
        _dates.map(date.isoformat),
        _moments.map(lambda m: m.isoformat(timespec="milliseconds") + "Z"),  # the mobile app's form
        st.sampled_from(["0000-00-00", "", "0000-00-00T00:00:00"]),
    ),
    "time": st.one_of(st.integers(0, 86399), st.times().map(lambda t: t.strftime("%H:%M:%S")), st.just("")),
    "datetime": st.one_of(
        _moments.map(lambda m: m.isoformat(timespec="seconds")),
        _moments.map(lambda m: m.isoformat(timespec="milliseconds") + "Z"),
        st.just("0000-00-00"),
    ),
    "json": st.one_of(
        st.none(),
        st.dictionaries(st.text(max_size=4), st.integers(-(2**53), 2**53), max_size=2),
        st.lists(st.integers(-(2**53), 2**53), max_size=3),
    ),
}
spellings = st.sampled_from([str, str.lower, str.upper])


@pytest.fixture
def sites() -> tuple[Site, Site]:
    return make_site(2, stores=[OWN_STORE]), make_site(3)


@pytest.fixture
def schema() -> dict[str, dict[str, Any]]:
    """The published registry, by table name: how an integrator maps names to numbers and back."""
    response = Client().get("/sync/v1/schema")
    assert response.status_code == 200
    return {table["name"]: table for table in response.json()["tables"]}


def fixed_fields(spec: RecordTypeSpec, record_id: str) -> dict[str, str]:
    """What the example does not randomise: the key, the store that makes the pusher the owner, and
    what a satellite's record of the table must be (a patient, for names)."""
    fixed = {spec.key_field: record_id}
    if not spec.is_central and spec.store_field:
        fixed[spec.store_field] = OWN_STORE
    for name, allowed in spec.satellite_only_when.items():
        fixed[name] = allowed[0]
    if spec.name == "store":
        fixed["sync_id_remote_site"] = "1"  # a store record names an existing site (1: the primary)
    return fixed


def draw_record(data: st.DataObject, spec: RecordTypeSpec, *, as_text: bool) -> tuple[str, dict, dict]:
    """A record id, the fields to send (any case; text only for v1), and the whole record expected."""
    record_id = f"{next(fresh_ids)}-{data.draw(id_suffixes)}"
    fixed = fixed_fields(spec, record_id)
    free = [name for name in spec.fields if name not in fixed]
    chosen = data.draw(st.lists(st.sampled_from(free), unique=True, max_size=12)) if free else []
    values = {name: data.draw(TYPED_VALUES[spec.field_types[name]]) for name in chosen}
    if as_text:
        values = {name: text_wire(value) for name, value in values.items()}
    values.update(fixed)
    expected = {name: EMPTY_WIRE[spec.field_types[name]] for name in spec.fields}
    expected.update({name: to_wire(spec.field_types[name], value) for name, value in values.items()})
    return record_id, values, expected


def spelled(data: st.DataObject, values: dict[str, Any]) -> dict[str, Any]:
    """The same fields with each name in a random case, as different clients spell them."""
    return {data.draw(spellings)(name): value for name, value in values.items()}


def write(spec: RecordTypeSpec, body: list[dict[str, Any]], pusher: SyncClient, codec: Any) -> None:
    if spec.is_central and not spec.satellite_may_create:
        changes, refused = codec.decode_records(orjson.loads(orjson.dumps(body)))
        assert refused == []
        written = primary_changes_apply(changes=changes)
        assert written.refused == []
        return
    result = pusher.push(body)
    assert (result["applied"], result["quarantined"]) == (1, 0), result


def read_back(
    spec: RecordTypeSpec, sites: tuple[Site, Site], version: str, record_id: str, *, dump: bool = False
) -> dict:
    """The record as the routed site pulls it: another site's queue for central data, else a re-install."""
    own, other = sites
    if spec.is_central:
        reader = client_for(other, version=version)
        if dump:
            reader.initial_dump(full=True)
        received = reader.drain()
    else:
        reader = client_for(own, version=version)
        reader.initial_dump(full=True)
        received = reader.drain()
    # Both formats name the table: v3 by name, v1 by number.
    table = "RecordType" if version != "v1" else "TableNumber"
    wanted = spec.name if version != "v1" else spec.table_number
    matches = [r for r in received if (r[table], r["RecordID"]) == (wanted, record_id)]
    assert len(matches) == 1, (spec.name, received)
    return matches[0]


@pytest.mark.parametrize("table", TABLES)
@EXAMPLES
@given(data=st.data())
def test_a_record_pushed_in_v1_is_pulled_in_v3_with_every_field(
    table: str, sites: tuple[Site, Site], schema: dict[str, dict[str, Any]], data: st.DataObject
) -> None:
    spec = REGISTRY.types[table]
    published = schema[table]
    numbers = {field["name"]: field["number"] for field in published["fields"]}
    record_id, values, expected = draw_record(data, spec, as_text=True)
    body = [
        {
            "SyncID": f"v1-{record_id}",
            "TableNumber": published["TableNumber"],
            "RecordID": record_id,
            "KeyFieldID": published["KeyFieldID"],
            "SyncType": "I",
            "StoreID": "" if spec.is_central else OWN_STORE,
            "fields": [numbers[name] for name in values],
            "values": list(values.values()),
        }
    ]
    write(spec, body, client_for(sites[0], version="v1"), v1_codec)

    pulled = read_back(spec, sites, "v3", record_id)
    assert pulled["data"] == expected
    assert pulled["StoreID"] == ("" if spec.is_central else OWN_STORE)


@pytest.mark.parametrize("table", TABLES)
@EXAMPLES
@given(data=st.data())
def test_a_record_pushed_in_v3_in_any_case_is_pulled_whole_in_v1_and_v2(
    table: str, sites: tuple[Site, Site], schema: dict[str, dict[str, Any]], data: st.DataObject
) -> None:
    spec = REGISTRY.types[table]
    published = schema[table]
    names = {field["number"]: field["name"] for field in published["fields"]}
    record_id, values, expected = draw_record(data, spec, as_text=False)
    body = [
        {
            "SyncID": f"v3-{record_id}",
            "RecordType": table,
            "RecordID": record_id,
            "SyncType": "I",
            "StoreID": "" if spec.is_central else OWN_STORE,
            "Data": spelled(data, values),
        }
    ]
    write(spec, body, client_for(sites[0], version="v3"), v3_codec)

    pulled = read_back(spec, sites, "v1", record_id)
    assert pulled["KeyFieldID"] == published["KeyFieldID"]
    assert all(isinstance(value, str) for value in pulled["values"])
    by_name = {names[number]: value for number, value in zip(pulled["fields"], pulled["values"], strict=True)}
    assert by_name == expected
    # The same record, as a v2 site reads it (a re-install, so it is queued again).
    again = read_back(spec, sites, "v2", record_id, dump=True)
    assert again["data"] == expected
