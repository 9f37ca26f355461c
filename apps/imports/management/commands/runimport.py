"""`runimport ID`: run one import schedule now, whatever its next slot (a manual run)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.imports.models import ImportSchedule
from apps.imports.services import AlreadyRunning, schedule_run_now

from ._progress import bar_factory
from .runimports import describe


class Command(BaseCommand):
    help = (
        "Run the import schedule ID now (a manual run; its next scheduled run is kept). Fails if the "
        "schedule is running elsewhere at this moment. Exit status 1 when the run fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("schedule_id", type=int, metavar="ID", help="The schedule's id (see the admin).")

    def handle(self, *args: Any, schedule_id: int, **options: Any) -> None:
        schedule = ImportSchedule.objects.select_related("source").filter(pk=schedule_id).first()
        if schedule is None:
            raise CommandError(f"There is no import schedule {schedule_id}.")
        stream = getattr(self.stderr, "_out", sys.stderr)
        try:
            run = schedule_run_now(schedule=schedule, rate_limited=False, progress=bar_factory(stream))
        except AlreadyRunning as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(describe(run))
        if run.status != run.Status.SUCCEEDED:
            raise CommandError(f"The import of '{schedule.name}' did not succeed: {run.error}")
