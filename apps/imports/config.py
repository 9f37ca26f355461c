"""A schedule's `config` object in the API: the source's settings and the schedule's, as one set of
keys. `PUT` merges it key by key; every value is checked here, with errors that name the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from .mapping import MappingError, record_type_spec
from .models import DataSource, ImportSchedule
from .sources import SourceError
from .sql_source import check_select
from .timing import DAYS, ScheduleError, check_schedule, parse_day_of_week

# API key -> (model, attribute). The connection's secrets are never a key: they live in the environment.
SOURCE_KEYS = {
    "path": "path",
    "url": "url",
    "sheetName": "sheet_name",
    "range": "cell_range",
    "connection": "connection",
    "query": "query",
    "timeoutSeconds": "timeout_seconds",
}
SCHEDULE_KEYS = {
    "syncTime": "sync_time",
    "dayOfWeek": "day_of_week",
    "timeZone": "time_zone",
    "mapping": "mapping",
    "keyColumn": "key_column",
    "deleteMissing": "delete_missing",
}
SOURCE_KINDS = [k.value for k in DataSource.Kind]


class ConfigError(ValueError):
    """Bad schedule settings, in words; nothing is saved."""


@dataclass
class Settings:
    """What a config object sets, split between the source and the schedule."""

    source: dict[str, Any]
    schedule: dict[str, Any]


def split_config(config: Any) -> Settings:
    if not isinstance(config, dict):
        raise ConfigError("config must be a JSON object.")
    unknown = sorted(set(config) - set(SOURCE_KEYS) - set(SCHEDULE_KEYS))
    if unknown:
        raise ConfigError(
            f"Unknown config key(s): {', '.join(unknown)}. Known: "
            f"{', '.join([*SOURCE_KEYS, *SCHEDULE_KEYS])}."
        )
    result = Settings(source={}, schedule={})
    for key, value in config.items():
        if key in SOURCE_KEYS:
            result.source[SOURCE_KEYS[key]] = _source_value(key, value)
        else:
            result.schedule[SCHEDULE_KEYS[key]] = _schedule_value(key, value)
    return result


def _source_value(key: str, value: Any) -> Any:
    if key == "timeoutSeconds":
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 3600:
            raise ConfigError("config.timeoutSeconds must be a whole number of seconds from 1 to 3600.")
        return value
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"config.{key} must be text.")
    return value.strip()


def _schedule_value(key: str, value: Any) -> Any:
    if key == "mapping":
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, str | None) for v in value.values()):
            raise ConfigError(
                'config.mapping must be an object of column -> field (or null), e.g. {"Code": "code"}.'
            )
        return value
    if key == "deleteMissing":
        if not isinstance(value, bool):
            raise ConfigError("config.deleteMissing must be true or false.")
        return value
    if key == "dayOfWeek":
        try:
            return parse_day_of_week(value)
        except ScheduleError as exc:
            raise ConfigError(str(exc)) from exc
    if key == "timeZone" and value in (None, ""):
        return "UTC"
    if key == "syncTime" and value in (None, ""):
        return "00:00"
    if key == "keyColumn" and value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"config.{key} must be text.")
    return value.strip()


def check_source(source: DataSource) -> None:
    """The settings a source of its kind needs, present and consistent."""
    kind = source.kind
    if kind not in SOURCE_KINDS:
        raise ConfigError(f"sourceType must be one of {', '.join(SOURCE_KINDS)}, not '{kind}'.")
    if kind in (DataSource.Kind.CSV, DataSource.Kind.XLSX) and bool(source.path) == bool(source.url):
        raise ConfigError(
            f"A {kind} source needs exactly one of config.path (under the file root) or config.url."
        )
    if kind == DataSource.Kind.GOOGLE_SHEET and not source.url:
        raise ConfigError("A googleSheet source needs config.url (the sheet's link or CSV export URL).")
    if source.url and not source.url.lower().startswith(("http://", "https://")):
        raise ConfigError("config.url must be an http:// or https:// URL.")
    if kind == DataSource.Kind.SQL:
        if not source.connection:
            raise ConfigError(
                "A sql source needs config.connection: a DATABASES alias or NAME with IMPORTS_SQL_<NAME>_URL "
                "set in the environment."
            )
        try:
            check_select(source.query)
        except SourceError as exc:
            raise ConfigError(str(exc)) from exc


def check_schedule_row(schedule: ImportSchedule) -> None:
    try:
        spec = record_type_spec(schedule.record_type)
        check_schedule(
            frequency=schedule.frequency,
            sync_time=schedule.sync_time,
            day_of_week=schedule.day_of_week,
            time_zone=schedule.time_zone,
        )
    except (MappingError, ScheduleError) as exc:
        raise ConfigError(str(exc)) from exc
    if not isinstance(schedule.mapping, dict):
        raise ConfigError('mapping must be an object of column -> field (or null), e.g. {"Code": "code"}.')
    unknown = sorted(
        str(f) for f in (schedule.mapping or {}).values() if f and spec.field_name(str(f)) is None
    )
    if unknown:
        raise ConfigError(
            f"config.mapping names field(s) that {spec.name} does not have: {', '.join(unknown)}."
        )


def config_of(schedule: ImportSchedule) -> dict[str, Any]:
    """The config object as the API shows it (never a secret: those are not stored)."""
    source = schedule.source
    shown: dict[str, Any] = {key: getattr(source, attribute) for key, attribute in SOURCE_KEYS.items()}
    shown.update({key: getattr(schedule, attribute) for key, attribute in SCHEDULE_KEYS.items()})
    if schedule.day_of_week is not None:
        shown["dayOfWeek"] = DAYS[schedule.day_of_week]
    if shown["timeoutSeconds"] is None:
        shown["timeoutSeconds"] = settings.IMPORTS_READ_TIMEOUT_SECONDS
    return {k: v for k, v in shown.items() if v not in ("", None)} | {
        "deleteMissing": schedule.delete_missing,
        "mapping": schedule.mapping or {},
    }
