"""The agent's status: as a dictionary, and on its loopback HTTP endpoint with the calls a
FERRED-style application polls."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest

from apps.sites.models import Store
from syncagent.statusapi import serve_status
from tests.support import primary_upsert

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def endpoint():
    servers = []

    def start(agent) -> str:
        server = serve_status(agent, port=0)
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def call(url: str, method: str = "GET") -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_status_counts_entries_and_says_online_site_store_and_last_cycle(satellite):
    a = satellite(2)
    a.agent.enqueue(
        record_type="name", record_id="N1", data={"ID": "N1", "type": "patient", "name": "Clinic"}
    )
    a.agent.enqueue(record_type="Location", record_id="L3", data={"ID": "L3", "store_ID": "STORE3"})
    before = a.agent.status()
    assert before["online"] is False and before["last_cycle"] is None

    a.agent.cycle()
    a.agent.enqueue(record_type="name", record_id="N2", data={"ID": "N2", "type": "patient", "name": "Shop"})

    status = a.agent.status()
    assert status["outbox"] == {"pending": 1, "synced": 1, "error": 1, "inbound_errors": 0}
    assert status["online"] is True
    assert (status["site"], status["store"]) == ({"name": "site2", "id": 2}, "STORE2")
    assert status["last_cycle"]["pushed"] == 2 and status["last_cycle"]["quarantined"] == 1


def test_an_unreachable_primary_is_offline_with_the_last_error(satellite):
    a = satellite(2)
    a.agent.cycle()
    a.proxy.inject("drop_before")

    a.agent.cycle()

    status = a.agent.status()
    assert status["online"] is False
    assert "unreachable" in status["last_error"]["message"]


def test_the_ferred_calls_report_online_pending_and_snapshots(satellite, endpoint):
    a = satellite(2)
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Paracetamol"})
    a.agent.enqueue(
        record_type="name", record_id="N1", data={"ID": "N1", "type": "patient", "name": "Clinic"}
    )
    url = endpoint(a.agent)
    assert call(url + "/api/inventario/status") == (200, {"online": False})

    a.agent.cycle()
    a.agent.enqueue(record_type="name", record_id="N2", data={"ID": "N2", "type": "patient", "name": "Shop"})

    assert call(url + "/api/inventario/status") == (200, {"online": True})
    assert call(url + "/api/inventario/sync-pendientes") == (
        200,
        {"pending": 1, "synced": 1, "errors": 0, "online": True, "branch": "STORE2"},
    )
    assert call(url + "/api/sync/snapshot/status") == (
        200,
        {"online": True, "branch": "STORE2", "lastSnapshot": None},
    )
    status, snapshot = call(url + "/api/sync/snapshot?full=true", "POST")
    assert status == 200
    # Everything routed to the site, its own patients (central names) included.
    assert (
        snapshot["counts"] == {"item": 1, "name": 2, "store": 2}
        and snapshot["total"] == 5
        and snapshot["full"] is True
    )
    assert a.agent.status()["outbox"]["pending"] == 0  # a snapshot pushes what is pending first
    status, body = call(url + "/api/sync/snapshot/status")
    assert body["lastSnapshot"]["at"] == snapshot["timestamp"]
    assert call(url + "/api/sync/snapshot?full=false", "POST")[1]["total"] == 0


def test_snapshot_calls_need_a_store_and_a_reachable_primary(satellite, endpoint, sites):
    Store.objects.filter(pk="STORE2").delete()
    storeless = satellite(2, site_id=2)
    url = endpoint(storeless.agent)
    storeless.agent.cycle()

    status, body = call(url + "/api/sync/snapshot/status")
    assert status == 400 and "no store" in body["error"]
    assert call(url + "/api/sync/snapshot?full=true", "POST")[0] == 400

    b = satellite(3)
    b.agent.cycle()
    b_url = endpoint(b.agent)
    b.proxy.inject("drop_before", "drop_before")
    status, body = call(b_url + "/api/sync/snapshot?full=true", "POST")
    assert status == 503 and "unreachable" in body["error"]
    assert call(b_url + "/api/inventario/status") == (200, {"online": False})
    assert call(b_url + "/api/sync/snapshot?full=maybe", "POST")[0] == 400
    assert call(b_url + "/api/nothing")[0] == 404


def test_the_endpoint_listens_on_loopback_only(satellite):
    server = serve_status(satellite(2).agent, port=0)
    try:
        assert server.server_address[0] == "127.0.0.1"
        outward = [
            address
            for *_, (address, *_) in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
            if not address.startswith("127.")
        ]
        for address in outward:  # where the machine has another address, nothing answers there
            with pytest.raises(OSError), socket.create_connection((address, server.server_address[1]), 5):
                pass
    finally:
        server.shutdown()
        server.server_close()
