"""`runimports [--loop]`: run the import schedules that are due, once (for cron) or in a loop.

Any number of copies may run on any number of hosts: each due run is claimed by exactly one of them.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.imports.models import ImportRun
from apps.imports.services import schedules_run_due

from ._progress import bar_factory

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def describe(run: ImportRun) -> str:
    text = (
        f"{run.schedule.name}: {run.status} ({run.trigger}) in {run.duration_seconds or 0:.1f} s: "
        f"{run.rows} rows, "
        f"{run.added} added, {run.updated} updated, {run.deleted} deleted, {run.unchanged} unchanged, "
        f"{run.refused} refused."
    )
    lines = [text, *(f"  refused {r}" for r in run.refusals[:5])]
    if run.error:
        lines.append(f"  error: {run.error}")
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Run every enabled import schedule whose next run is due, then exit (call it from cron every "
        "minute or so), or with --loop keep doing it every IMPORTS_LOOP_SECONDS until stopped (SIGTERM or "
        "Ctrl-C finish the current run first). Safe to run on several hosts at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep running; look for due runs regularly.")

    def handle(self, *args: Any, loop: bool, **options: Any) -> None:
        stream = getattr(self.stderr, "_out", sys.stderr)
        if not loop:
            runs = self._run_due(stream)
            if not runs:
                self.stdout.write("No import is due.")
            return
        stop = threading.Event()
        # A stop signal lets the current run finish: its batches are whole, but its history would
        # otherwise stay `running` until another runner recovers the claim.
        previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in STOP_SIGNALS}
        try:
            while not stop.is_set():
                self._run_due(stream)
                stop.wait(settings.IMPORTS_LOOP_SECONDS)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stdout.write("Stopped.")

    def _run_due(self, stream: Any) -> list[ImportRun]:
        runs = schedules_run_due(progress=bar_factory(stream))
        for run in runs:
            self.stdout.write(describe(run))
        return runs
