"""The demo's example import schedule on the bundled CSV."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.imports.models import ImportSchedule
from apps.records.models import Record

pytestmark = pytest.mark.django_db


@pytest.fixture
def file_root(tmp_path: Path, settings) -> Path:
    settings.IMPORTS_FILE_ROOT = tmp_path
    return tmp_path


def test_demodata_adds_a_daily_schedule_on_the_bundled_csv_that_imports_its_items(file_root):
    out = StringIO()
    call_command(
        "demodata", "--items", "5", "--names", "5", "--transactions", "2", "--no-progress", stdout=out
    )
    schedule = ImportSchedule.objects.get()
    assert f"Import schedule '{schedule.name}' (id {schedule.pk})" in out.getvalue()
    assert (schedule.frequency, schedule.sync_time, schedule.enabled) == ("daily", "02:00", True)
    assert (file_root / schedule.source.path).is_file()
    call_command("runimport", str(schedule.pk), stdout=StringIO(), stderr=StringIO())
    imported = Record.objects.filter(record_type_id="item", record_id__startswith="IMPDEMO")
    assert imported.count() == 12
    # demodata again changes nothing: still one schedule.
    call_command(
        "demodata", "--items", "5", "--names", "5", "--transactions", "2", "--no-progress", stdout=out
    )
    assert ImportSchedule.objects.count() == 1
