"""The scheduled-imports API's JSON shapes: schedules and runs out, schedule settings in.

Keys are camelCase as in the rest of the Data Sync API; values are checked here for their JSON type,
and by apps.imports for their meaning.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apps.imports.config import config_of
from apps.imports.models import ImportRun, ImportSchedule

from .errors import BadRequest

# Top-level keys of a schedule in requests: API name -> (model attribute, JSON type, what it must be).
FIELDS: dict[str, tuple[str, type, str]] = {
    "name": ("name", str, "text"),
    "recordType": ("record_type", str, "a record type's name, such as item"),
    "frequency": ("frequency", str, "hourly, daily or weekly"),
    "enabled": ("enabled", bool, "true or false"),
}
CREATE_ONLY = {"sourceType": str, "sourceId": int}


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def run_json(run: ImportRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "scheduleId": run.schedule_id,
        "trigger": run.trigger,
        "status": run.status,
        "startedAt": _time(run.started_at),
        "finishedAt": _time(run.finished_at),
        "durationSeconds": run.duration_seconds,
        "rows": run.rows,
        "columns": run.columns,
        "changes": {"added": run.added, "updated": run.updated, "deleted": run.deleted},
        "unchanged": run.unchanged,
        "refused": run.refused,
        "refusals": run.refusals,
        "error": run.error or None,
    }


def schedule_json(schedule: ImportSchedule, last_run: ImportRun | None) -> dict[str, Any]:
    return {
        "id": schedule.pk,
        "name": schedule.name,
        "sourceType": schedule.source.kind,
        "sourceId": schedule.source_id,
        "recordType": schedule.record_type,
        "frequency": schedule.frequency,
        "enabled": schedule.enabled,
        "config": config_of(schedule),
        "nextSyncAt": _time(schedule.next_sync_at),
        "lastRun": run_json(last_run) if last_run else None,
        "createdAt": _time(schedule.created_at),
        "updatedAt": _time(schedule.updated_at),
    }


def schedule_changes(body: Any, *, creating: bool) -> dict[str, Any]:
    """The request's top-level settings as model attributes, plus `config`, `source_kind`, `source_id`."""
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object with the schedule's settings.")
    allowed = {*FIELDS, "config", *(CREATE_ONLY if creating else ())}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"Unknown key(s): {', '.join(unknown)}. Known: {', '.join(sorted(allowed))}.")
    changes: dict[str, Any] = {}
    for key, (attribute, kind, what) in FIELDS.items():
        if key in body:
            if not isinstance(body[key], kind):
                raise BadRequest(f"{key} must be {what}.")
            changes[attribute] = body[key]
    if "config" in body:
        if not isinstance(body["config"], dict):
            raise BadRequest("config must be a JSON object.")
        changes["config"] = body["config"]
    if creating:
        for key in ("name", "recordType"):
            if key not in body:
                raise BadRequest(f"{key} is required.")
        source_id = body.get("sourceId")
        if source_id is not None and (not isinstance(source_id, int) or isinstance(source_id, bool)):
            raise BadRequest("sourceId must be a data source's id (a whole number).")
        if source_id is None and not isinstance(body.get("sourceType"), str):
            raise BadRequest(
                "sourceType is required (csv, xlsx, googleSheet or sql), or sourceId of a source."
            )
        changes["source_id"] = source_id
        changes["source_kind"] = body.get("sourceType") or ""
    return changes


def bool_param(value: str | None, name: str) -> bool | None:
    if value is None or value == "":
        return None
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise BadRequest(f"The query parameter '{name}' must be true or false, not '{value}'.")
