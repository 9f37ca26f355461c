"""What the hypothesis state machines of the sync (tests/queue/test_model_based.py,
tests/records/test_transfer_model.py) share: their three satellites, a clean slate per example, and
how they are run."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from apps.queue.models import PushedSyncId, QuarantinedRecord, QueueEntry, SnapshotCursor, SyncLog
from apps.records.models import Record

SITES = (2, 3, 4)
STORES = {site: f"STORE{site}" for site in SITES}


def forget_sync_state() -> None:
    """Empty queues and dump snapshots, pushed SyncIDs, quarantine, sync log and central store; the
    sites stay."""
    for model in (QueueEntry, SnapshotCursor, PushedSyncId, QuarantinedRecord, SyncLog, Record):
        model.objects.all().delete()


def run_machine(
    machine: type[RuleBasedStateMachine], *, examples: int, steps: int, shrink: bool = True
) -> None:
    chosen = hypothesis_settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    if not shrink:
        chosen = hypothesis_settings(chosen, phases=[Phase.explicit, Phase.reuse, Phase.generate])
    run_state_machine_as_test(machine, settings=chosen)
