"""Runners on several hosts at once: each due run is claimed and run by exactly one of them.

Real parallel connections on MySQL/MariaDB: every thread has its own database connection, and all of
them look for due schedules at the same moment.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import connections
from django.utils import timezone

from apps.imports.models import ImportRun, ImportSchedule
from apps.imports.services import AlreadyRunning, TooSoon, schedule_run_now, schedules_run_due
from apps.records.models import Record
from tests.support import mariadb_in_parallel

from .conftest import csv_schedule, write_csv

pytestmark = mariadb_in_parallel()

RUNNERS = 4


def in_parallel(work: Callable[[], Any], count: int = RUNNERS) -> tuple[list[Any], list[str]]:
    start = threading.Barrier(count)
    results: list[Any] = []
    errors: list[str] = []

    def runner() -> None:
        try:
            start.wait()
            results.append(work())
        except Exception:
            errors.append(traceback.format_exc())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_racing_runners_run_each_due_schedule_exactly_once(file_root: Path):
    schedules = [
        csv_schedule(
            write_csv(file_root, f"s{i}.csv", ["ID,code"] + [f"S{i}-{n},C{n}" for n in range(300)]),
            name=f"s{i}",
        )
        for i in range(3)
    ]
    ImportSchedule.objects.update(next_sync_at=timezone.now() - timedelta(minutes=1))
    now = timezone.now()
    results, errors = in_parallel(lambda: schedules_run_due(now=now))
    assert errors == []
    runs = [run for batch in results for run in batch]
    assert sorted(r.schedule_id for r in runs) == sorted(s.pk for s in schedules)
    assert ImportRun.objects.count() == 3
    assert sorted(ImportRun.objects.values_list("status", flat=True)) == ["succeeded"] * 3
    assert [(r.added, r.unchanged, r.refused) for r in runs] == [(300, 0, 0)] * 3
    assert Record.objects.filter(record_type_id="item").count() == 900
    assert not ImportSchedule.objects.exclude(claim_token="").exists()


def test_racing_manual_runs_of_one_schedule_start_it_once(file_root: Path):
    schedule = csv_schedule(write_csv(file_root, "items.csv", ["ID,code", "A,1", "B,2"]))

    def manual() -> str:
        try:
            return schedule_run_now(schedule=schedule).status
        except (AlreadyRunning, TooSoon) as refused:
            return type(refused).__name__

    results, errors = in_parallel(manual)
    assert errors == []
    assert sorted(results).count("succeeded") == 1
    assert set(results) - {"succeeded"} <= {"AlreadyRunning", "TooSoon"}
    assert ImportRun.objects.filter(schedule=schedule).count() == 1
