"""initial_dump's `type`, as the mSupply sync API document says, in v1, v2 and v3 alike.

"If type is missing, or has any other value, then only the subset of sync records necessary for a
mobile store will be generated": only `full` (in any case) gives everything, and the answer says which.
"""

from __future__ import annotations

import pytest

from apps.queue.models import SyncLog
from tests.support import SyncClient, client_for, make_site, primary_upsert

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["v1", "v2", "v3"])
def sat(request: pytest.FixtureRequest) -> SyncClient:
    """Site 2 with a catalogue of items I1 (joined to its store) and I2 (joined to site 3's only)."""
    site = client_for(make_site(2), version=request.param)
    make_site(3)
    primary_upsert("item_store_join", "J1", {"ID": "J1", "item_ID": "I1", "store_ID": "STORE2"})
    primary_upsert("item_store_join", "J2", {"ID": "J2", "item_ID": "I2", "store_ID": "STORE3"})
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Paracetamol"})
    primary_upsert("item", "I2", {"ID": "I2", "item_name": "Amoxicillin"})
    site.drain()
    return site


# Every dump also carries the central records of the stores (STORE2, STORE3).
MOBILE_IDS = ["I1", "J1", "STORE2", "STORE3"]
FULL_IDS = ["I1", "I2", "J1", "STORE2", "STORE3"]


def dump(sat: SyncClient, dump_type: str | None) -> dict:
    response = sat.get("initial_dump", type=dump_type)
    assert response.status_code == 200, response.content
    return response.json()


def drained_ids(sat: SyncClient) -> list[str]:
    return sorted(r["RecordID"] for r in sat.drain())


@pytest.mark.parametrize("dump_type", ["full", "FULL", "Full"])
def test_full_in_any_case_dumps_everything_and_says_full(sat, dump_type):
    body = dump(sat, dump_type)

    assert body == {"error": "", "type": "full", "NumRecords": len(FULL_IDS)}
    assert drained_ids(sat) == FULL_IDS


@pytest.mark.parametrize("dump_type", [None, "", "mobile", "everything", "fullest", "1"])
def test_a_missing_or_any_other_type_dumps_the_mobile_subset_and_says_mobile(sat, dump_type):
    body = dump(sat, dump_type)

    assert body == {"error": "", "type": "mobile", "NumRecords": len(MOBILE_IDS)}
    assert drained_ids(sat) == MOBILE_IDS


def test_a_post_reads_the_type_from_the_query_like_a_get(sat):
    response = sat.post("initial_dump", b"", type="full")

    assert response.status_code == 200, response.content
    assert response.json()["type"] == "full"
    assert drained_ids(sat) == FULL_IDS


@pytest.mark.parametrize(
    ("dump_type", "words", "queued"),
    [
        ("everything", "type='everything': mobile dump", len(MOBILE_IDS)),
        ("FULL", "type='FULL': full dump", len(FULL_IDS)),
        (None, "type missing: mobile dump", len(MOBILE_IDS)),
    ],
)
def test_the_sync_log_notes_the_type_received(sat, dump_type, words, queued):
    dump(sat, dump_type)

    row = SyncLog.objects.get(site_id=2, call="initial_dump")
    assert (row.api_version, row.status_code, row.queued, row.note) == (sat.version, 200, queued, words)
