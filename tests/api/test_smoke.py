import pytest

from apps.records.transfers import counterpart_id
from tests.support import client_for, make_site, record

pytestmark = pytest.mark.django_db


def test_an_invoice_pushed_by_one_site_reaches_only_its_transfer_partner_as_a_supplier_invoice():
    site2 = make_site(2)
    site3 = make_site(3)
    site4 = make_site(4)
    pusher = client_for(site2)
    invoice = {"ID": "T1", "store_ID": "STORE2", "name_ID": "NAME_STORE3", "type": "ci", "status": "fn"}
    body = pusher.push([record("transact", "T1", invoice, sync_id="s1", store_id="STORE2")])
    assert body["applied"] == 1
    receiver = client_for(site3)
    pulled = receiver.pull()
    assert [r["RecordID"] for r in pulled] == [counterpart_id("si", "T1", "STORE3")]
    data = pulled[0]["data"]
    assert (data["store_ID"], data["name_ID"], data["linked_transaction_id"]) == (
        "STORE3",
        "NAME_STORE2",
        "T1",
    )
    assert pusher.count() == 0
    assert client_for(site4).count() == 0
