"""Reads for imports: schedules, their runs, and the stored data of records an import overlays."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from django.db.models import QuerySet

from apps.records.models import Record

from .models import ImportedKey, ImportRun, ImportSchedule


def schedules_due(*, now: datetime) -> list[int]:
    return list(
        ImportSchedule.objects.filter(enabled=True, next_sync_at__lte=now, claim_token="")
        .order_by("next_sync_at", "pk")
        .values_list("pk", flat=True)
    )


def schedules_claimed_before(*, cutoff: datetime) -> list[tuple[int, str]]:
    return list(
        ImportSchedule.objects.filter(claimed_at__lt=cutoff)
        .exclude(claim_token="")
        .values_list("pk", "claim_token")
    )


def schedule_list(
    *, enabled: bool | None = None, record_type: str = "", source_kind: str = "", name: str = ""
) -> QuerySet[ImportSchedule]:
    schedules = ImportSchedule.objects.select_related("source").order_by("pk")
    if enabled is not None:
        schedules = schedules.filter(enabled=enabled)
    if record_type:
        schedules = schedules.filter(record_type=record_type)
    if source_kind:
        schedules = schedules.filter(source__kind=source_kind)
    if name:
        schedules = schedules.filter(name__icontains=name)
    return schedules


def last_runs(schedule_ids: list[int]) -> dict[int, ImportRun]:
    """The latest run of each schedule: one indexed read per schedule (a page of them at most)."""
    latest: dict[int, ImportRun] = {}
    for schedule_id in schedule_ids:
        run = ImportRun.objects.filter(schedule_id=schedule_id).order_by("-started_at", "-pk").first()
        if run is not None:
            latest[schedule_id] = run
    return latest


def run_history(*, schedule: ImportSchedule, limit: int, offset: int) -> tuple[list[ImportRun], bool]:
    """A page of runs, newest first, and whether more follow (read one more row instead of counting)."""
    runs = list(
        ImportRun.objects.filter(schedule=schedule).order_by("-started_at", "-pk")[
            offset : offset + limit + 1
        ]
    )
    return runs[:limit], len(runs) > limit


def imported_keys(*, schedule_id: int) -> set[str]:
    return set(ImportedKey.objects.filter(schedule_id=schedule_id).values_list("record_id", flat=True))


def stored_data(*, record_type: str, record_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The live records' data by id, to overlay imported fields on."""
    rows = Record.objects.filter(
        record_type_id=record_type, record_id__in=record_ids, is_deleted=False
    ).values_list("record_id", "data")
    return {record_id: orjson.loads(data) for record_id, data in rows}
