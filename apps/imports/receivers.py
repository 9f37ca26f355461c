"""The imports app's part in `purgesync` and `demodata` (signals sent by apps.queue)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.dispatch import receiver

from apps.queue.signals import demo_seeded, purge_requested


@receiver(purge_requested)
def purge_import_runs(sender: Any, now: datetime, **kwargs: Any) -> str:
    from .services import purge_history

    count = purge_history(now=now)
    return f"{count} import runs older than {settings.IMPORTS_HISTORY_RETENTION_DAYS} days"


@receiver(demo_seeded)
def add_demo_schedule(sender: Any, **kwargs: Any) -> str:
    from .demo import ensure_demo_schedule

    schedule = ensure_demo_schedule()
    return (
        f"Import schedule '{schedule.name}' (id {schedule.pk}): daily at {schedule.sync_time} UTC from "
        f"{schedule.source.path} under IMPORTS_FILE_ROOT; run it now with "
        f"`manage.py runimport {schedule.pk}`."
    )
