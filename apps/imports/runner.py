"""One run of an import: read the source whole, map its rows, write them in batches through the
primary's write path (so every change fans out to the satellites), then apply `delete_missing`.

The caller holds the schedule's claim (services.py); the runner refreshes it after every batch, so a
long run is never mistaken for a crashed one, and stops if another runner has taken the claim over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from apps.queue.services import primary_changes_apply
from apps.records.changes import Change
from apps.records.services import WriteResult

from .mapping import MappedRows, MappingError, RowRefusal, map_rows, overlay, record_type_spec, upsert_change
from .models import ImportedKey, ImportRun, ImportSchedule
from .selectors import imported_keys, stored_data
from .sources import SourceError, read_source

logger = logging.getLogger(__name__)

# How many refused rows a run keeps with their reasons (the count covers them all).
KEPT_REFUSALS = 20

Progress = Callable[[int], None]


class RunFailed(Exception):
    """The run stops with this message; what was already committed stays (each batch is whole)."""


class ClaimLost(Exception):
    """Another runner recovered this schedule's claim as stale: this runner must stop."""


@dataclass
class Claim:
    schedule_id: int
    token: str

    def refresh(self) -> None:
        updated = ImportSchedule.objects.filter(pk=self.schedule_id, claim_token=self.token).update(
            claimed_at=timezone.now()
        )
        if not updated:
            raise ClaimLost()


def execute_run(
    *, schedule: ImportSchedule, run: ImportRun, claim: Claim, progress: Callable[[str, int], Progress] | None
) -> ImportRun:
    """Fill `run` with what happened; never raises for a bad source or mapping (the run records it)."""
    try:
        _import(schedule=schedule, run=run, claim=claim, progress=progress)
        run.status = ImportRun.Status.SUCCEEDED
    except (SourceError, MappingError, RunFailed) as exc:
        run.status, run.error = ImportRun.Status.FAILED, str(exc)
    except ClaimLost:
        run.status = ImportRun.Status.INTERRUPTED
        run.error = "Another runner took this schedule over after its claim timed out; the run stopped."
    except Exception as exc:  # recorded, so one broken schedule never stops the others' runner
        logger.exception("import %s failed", schedule.pk)
        run.status, run.error = ImportRun.Status.FAILED, f"Unexpected error: {type(exc).__name__}: {exc}"
    run.finished_at = timezone.now()
    run.save()
    return run


def _import(
    *, schedule: ImportSchedule, run: ImportRun, claim: Claim, progress: Callable[[str, int], Progress] | None
) -> None:
    table = read_source(schedule.source)
    run.rows, run.columns = len(table.rows), table.columns
    run.save(update_fields=["rows", "columns"])
    spec = record_type_spec(schedule.record_type)
    mapped = map_rows(spec=spec, table=table, mapping=schedule.mapping or {}, key_column=schedule.key_column)
    missing = _keys_to_delete(schedule=schedule, mapped=mapped, rows=len(table.rows))
    _refuse(run, mapped.refused)
    ids = list(mapped.upserts)
    batch_size = settings.IMPORTS_BATCH_SIZE
    advance = progress(schedule.name, len(ids) + len(missing)) if progress else None
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        stored = stored_data(record_type=spec.name, record_ids=batch)
        changes = [
            upsert_change(spec=spec, record_id=i, data=overlay(stored.get(i), mapped.upserts[i]))
            for i in batch
        ]
        written = primary_changes_apply(changes=changes)
        _count(run, written, mapped)
        refused_ids = {r.change.record_id for r in written.refused}
        ImportedKey.objects.bulk_create(
            [ImportedKey(schedule_id=schedule.pk, record_id=i) for i in batch if i not in refused_ids],
            ignore_conflicts=True,
        )
        _after_batch(run, claim, advance, len(batch))
    for start in range(0, len(missing), batch_size):
        batch = missing[start : start + batch_size]
        written = primary_changes_apply(
            changes=[Change(record_type=spec.name, record_id=i, action="delete") for i in batch]
        )
        _count(run, written, mapped)
        refused_ids = {r.change.record_id for r in written.refused}
        ImportedKey.objects.filter(
            schedule_id=schedule.pk, record_id__in=[i for i in batch if i not in refused_ids]
        ).delete()
        _after_batch(run, claim, advance, len(batch))


def _keys_to_delete(*, schedule: ImportSchedule, mapped: MappedRows, rows: int) -> list[str]:
    """The keys this schedule imported before that the source no longer has, after the safety rule."""
    if not schedule.delete_missing:
        return []
    if rows == 0:
        raise RunFailed(
            "The source returned no rows; with delete_missing on that would delete everything this "
            "schedule imported, so the run stopped and nothing was changed."
        )
    before = imported_keys(schedule_id=schedule.pk)
    missing = sorted(before - set(mapped.upserts))
    share = settings.IMPORTS_DELETE_MAX_SHARE
    if before and len(missing) > share * len(before):
        raise RunFailed(
            f"The source no longer has {len(missing)} of the {len(before)} records this schedule imported "
            f"(more than IMPORTS_DELETE_MAX_SHARE = {share:.0%}); the run stopped and nothing was changed. "
            "If that is intended, raise the share or run once with delete_missing off."
        )
    return missing


def _refuse(run: ImportRun, refusals: list[RowRefusal]) -> None:
    run.refused += len(refusals)
    room = KEPT_REFUSALS - len(run.refusals)
    run.refusals = [*run.refusals, *(r.text() for r in refusals[: max(room, 0)])]


def _count(run: ImportRun, written: WriteResult, mapped: MappedRows) -> None:
    run.added += written.added
    run.updated += written.updated
    run.deleted += written.deleted
    run.unchanged += written.unchanged
    _refuse(
        run,
        [
            RowRefusal(mapped.row_of.get(r.change.record_id, 0), r.change.record_id, r.reason)
            for r in written.refused
        ],
    )


def _after_batch(run: ImportRun, claim: Claim, advance: Progress | None, size: int) -> None:
    claim.refresh()
    run.save(update_fields=["added", "updated", "deleted", "unchanged", "refused", "refusals"])
    if advance:
        advance(size)
