"""The agent through a flaky network: attempts, backoff, Retry-After, the host's failures, and a
property test over random fault schedules (nothing lost, nothing applied twice)."""

from __future__ import annotations

import itertools

import orjson
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.queue.models import PushedSyncId
from apps.records.canonical import wire_record
from apps.records.models import Record
from apps.records.transfers import counterpart_id
from syncagent.state import ERROR, PENDING, SYNCED
from tests.support import primary_upsert

from .faults import FAULTS, RETRY_AFTER

pytestmark = pytest.mark.django_db(transaction=True)


def name_change(agent, record_id: str, label: str) -> str:
    return agent.enqueue(
        record_type="name", record_id=record_id, data={"ID": record_id, "type": "patient", "name": label}
    )


def test_a_change_that_fails_five_times_in_transit_becomes_an_error_and_waits_for_retry_errors(satellite):
    a = satellite(2)
    a.agent.cycle()  # learns its site id; from now on every cycle is: count, push
    sync_id = name_change(a.agent, "N1", "Clinic")
    # Each cycle: the count gets through, the push meets the fault.
    a.proxy.inject(
        *itertools.chain.from_iterable(("ok", f) for f in ("503", "drop_before", "429", "drop_after"))
    )
    a.proxy.inject("ok", "503")

    a.agent.run(cycles=5)

    (entry,) = a.agent.state.entries()
    assert (entry.status, entry.attempts) == (ERROR, 5)
    assert "503" in entry.last_error
    # Nothing more is tried until asked: a cycle pushes nothing.
    assert a.agent.cycle().pushed == 0
    assert a.agent.retry_errors()["requeued"] == 1
    assert a.agent.cycle().pushed == 1
    (entry,) = a.agent.state.entries()
    assert (entry.status, entry.sync_id) == (SYNCED, sync_id)  # the same SyncID all along
    # The push the primary applied while its answer was lost counted once: the last retry was a duplicate.
    assert orjson.loads(Record.objects.get(record_id="N1").data)["name"] == "Clinic"


def test_a_quarantined_push_whose_answer_was_lost_is_an_error_not_synced(satellite):
    a = satellite(2)
    a.agent.cycle()
    a.agent.enqueue(record_type="no_such_table", record_id="X1", data={"ID": "X1"})
    a.proxy.inject("ok", "drop_after")  # the primary quarantines the record; its answer is lost

    a.agent.cycle()
    a.agent.cycle()  # the same SyncID again: the primary says it is still in quarantine

    (entry,) = a.agent.state.entries()
    assert entry.status == ERROR
    assert "quarantined by the primary" in entry.last_error


def test_backoff_grows_with_jitter_and_honours_retry_after_and_an_answer_resets_it(satellite):
    a = satellite(2, backoff_base=2, backoff_max=60, interval=30)
    a.proxy.inject("drop_before", "drop_before", "drop_before", "drop_before", "503")

    a.agent.run(cycles=6)

    first, second, third, fourth, busy = a.slept
    assert 1 <= first <= 2 and 2 <= second <= 4 and 4 <= third <= 8 and 8 <= fourth <= 16
    assert busy >= RETRY_AFTER  # the primary's Retry-After wins over a shorter backoff
    assert a.agent.status()["online"] is True
    a.agent.run(cycles=2)
    assert a.slept[-1] == 30  # reached: back to the interval


def test_a_record_the_host_fails_on_five_times_is_kept_as_an_error_and_acknowledged(satellite):
    a = satellite(2)
    for n in range(1, 4):
        primary_upsert("item", f"I{n}", {"ID": f"I{n}", "item_name": f"Item {n}"})
    received: list[str] = []
    broken = {"I2"}

    def host(record: dict) -> None:
        if record["RecordID"] in broken:
            raise ValueError("the host's database refused it")
        received.append(record["RecordID"])

    a.agent.callback = host
    results = [a.agent.cycle() for _ in range(4)]
    assert all(r.blocked and r.kept_as_error == 0 for r in results)
    assert received == ["I1"]  # the record behind the bad one waits: order is kept

    fifth = a.agent.cycle()

    assert fifth.kept_as_error == 1 and not fifth.blocked
    assert received == ["I1", "I3"]
    assert a.agent.status()["outbox"]["inbound_errors"] == 1
    [(_, kept, error)] = a.agent.state.inbound_errors()
    assert kept["RecordID"] == "I2" and "refused it" in error
    assert a.agent.primary().count() == 0  # acknowledged: it no longer blocks the queue

    broken.clear()
    assert a.agent.retry_errors()["delivered"] == 1
    assert received == ["I1", "I3", "I2"]
    assert a.agent.status()["outbox"]["inbound_errors"] == 0


