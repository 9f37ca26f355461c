"""The imports app's part in `purgesync` (a signal sent by apps.queue)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.dispatch import receiver

from apps.queue.signals import purge_requested


@receiver(purge_requested)
def purge_import_runs(sender: Any, now: datetime, **kwargs: Any) -> str:
    from .services import history_purge

    count = history_purge(now=now)
    return f"{count} import runs older than {settings.IMPORTS_HISTORY_RETENTION_DAYS} days"
