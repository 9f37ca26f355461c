"""Monitoring's part in the queue app's signals: every logged sync call, and `purgesync`."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError

from . import metrics, services

logger = logging.getLogger(__name__)


def count_call(sender: Any, *, site_id: int, call: str, counts: dict[str, int], **kwargs: Any) -> None:
    metrics.count_records(api_version=kwargs.get("api_version", ""), counts=counts)
    try:
        services.count_call(
            site_id=site_id,
            call=call,
            counts=counts,
            status_code=kwargs["status_code"],
            duration_ms=kwargs["duration_ms"],
            at=kwargs["at"],
            error=kwargs.get("error", ""),
            app_version=kwargs.get("app_version", ""),
        )
    except DatabaseError:  # the response is out and the log row written; a lost count is no error
        logger.exception("could not add the %s call of site %s to the rollup", call, site_id)


def purge_rollup(sender: Any, *, now: datetime, **kwargs: Any) -> str:
    count = services.purge_rollup(now=now)
    return f"{count} hourly rollup rows older than {settings.MONITORING_ROLLUP_RETENTION_DAYS} days"


def count_admin_login_failure(sender: Any, **kwargs: Any) -> None:
    """`user_login_failed`: a wrong admin password (sync API logins are counted by their 401)."""
    metrics.AUTH_FAILURES.labels("admin").inc()
