"""Counting each sync call into the rollup: one upsert of three rows, after the response has gone out."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from apps.lib.sql import greatest, inserted_value, placeholders, upsert_head

from .models import ALL_SITES, APP_VERSION_LENGTH, LAST_ERROR_LENGTH, LATEST, SiteHour

ERROR_STATUS = 400
_ADDED = ("requests", "errors", "pushed", "pulled", "acknowledged", "quarantined", "duration_ms")
# Latest times: a call that did not push leaves last_push_at as it was.
_KEPT_UNLESS_GIVEN = ("last_call_at", "last_push_at", "last_pull_at", "last_ack_at", "last_error_at")
_COLUMNS = ("site_id", "hour", *_ADDED, *_KEPT_UNLESS_GIVEN, "last_status", "last_error", "app_version")


@functools.cache  # the same text for every call of this process: built once
def _upsert_sql() -> str:
    table = SiteHour._meta.db_table
    new = inserted_value
    updates = [f"{c} = {c} + {new(c)}" for c in _ADDED]
    # The later of the two times: calls of one site may be counted out of order by two workers.
    updates += [
        f"{c} = {greatest()}(COALESCE({new(c)}, {c}), COALESCE({c}, {new(c)}))" for c in _KEPT_UNLESS_GIVEN
    ]
    updates.append(f"last_status = {new('last_status')}")
    # An empty error or version (a call that succeeded, a client that sends none) keeps the last one.
    updates += [f"{c} = COALESCE(NULLIF({new(c)}, ''), {c})" for c in ("last_error", "app_version")]
    values = ", ".join([f"({placeholders(len(_COLUMNS))})"] * 3)
    head = upsert_head(key=("site_id", "hour"))
    return f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES {values} {head} {', '.join(updates)}"


def count_call(
    *,
    site_id: int,
    call: str,
    status_code: int,
    duration_ms: int,
    at: datetime,
    counts: Mapping[str, int],
    error: str = "",
    app_version: str = "",
) -> None:
    """Add one call to its site's hour, to every site's hour and to the site's running totals."""
    failed = status_code >= ERROR_STATUS
    stamp = connection.ops.adapt_datetimefield_value(at)
    hour = connection.ops.adapt_datetimefield_value(at.replace(minute=0, second=0, microsecond=0))
    latest = connection.ops.adapt_datetimefield_value(LATEST)
    ok = not failed
    shared = [
        1,
        int(failed),
        counts.get("pushed", 0),
        counts.get("pulled", 0),
        counts.get("acknowledged", 0),
        counts.get("quarantined", 0),
        max(0, duration_ms),
        stamp,
        stamp if ok and call in ("push", "table_push") else None,
        stamp if ok and call in ("pull", "table_pull") else None,
        stamp if ok and call == "acknowledge" else None,
        stamp if failed else None,
        status_code,
        (error or f"status {status_code}")[:LAST_ERROR_LENGTH] if failed else "",
        app_version.strip()[:APP_VERSION_LENGTH],
    ]
    params = [site_id, hour, *shared, ALL_SITES, hour, *shared, site_id, latest, *shared]
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(), params)


def purge_rollup(*, now: datetime) -> int:
    """Forget hours older than MONITORING_ROLLUP_RETENTION_DAYS (never the running totals)."""
    cutoff = now - timedelta(days=settings.MONITORING_ROLLUP_RETENTION_DAYS)
    deleted, _ = SiteHour.objects.filter(hour__lt=cutoff, hour__gt=LATEST).delete()
    return deleted
