"""`purgesync`: forget pushed SyncIDs and sync log rows past their retention periods (run it daily)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.queue.services import purge_old
from apps.sites.lockout import forget_old_failures


class Command(BaseCommand):
    help = (
        "Delete remembered pushed SyncIDs older than SYNC_PUSHED_ID_RETENTION_DAYS and sync log rows older "
        "than SYNC_LOG_RETENTION_DAYS, and login failure counts whose window ended, so those tables do not "
        "grow forever. Safe to run at any time."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        removed = purge_old()
        failures = forget_old_failures()
        self.stdout.write(
            f"Removed {removed['pushed_sync_ids']} pushed SyncIDs older than "
            f"{settings.SYNC_PUSHED_ID_RETENTION_DAYS} days and {removed['sync_logs']} sync log rows older "
            f"than {settings.SYNC_LOG_RETENTION_DAYS} days, and {failures} expired login failure counts."
        )
