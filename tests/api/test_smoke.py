import pytest

from apps.records.canonical import wire_record
from tests.support import client_for, make_site, record

pytestmark = pytest.mark.django_db


def test_a_store_record_pushed_by_one_site_is_pulled_only_by_its_transfer_partner():
    site2 = make_site(2)
    site3 = make_site(3)
    make_site(4)
    pusher = client_for(site2)
    body = pusher.push(
        [
            record(
                "transact",
                "T1",
                {"ID": "T1", "store_ID": "STORE2", "name_ID": "NAME_STORE3"},
                sync_id="s1",
                store_id="STORE2",
            )
        ]
    )
    assert body["applied"] == 1
    receiver = client_for(site3)
    pulled = receiver.pull()
    assert [r["RecordID"] for r in pulled] == ["T1"]
    assert pulled[0]["data"] == wire_record(
        "transact", {"ID": "T1", "store_ID": "STORE2", "name_ID": "NAME_STORE3"}
    )
    assert pusher.count() == 0