# The property -----------------------------------------------------------------------------------------
examples = itertools.count()
faults = st.lists(st.sampled_from(FAULTS), max_size=10)


@hypothesis_settings(
    max_examples=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    changes=st.lists(st.tuples(st.integers(0, 3), st.booleans()), min_size=1, max_size=10),
    central=st.integers(0, 5),
    sender_faults=faults,
    receiver_faults=faults,
)
def test_through_any_fault_schedule_every_change_is_applied_once_and_every_record_mirrored_once(
    satellite, changes, central, sender_faults, receiver_faults
):
    """Site 2 pushes transfers to site 3 (and local changes), the primary edits central items; both
    agents sync through their own faulty link. Once the network heals and they drain, the primary
    holds the last state of every record, each SyncID was taken once, and each site's mirror is
    exactly what was routed to it."""
    run = f"X{next(examples)}"
    a, b = satellite(2), satellite(3)
    last: dict[tuple[str, str], dict] = {}
    sync_ids = []
    for n, (which, is_transfer) in enumerate(changes):
        record_id = f"{run}T{which}" if is_transfer else f"{run}L{which}"
        if is_transfer:
            data = {"ID": record_id, "store_ID": "STORE2", "name_ID": "NAME_STORE3", "type": "ci"}
            data |= {"status": "fn", "comment": f"v{n}"}
            key = ("transact", record_id)
        else:
            data = {"ID": record_id, "code": f"v{n}", "store_ID": "STORE2"}
            key = ("Location", record_id)
        sync_ids.append(
            a.agent.enqueue(record_type=key[0], record_id=record_id, data=data, store_id="STORE2")
        )
        last[key] = data
    items = {("item", f"{run}I{n}"): {"ID": f"{run}I{n}", "item_name": f"Item {n}"} for n in range(central)}
    for (_, record_id), data in items.items():
        primary_upsert("item", record_id, data)
    a.proxy.inject(*sender_faults)
    b.proxy.inject(*receiver_faults)

    for sat in (a, b, a):  # the sender pushes, the receiver drains, the sender drains
        sat.agent.run(cycles=len(sat.proxy.schedule) + 2)
    for sat in (a, b):  # healed: whatever ran out of attempts is retried on demand
        sat.agent.retry_errors()
        sat.agent.run(until_idle=True, cycles=20)

    assert {e.status for e in a.agent.state.entries()} == {SYNCED}
    assert set(
        PushedSyncId.objects.filter(site_id=2, sync_id__in=sync_ids).values_list("sync_id", flat=True)
    ) == set(sync_ids)
    for (record_type, record_id), data in last.items():
        assert orjson.loads(Record.objects.get(record_type=record_type, record_id=record_id).data) == data
    # Each finalised invoice reached site 3 once, as a supplier invoice of its own store.
    sent = {record_id for kind, record_id in last if kind == "transact"}
    received = {("transact", counterpart_id("si", record_id, "STORE3")) for record_id in sent}
    expected = {k: pulled_form(k, v) for k, v in items.items()}
    for kind, record_id in received:
        expected[(kind, record_id)] = orjson.loads(
            Record.objects.get(record_type=kind, record_id=record_id).wire
        )
    assert b.agent.state.mirror() == expected
    assert {b.agent.state.mirror()[key]["linked_transaction_id"] for key in received} == sent
    assert a.agent.state.mirror() == {k: pulled_form(k, v) for k, v in items.items()}
    assert a.agent.primary().count() == 0 and b.agent.primary().count() == 0
    assert {e.status for e in b.agent.state.entries()} <= {PENDING, SYNCED}


def pulled_form(key: tuple[str, str], data: dict) -> dict:
    """A record as pulled: the whole record, every value a string."""
    return wire_record(key[0], data)
