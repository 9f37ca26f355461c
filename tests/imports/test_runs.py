"""Import runs: the write path, fan-out, refusals, delete_missing and its safety rule, claims, history."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path

import orjson
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apps.imports.models import ImportRun, ImportSchedule
from apps.imports.services import (
    AlreadyRunning,
    TooSoon,
    claim_manual,
    recover_stale_claims,
    schedule_run_now,
    schedule_set_enabled,
    schedules_run_due,
)
from apps.records.models import Record
from tests.support import client_for, make_site, primary_upsert

from .conftest import csv_schedule, write_csv

pytestmark = pytest.mark.django_db

ITEMS = ["ID,code,item_name", "I1,C1,One", "I2,C2,Two", "I3,C3,Three", "I4,C4,Four"]


def live_items() -> dict[str, dict]:
    rows = Record.objects.filter(record_type_id="item", is_deleted=False).values_list("record_id", "data")
    return {record_id: orjson.loads(data) for record_id, data in rows}


def test_imported_changes_reach_the_satellites_queues_and_a_rerun_changes_nothing(file_root: Path):
    satellite = client_for(make_site(2))
    schedule = csv_schedule(write_csv(file_root, "items.csv", ITEMS))
    first = schedule_run_now(schedule=schedule, rate_limited=False)
    assert (first.added, first.updated, first.unchanged) == (4, 0, 0)
    pulled = satellite.drain()
    assert sorted((r["RecordType"], r["RecordID"], r["data"]["code"]) for r in pulled) == [
        ("item", f"I{n}", f"C{n}") for n in range(1, 5)
    ]
    again = schedule_run_now(schedule=schedule, rate_limited=False)
    assert (again.status, again.added, again.updated, again.deleted, again.unchanged) == (
        "succeeded",
        0,
        0,
        0,
        4,
    )
    assert satellite.count() == 0


def test_an_import_keeps_the_fields_the_source_does_not_have(file_root: Path):
    primary_upsert("item", "I1", {"ID": "I1", "code": "OLD", "item_name": "One", "description": "kept"})
    run = schedule_run_now(
        schedule=csv_schedule(write_csv(file_root, "c.csv", ["ID,code", "I1,NEW"])), rate_limited=False
    )
    assert run.updated == 1
    assert live_items()["I1"] == {"ID": "I1", "code": "NEW", "item_name": "One", "description": "kept"}


def test_a_refused_row_does_not_stop_the_others_and_its_reason_is_kept(file_root: Path):
    path = write_csv(file_root, "r.csv", ["ID,code", "I1,A", ",B", f"{'x' * 101},C", "I4,D"])
    run = schedule_run_now(schedule=csv_schedule(path), rate_limited=False)
    assert (run.status, run.added, run.refused) == ("succeeded", 2, 2)
    assert run.refusals[0] == "row 2: the key column 'ID' is empty"
    assert "over 100 characters" in run.refusals[1]
    assert sorted(live_items()) == ["I1", "I4"]


def test_a_row_refused_by_the_write_path_is_counted_with_its_row_number(file_root: Path):
    # The key column is `code`, but the first row's ID says otherwise: the write path refuses it alone.
    path = write_csv(file_root, "k.csv", ["code,ID", "K1,I1", "I2,I2"])
    run = schedule_run_now(schedule=csv_schedule(path, keyColumn="code"), rate_limited=False)
    assert (run.added, run.refused) == (1, 1)
    assert run.refusals[0].startswith("row 1 K1: RecordID 'K1' does not match ID 'I1'")


def test_a_column_that_is_no_field_fails_the_run_before_anything_is_written(file_root: Path):
    path = write_csv(file_root, "bad.csv", ["ID,code,colour", "I1,C1,red"])
    run = schedule_run_now(schedule=csv_schedule(path), rate_limited=False)
    assert run.status == "failed" and "'colour'" in run.error and "null to skip" in run.error
    assert live_items() == {}
    skipped = schedule_run_now(
        schedule=csv_schedule(path, name="skip", mapping={"colour": None}), rate_limited=False
    )
    assert (skipped.status, skipped.added) == ("succeeded", 1)


def test_delete_missing_tombstones_only_what_this_schedule_imported_and_fans_the_deletes_out(file_root: Path):
    primary_upsert("item", "OTHER", {"ID": "OTHER", "code": "not imported"})
    satellite = client_for(make_site(2))
    path = write_csv(file_root, "items.csv", ITEMS)
    schedule = csv_schedule(path, deleteMissing=True)
    schedule_run_now(schedule=schedule, rate_limited=False)
    satellite.drain()
    write_csv(file_root, "items.csv", ITEMS[:4])  # I4 is gone
    ImportSchedule.objects.filter(pk=schedule.pk).update(last_manual_at=None)
    run = schedule_run_now(schedule=schedule, rate_limited=False)
    assert (run.status, run.deleted, run.unchanged) == ("succeeded", 1, 3)
    assert sorted(live_items()) == ["I1", "I2", "I3", "OTHER"]
    assert [(r["RecordID"], r["SyncType"]) for r in satellite.drain()] == [("I4", "D")]


@pytest.mark.parametrize(
    ("lines", "words"), [(["ID,code"], "no rows"), (["ID,code", "I1,C1"], "no longer has 3 of the 4")]
)
def test_the_delete_safety_rule_fails_the_run_and_changes_nothing(file_root: Path, lines, words):
    path = write_csv(file_root, "items.csv", ITEMS)
    schedule = csv_schedule(path, deleteMissing=True)
    schedule_run_now(schedule=schedule, rate_limited=False)
    write_csv(file_root, "items.csv", [lines[0], *(line.replace("C1", "CHANGED") for line in lines[1:])])
    run = schedule_run_now(schedule=schedule, rate_limited=False)
    assert run.status == "failed" and words in run.error
    assert (run.added, run.updated, run.deleted) == (0, 0, 0)
    assert {k: v["code"] for k, v in live_items().items()} == {f"I{n}": f"C{n}" for n in range(1, 5)}


def test_due_schedules_run_once_and_missed_slots_collapse(file_root: Path):
    schedule = csv_schedule(write_csv(file_root, "items.csv", ITEMS), syncTime="02:00")
    three_days_late = timezone.now() - timedelta(days=3)
    ImportSchedule.objects.filter(pk=schedule.pk).update(next_sync_at=three_days_late)
    runs = schedules_run_due()
    assert [(r.trigger, r.status) for r in runs] == [("scheduled", "succeeded")]
    schedule.refresh_from_db()
    assert timezone.now() < schedule.next_sync_at <= timezone.now() + timedelta(days=1)
    assert schedule.next_sync_at.strftime("%H:%M") == "02:00"
    assert schedules_run_due() == []


def test_a_disabled_schedule_has_no_next_run_and_is_never_due(file_root: Path):
    schedule = csv_schedule(write_csv(file_root, "items.csv", ITEMS))
    schedule_set_enabled(schedule=schedule, enabled=False)
    assert schedule.next_sync_at is None
    ImportSchedule.objects.filter(pk=schedule.pk).update(next_sync_at=timezone.now() - timedelta(hours=1))
    assert schedules_run_due() == []


def test_a_running_schedule_cannot_start_again_and_manual_runs_are_limited_per_minute(file_root: Path):
    schedule = csv_schedule(write_csv(file_root, "items.csv", ITEMS))
    claim_manual(schedule=schedule, now=timezone.now(), rate_limited=False)
    with pytest.raises(AlreadyRunning):
        schedule_run_now(schedule=schedule)
    ImportSchedule.objects.filter(pk=schedule.pk).update(claim_token="", claimed_at=None)
    with pytest.raises(TooSoon) as too_soon:
        schedule_run_now(schedule=schedule)
    assert 1 <= too_soon.value.retry_after <= 60


def test_a_stale_claim_is_recovered_and_its_run_marked_interrupted(file_root: Path, settings):
    schedule = csv_schedule(write_csv(file_root, "items.csv", ITEMS))
    long_ago = timezone.now() - timedelta(seconds=settings.IMPORTS_CLAIM_TIMEOUT_SECONDS + 5)
    claim_manual(schedule=schedule, now=long_ago, rate_limited=False)
    crashed = ImportRun.objects.create(schedule=schedule, trigger="scheduled", started_at=long_ago)
    assert recover_stale_claims() == 1
    crashed.refresh_from_db()
    assert crashed.status == "interrupted" and crashed.finished_at is not None and "stopped" in crashed.error
    assert schedule_run_now(schedule=schedule, rate_limited=False).status == "succeeded"


def test_a_fresh_claim_is_not_recovered(file_root: Path):
    schedule = csv_schedule(write_csv(file_root, "items.csv", ITEMS))
    claim_manual(schedule=schedule, now=timezone.now(), rate_limited=False)
    assert recover_stale_claims() == 0


def test_runimport_and_runimports_commands_report_the_run(file_root: Path):
    schedule = csv_schedule(write_csv(file_root, "items.csv", ITEMS))
    out = StringIO()
    call_command("runimport", str(schedule.pk), stdout=out, stderr=StringIO())
    assert "Items: succeeded (manual)" in out.getvalue() and "4 added" in out.getvalue()
    out = StringIO()
    call_command("runimports", stdout=out, stderr=StringIO())
    assert out.getvalue().strip() == "No import is due."
    ImportSchedule.objects.filter(pk=schedule.pk).update(next_sync_at=timezone.now())
    out = StringIO()
    call_command("runimports", stdout=out, stderr=StringIO())
    assert "Items: succeeded (scheduled)" in out.getvalue() and "4 unchanged" in out.getvalue()


def test_runimport_fails_with_a_clear_message_for_an_unknown_id_or_a_failed_run(file_root: Path):
    with pytest.raises(CommandError, match="no import schedule 999"):
        call_command("runimport", "999", stdout=StringIO(), stderr=StringIO())
    schedule = csv_schedule("missing.csv")
    with pytest.raises(CommandError, match=r"did not succeed.*missing\.csv"):
        call_command("runimport", str(schedule.pk), stdout=StringIO(), stderr=StringIO())


def test_purgesync_removes_old_finished_runs(file_root: Path, settings):
    schedule = csv_schedule(write_csv(file_root, "items.csv", ITEMS))
    old = timezone.now() - timedelta(days=settings.IMPORTS_HISTORY_RETENTION_DAYS + 1)
    ImportRun.objects.create(schedule=schedule, trigger="scheduled", status="succeeded", started_at=old)
    ImportRun.objects.create(schedule=schedule, trigger="scheduled", status="running", started_at=old)
    recent = schedule_run_now(schedule=schedule, rate_limited=False)
    out = StringIO()
    call_command("purgesync", stdout=out)
    assert "Removed 1 import runs older than" in out.getvalue()
    assert sorted(ImportRun.objects.values_list("status", flat=True)) == ["running", recent.status]


def test_the_progress_bar_counts_every_row_and_delete_of_the_run(file_root: Path, settings):
    settings.IMPORTS_BATCH_SIZE = 2
    path = write_csv(file_root, "items.csv", ITEMS)
    schedule = csv_schedule(path, deleteMissing=True)
    schedule_run_now(schedule=schedule, rate_limited=False)
    write_csv(file_root, "items.csv", ITEMS[:4])
    seen: list[tuple[str, int]] = []
    steps: list[int] = []

    def progress(label: str, total: int):
        seen.append((label, total))
        return steps.append

    run = schedule_run_now(schedule=schedule, rate_limited=False, progress=progress)
    assert run.deleted == 1
    assert seen == [("Items", 4)] and steps == [2, 1, 1]


def test_runimports_loop_runs_until_a_stop_signal_and_gives_the_signals_back(file_root: Path, settings):
    import signal

    from apps.imports.management.commands import runimports

    settings.IMPORTS_LOOP_SECONDS = 0
    schedule = csv_schedule(write_csv(file_root, "items.csv", ITEMS))
    looks: list[int] = []
    real_run_due = runimports.schedules_run_due

    def run_due_then_stop(**kwargs):
        looks.append(1)
        if len(looks) == 1:
            ImportSchedule.objects.filter(pk=schedule.pk).update(next_sync_at=timezone.now())
        if len(looks) == 3:
            signal.raise_signal(signal.SIGTERM)
        return real_run_due(**kwargs)

    before = signal.getsignal(signal.SIGTERM)
    out = StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runimports, "schedules_run_due", run_due_then_stop)
        call_command("runimports", "--loop", stdout=out, stderr=StringIO())
    assert len(looks) == 3 and out.getvalue().count("Items: succeeded (scheduled)") == 1
    assert out.getvalue().rstrip().endswith("Stopped.")
    assert signal.getsignal(signal.SIGTERM) is before
