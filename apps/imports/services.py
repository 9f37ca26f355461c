"""Import services: schedules (create, change, delete), claiming and running imports, purging history.

Claims are conditional UPDATEs on the schedule row (`... WHERE claim_token = ''`): whichever runner's
UPDATE changes the row owns the run, on any number of hosts, with no lock held while the import runs.
A claim whose runner stopped refreshing it for IMPORTS_CLAIM_TIMEOUT_SECONDS is recovered and its run
marked interrupted.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .config import ConfigError, Settings, check_schedule_row, check_source, split_config
from .models import DataSource, ImportedKey, ImportRun, ImportSchedule
from .runner import Claim, Progress, execute_run
from .selectors import schedules_claimed_before, schedules_due
from .timing import next_slot

ProgressFactory = Callable[[str, int], Progress]


class AlreadyRunning(Exception):
    def __init__(self, schedule: ImportSchedule) -> None:
        super().__init__(f"The schedule '{schedule.name}' is running now; wait for that run to finish.")


@dataclass
class TooSoon(Exception):
    retry_after: int

    def __str__(self) -> str:
        return (
            f"A manual run was started less than {settings.IMPORTS_MANUAL_RUN_INTERVAL_SECONDS} seconds ago; "
            f"try again in {self.retry_after} s."
        )


# Schedules ----------------------------------------------------------------------------------------
def compute_next_sync(schedule: ImportSchedule, *, now: datetime | None = None) -> datetime | None:
    if not schedule.enabled:
        return None
    return next_slot(
        frequency=schedule.frequency,
        sync_time=schedule.sync_time,
        day_of_week=schedule.day_of_week,
        time_zone=schedule.time_zone,
        after=now or timezone.now(),
    )


def _apply(target: Any, values: dict[str, Any]) -> None:
    for attribute, value in values.items():
        setattr(target, attribute, value)


@transaction.atomic
def schedule_create(
    *,
    name: str,
    record_type: str,
    source_kind: str = "",
    source_id: int | None = None,
    config: dict[str, Any] | None = None,
    frequency: str = ImportSchedule.Frequency.DAILY,
    enabled: bool = True,
) -> ImportSchedule:
    """A schedule on an existing source (`source_id`) or on a new one of `source_kind` made from `config`."""
    _check_name(name)
    parts = split_config(config or {})
    if source_id is not None:
        if parts.source:
            raise ConfigError("Give either sourceId or the source's settings in config, not both.")
        source = DataSource.objects.filter(pk=source_id).first()
        if source is None:
            raise ConfigError(f"There is no data source {source_id}.")
    else:
        source = DataSource(name=_free_source_name(name), kind=source_kind)
        _apply(source, parts.source)
        check_source(source)
        source.save()
    schedule = ImportSchedule(
        name=name, source=source, record_type=record_type, frequency=frequency, enabled=enabled
    )
    _apply(schedule, parts.schedule)
    check_schedule_row(schedule)
    schedule.next_sync_at = compute_next_sync(schedule)
    schedule.save()
    return schedule


@transaction.atomic
def schedule_update(*, schedule: ImportSchedule, changes: dict[str, Any]) -> ImportSchedule:
    """Change top-level fields and merge `config` key by key; the next run is computed again."""
    schedule = ImportSchedule.objects.select_for_update().select_related("source").get(pk=schedule.pk)
    changes = dict(changes)
    parts = split_config(changes.pop("config", None) or {})
    if "name" in changes and changes["name"] != schedule.name:
        _check_name(changes["name"])
    old_type = schedule.record_type
    _apply(schedule, {**changes, **parts.schedule})
    _update_source(schedule, parts)
    check_schedule_row(schedule)
    if schedule.record_type != old_type:
        # Keys imported as another record type must never be deleted as this one.
        ImportedKey.objects.filter(schedule_id=schedule.pk).delete()
    schedule.next_sync_at = compute_next_sync(schedule)
    schedule.save()
    return schedule


def _update_source(schedule: ImportSchedule, parts: Settings) -> None:
    if not parts.source:
        return
    source = schedule.source
    shared = source.schedules.exclude(pk=schedule.pk).count()
    if shared:
        raise ConfigError(
            f"The source '{source.name}' is used by {shared} other schedule(s); change it in the admin "
            "(Data sources) so that they all agree."
        )
    _apply(source, parts.source)
    check_source(source)
    source.save()


def schedule_set_enabled(*, schedule: ImportSchedule, enabled: bool) -> ImportSchedule:
    schedule.enabled = enabled
    schedule.next_sync_at = compute_next_sync(schedule)
    schedule.save(update_fields=["enabled", "next_sync_at", "updated_at"])
    return schedule


@transaction.atomic
def schedule_delete(*, schedule: ImportSchedule) -> None:
    """The schedule, its history and its key list go; the records it imported stay (and stay synced).
    Its source goes too when no other schedule uses it."""
    source = schedule.source
    schedule.delete()
    if not source.schedules.exists():
        source.delete()


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("name must be a non-empty text.")
    if len(name) > 100:
        raise ConfigError("name must be at most 100 characters.")
    if ImportSchedule.objects.filter(name=name).exists():
        raise ConfigError(f"A schedule named '{name}' exists already; choose another name.")


def _free_source_name(name: str) -> str:
    candidate, serial = name[:100], 1
    while DataSource.objects.filter(name=candidate).exists():
        serial += 1
        candidate = f"{name[:90]} ({serial})"
    return candidate


# Claiming and running -----------------------------------------------------------------------------
def _token() -> str:
    return secrets.token_hex(16)


def claim_due(*, schedule: ImportSchedule, now: datetime) -> Claim | None:
    """Claim a due schedule and move its next run to the next slot after now (missed slots collapse)."""
    token = _token()
    claimed = ImportSchedule.objects.filter(
        pk=schedule.pk, claim_token="", enabled=True, next_sync_at__lte=now
    ).update(claim_token=token, claimed_at=now, next_sync_at=compute_next_sync(schedule, now=now))
    return Claim(schedule.pk, token) if claimed else None


def claim_manual(*, schedule: ImportSchedule, now: datetime, rate_limited: bool) -> Claim:
    token = _token()
    rows = ImportSchedule.objects.filter(pk=schedule.pk, claim_token="")
    interval = settings.IMPORTS_MANUAL_RUN_INTERVAL_SECONDS
    if rate_limited:
        rows = rows.filter(
            Q(last_manual_at__isnull=True) | Q(last_manual_at__lte=now - timedelta(seconds=interval))
        )
    if rows.update(claim_token=token, claimed_at=now, last_manual_at=now):
        return Claim(schedule.pk, token)
    current = ImportSchedule.objects.get(pk=schedule.pk)
    if current.claim_token:
        raise AlreadyRunning(current)
    assert current.last_manual_at is not None
    waited = (now - current.last_manual_at).total_seconds()
    raise TooSoon(retry_after=max(1, int(interval - waited + 0.999)))


def release(claim: Claim) -> None:
    ImportSchedule.objects.filter(pk=claim.schedule_id, claim_token=claim.token).update(
        claim_token="", claimed_at=None
    )


def recover_stale_claims(*, now: datetime | None = None) -> int:
    """Free claims whose runner stopped refreshing them, and mark their runs interrupted."""
    now = now or timezone.now()
    timeout = settings.IMPORTS_CLAIM_TIMEOUT_SECONDS
    cutoff = now - timedelta(seconds=timeout)
    recovered = 0
    for schedule_id, token in schedules_claimed_before(cutoff=cutoff):
        freed = ImportSchedule.objects.filter(
            pk=schedule_id, claim_token=token, claimed_at__lt=cutoff
        ).update(claim_token="", claimed_at=None)
        if freed:
            recovered += 1
            ImportRun.objects.filter(schedule_id=schedule_id, status=ImportRun.Status.RUNNING).update(
                status=ImportRun.Status.INTERRUPTED,
                finished_at=now,
                error=f"The runner stopped without finishing (no sign of life for {timeout} s).",
            )
    return recovered


def _run_claimed(
    *, schedule: ImportSchedule, claim: Claim, trigger: str, progress: ProgressFactory | None
) -> ImportRun:
    run = ImportRun.objects.create(schedule=schedule, trigger=trigger, started_at=timezone.now())
    try:
        return execute_run(schedule=schedule, run=run, claim=claim, progress=progress)
    finally:
        release(claim)


def schedules_run_due(
    *, now: datetime | None = None, progress: ProgressFactory | None = None
) -> list[ImportRun]:
    """Run every due schedule this runner manages to claim; others are left to other runners."""
    now = now or timezone.now()
    recover_stale_claims(now=now)
    runs: list[ImportRun] = []
    for schedule_id in schedules_due(now=now):
        schedule = ImportSchedule.objects.select_related("source").filter(pk=schedule_id).first()
        claim = claim_due(schedule=schedule, now=now) if schedule else None
        if schedule and claim:
            runs.append(
                _run_claimed(
                    schedule=schedule, claim=claim, trigger=ImportRun.Trigger.SCHEDULED, progress=progress
                )
            )
    return runs


def schedule_run_now(
    *, schedule: ImportSchedule, rate_limited: bool = True, progress: ProgressFactory | None = None
) -> ImportRun:
    """A manual run, now; AlreadyRunning or TooSoon when it may not start. The next slot is kept."""
    now = timezone.now()
    recover_stale_claims(now=now)
    claim = claim_manual(schedule=schedule, now=now, rate_limited=rate_limited)
    schedule = ImportSchedule.objects.select_related("source").get(pk=schedule.pk)
    return _run_claimed(schedule=schedule, claim=claim, trigger=ImportRun.Trigger.MANUAL, progress=progress)


# History ------------------------------------------------------------------------------------------
def history_purge(*, now: datetime | None = None) -> int:
    """Delete finished runs older than IMPORTS_HISTORY_RETENTION_DAYS (a running one is kept)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.IMPORTS_HISTORY_RETENTION_DAYS)
    deleted, _ = (
        ImportRun.objects.filter(started_at__lt=cutoff).exclude(status=ImportRun.Status.RUNNING).delete()
    )
    return deleted
