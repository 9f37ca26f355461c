"""`purgesync`: forget pushed SyncIDs and sync log rows past their retention periods (run it daily).

Other apps purge their own history on the same run through the `purge_requested` signal.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from apps.queue.services import history_purge
from apps.queue.signals import purge_requested
from apps.sites.lockout import forget_old_failures


class Command(BaseCommand):
    help = (
        "Delete remembered pushed SyncIDs older than SYNC_PUSHED_ID_RETENTION_DAYS and sync log rows older "
        "than SYNC_LOG_RETENTION_DAYS, login failure counts whose window ended (and the other apps' old "
        "history, such as import runs older than IMPORTS_HISTORY_RETENTION_DAYS), so those tables do not "
        "grow forever. Safe to run at any time."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        removed = history_purge(now=now)
        failures = forget_old_failures()
        self.stdout.write(
            f"Removed {removed['pushed_sync_ids']} pushed SyncIDs older than "
            f"{settings.SYNC_PUSHED_ID_RETENTION_DAYS} days and {removed['sync_logs']} sync log rows older "
            f"than {settings.SYNC_LOG_RETENTION_DAYS} days, and {failures} expired login failure counts."
        )
        for _receiver, report in purge_requested.send(sender=self.__class__, now=now):
            if report:
                self.stdout.write(f"Removed {report}.")
