"""The imports admin over HTTP: checked forms, Run now / Enable / Disable, the last run in the list."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from apps.imports.models import DataSource, ImportRun, ImportSchedule
from apps.records.models import Record

from .conftest import csv_schedule, write_csv

pytestmark = pytest.mark.django_db

SCHEDULES = "/admin/imports/importschedule/"


def action(client: Client, name: str, *schedules: ImportSchedule):
    return client.post(
        SCHEDULES, {"action": name, "_selected_action": [s.pk for s in schedules]}, follow=True
    )


def test_run_now_imports_and_the_list_shows_the_last_runs_status(admin_client: Client, file_root: Path):
    schedule = csv_schedule(write_csv(file_root, "items.csv", ["ID,code", "A1,X", "A2,Y"]))
    page = admin_client.get(SCHEDULES).content.decode()
    assert "never" in page
    response = action(admin_client, "run_now_action", schedule)
    assert "succeeded: 2 added" in response.content.decode()
    assert Record.objects.filter(record_type_id="item").count() == 2
    page = admin_client.get(SCHEDULES).content.decode()
    assert "succeeded" in page and "+2 ~0 -0, 0 refused" in page
    # A second click within the minute is refused in words, and nothing runs.
    response = action(admin_client, "run_now_action", schedule)
    assert "less than 60 seconds ago" in response.content.decode()
    assert ImportRun.objects.count() == 1
    runs = admin_client.get("/admin/imports/importrun/")
    assert runs.status_code == 200 and "succeeded" in runs.content.decode()


def test_disable_clears_the_next_run_and_enable_computes_it_again(admin_client: Client, file_root: Path):
    schedule = csv_schedule(write_csv(file_root, "items.csv", ["ID", "A1"]))
    action(admin_client, "disable", schedule)
    schedule.refresh_from_db()
    assert (schedule.enabled, schedule.next_sync_at) == (False, None)
    action(admin_client, "enable", schedule)
    schedule.refresh_from_db()
    assert schedule.enabled and schedule.next_sync_at is not None


def test_a_source_or_schedule_that_cannot_work_is_refused_in_the_form(admin_client: Client):
    response = admin_client.post(
        "/admin/imports/datasource/add/",
        {"name": "bad", "kind": "sql", "connection": "x", "query": "DROP TABLE t"},
    )
    assert response.status_code == 200 and "SELECT" in response.content.decode()
    assert not DataSource.objects.exists()
    source = DataSource.objects.create(name="ok", kind="csv", path="a.csv")
    form = {
        "name": "s", "source": source.pk, "record_type": "no_such_type", "mapping": "{}",
        "frequency": "daily", "sync_time": "02:00", "time_zone": "UTC", "enabled": "on",
    }  # fmt: skip
    response = admin_client.post(f"{SCHEDULES}add/", form)
    assert "not a record type" in response.content.decode()
    response = admin_client.post(f"{SCHEDULES}add/", {**form, "record_type": "item"})
    assert response.status_code == 302
    assert ImportSchedule.objects.get().next_sync_at is not None
