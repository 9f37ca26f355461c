"""The demo's example import: a daily schedule of items from a small bundled CSV (generated data)."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings

from apps.imports.models import DataSource, ImportSchedule
from apps.imports.services import compute_next_sync

BUNDLED_CSV = Path(__file__).resolve().parent / "items.csv"
DEMO_PATH = "demo/items.csv"
DEMO_NAME = "Demo items (CSV)"
DEMO_MAPPING = {
    "Code": "code",
    "Item name": "item_name",
    "Pack size": "default_pack_size",
    "Description": "description",
}


def ensure_demo_schedule() -> ImportSchedule:
    """Copy the bundled CSV under IMPORTS_FILE_ROOT (once) and create its source and schedule (once)."""
    target = Path(settings.IMPORTS_FILE_ROOT) / DEMO_PATH
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(BUNDLED_CSV, target)
    source, _ = DataSource.objects.get_or_create(
        name=DEMO_NAME, defaults={"kind": DataSource.Kind.CSV, "path": DEMO_PATH}
    )
    schedule = ImportSchedule.objects.filter(name=DEMO_NAME).first()
    if schedule is None:
        schedule = ImportSchedule(
            name=DEMO_NAME,
            source=source,
            record_type="item",
            mapping=DEMO_MAPPING,
            frequency=ImportSchedule.Frequency.DAILY,
            sync_time="02:00",
        )
        schedule.next_sync_at = compute_next_sync(schedule)
        schedule.save()
    return schedule


def schedule_summary(schedule: ImportSchedule) -> str:
    """The line `demodata` prints about the schedule."""
    return (
        f"Import schedule '{schedule.name}' (id {schedule.pk}): daily at {schedule.sync_time} UTC from "
        f"{schedule.source.path} under IMPORTS_FILE_ROOT; run it now with "
        f"`manage.py runimport {schedule.pk}`."
    )
