"""Property: for every table in the registry, v1 -> store -> v3 and v3 -> store -> v1 keep every field.

Each example writes one record with random values in a random subset of the table's fields (plus its
key, and its store where it has one) in one format, and reads it back in the other, mapping numbers
through the published schema as a v1 integrator would. Records travel the way real ones do:
- store and transfer data is pushed over HTTP by the site where its store is active, and read back by
  that site's re-install (initial_dump type=full), since a push is never echoed to its pusher;
- central data a satellite may create (patients in `name`) is pushed over HTTP the same way and read by
  another site from its queue;
- other central data is edited on the primary only, so the v1 (or v3) body goes through the same codec
  function the endpoint uses and then `apply_primary_changes`; another site reads it from its queue.
"""

from __future__ import annotations

import itertools
from typing import Any

import orjson
import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.api.codecs import fields as v1_codec
from apps.api.codecs import named as v3_codec
from apps.queue.services import apply_primary_changes
from apps.records.changes import wire_value
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
v1_values = st.text(max_size=24)
# A v3 client may send typed values; what any client pulls is their string form.
v3_values = st.one_of(st.text(max_size=24), st.integers(-(10**12), 10**12), st.booleans(), st.none())


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
    """What the example does not randomise: the key, and the store that makes the pusher the owner."""
    fixed = {spec.key_field: record_id}
    if not spec.is_central and spec.store_field:
        fixed[spec.store_field] = OWN_STORE
    return fixed


def draw_record(
    data: st.DataObject, spec: RecordTypeSpec, values: st.SearchStrategy[Any]
) -> tuple[str, dict]:
    record_id = f"{next(fresh_ids)}-{data.draw(id_suffixes)}"
    fixed = fixed_fields(spec, record_id)
    free = [name for name in spec.fields if name not in fixed]
    chosen = data.draw(
        st.dictionaries(st.sampled_from(free), values, max_size=len(free)) if free else st.just({})
    )
    return record_id, {**chosen, **fixed}


def write(spec: RecordTypeSpec, body: list[dict[str, Any]], pusher: SyncClient, codec: Any) -> None:
    if spec.is_central and not spec.satellite_may_create:
        changes, refused = codec.decode_records(orjson.loads(orjson.dumps(body)))
        assert refused == []
        written = apply_primary_changes(changes=changes)
        assert written.refused == []
        return
    result = pusher.push(body)
    assert (result["applied"], result["quarantined"]) == (1, 0), result


def read_back(spec: RecordTypeSpec, sites: tuple[Site, Site], version: str, record_id: str) -> dict:
    """The record as the routed site pulls it: another site's queue for central data, else a re-install."""
    own, other = sites
    if spec.is_central:
        received = client_for(other, version=version).drain()
    else:
        reader = client_for(own, version=version)
        reader.initial_dump(full=True)
        received = reader.drain()
    # Both formats name the table: v3 by name, v1 by number.
    table = "RecordType" if version == "v3" else "TableNumber"
    wanted = spec.name if version == "v3" else spec.table_number
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
    record_id, values = draw_record(data, spec, v1_values)
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
    assert pulled["data"] == values
    assert pulled["StoreID"] == ("" if spec.is_central else OWN_STORE)


@pytest.mark.parametrize("table", TABLES)
@EXAMPLES
@given(data=st.data())
def test_a_record_pushed_in_v3_is_pulled_in_v1_with_every_field(
    table: str, sites: tuple[Site, Site], schema: dict[str, dict[str, Any]], data: st.DataObject
) -> None:
    spec = REGISTRY.types[table]
    published = schema[table]
    names = {field["number"]: field["name"] for field in published["fields"]}
    record_id, values = draw_record(data, spec, v3_values)
    body = [
        {
            "SyncID": f"v3-{record_id}",
            "RecordType": table,
            "RecordID": record_id,
            "SyncType": "I",
            "StoreID": "" if spec.is_central else OWN_STORE,
            "Data": values,
        }
    ]
    write(spec, body, client_for(sites[0], version="v3"), v3_codec)

    pulled = read_back(spec, sites, "v1", record_id)
    assert pulled["KeyFieldID"] == published["KeyFieldID"]
    assert all(isinstance(value, str) for value in pulled["values"])
    by_name = {names[number]: value for number, value in zip(pulled["fields"], pulled["values"], strict=True)}
    assert by_name == {name: wire_value(value) for name, value in values.items()}
