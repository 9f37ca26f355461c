"""Data sources, import schedules, their runs, and the keys each schedule has imported.

Secrets are never stored here: a SQL source names a connection whose URL or settings live in the
environment (services in sources.py resolve it at run time).
"""

from __future__ import annotations

from django.db import models


class Named(models.Model):
    """An object the operator names and picks by name: listed by name, with when it was made and changed."""

    name: str  # each model declares its own field (unique, with its own length)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DataSource(Named):
    class Kind(models.TextChoices):
        CSV = "csv", "CSV (file or URL)"
        XLSX = "xlsx", "Excel .xlsx (file or URL)"
        GOOGLE_SHEET = "googleSheet", "Google Sheet (public CSV export)"
        SQL = "sql", "SQL query"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    path = models.CharField(
        max_length=500, blank=True, help_text="A file under IMPORTS_FILE_ROOT (CSV, xlsx), relative to it."
    )
    url = models.CharField(max_length=1000, blank=True, help_text="http(s) URL (CSV, xlsx, Google Sheet).")
    sheet_name = models.CharField(max_length=200, blank=True, help_text="xlsx / Google Sheet: the sheet.")
    cell_range = models.CharField(
        max_length=50, blank=True, help_text="xlsx / Google Sheet: a range such as A1:F500 (header first)."
    )
    connection = models.CharField(
        max_length=100,
        blank=True,
        help_text="SQL: a DATABASES alias, or NAME for the environment variable IMPORTS_SQL_<NAME>_URL.",
    )
    query = models.TextField(blank=True, help_text="SQL: one read-only SELECT.")
    timeout_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Read timeout; empty: IMPORTS_READ_TIMEOUT_SECONDS."
    )


class ImportSchedule(Named):
    class Frequency(models.TextChoices):
        HOURLY = "hourly", "hourly (at the minute of sync time)"
        DAILY = "daily", "daily at sync time"
        WEEKLY = "weekly", "weekly on day of week at sync time"

    name = models.CharField(max_length=100, unique=True)
    source = models.ForeignKey(DataSource, on_delete=models.PROTECT, related_name="schedules")
    record_type = models.CharField(max_length=64, help_text="The registry's record type the rows become.")
    mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text='Column -> field, e.g. {"Item code": "code"}; a column mapped to null is skipped. '
        "Unmapped columns go to the field of the same name (any case).",
    )
    key_column = models.CharField(
        max_length=200, blank=True, help_text="The column that holds the record id; empty: the registry key."
    )
    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.DAILY)
    sync_time = models.CharField(max_length=5, default="00:00", help_text="HH:MM in the time zone.")
    day_of_week = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Weekly: 0 Monday ... 6 Sunday."
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    enabled = models.BooleanField(default=True)
    delete_missing = models.BooleanField(
        default=False, help_text="Delete records this schedule imported before that the source no longer has."
    )
    next_sync_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The claim of the runner executing it now: set and cleared with conditional UPDATEs (services.py).
    claim_token = models.CharField(max_length=64, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_manual_at = models.DateTimeField(null=True, blank=True)


class ImportRun(models.Model):
    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled", "scheduled"
        MANUAL = "manual", "manual"

    class Status(models.TextChoices):
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"
        INTERRUPTED = "interrupted", "interrupted"

    schedule = models.ForeignKey(ImportSchedule, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    columns = models.JSONField(default=list, blank=True)
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    refusals = models.JSONField(default=list, blank=True, help_text="The first refused rows and why.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["schedule", "-started_at"], name="import_run_schedule_idx")]

    def __str__(self) -> str:
        return f"{self.schedule} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)


class ImportedKey(models.Model):
    """A record id a schedule has written: only these may be deleted by its `delete_missing`."""

    schedule = models.ForeignKey(ImportSchedule, on_delete=models.CASCADE, related_name="+")
    record_id = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["schedule", "record_id"], name="imported_key_unique")]

    def __str__(self) -> str:
        return f"{self.schedule_id}: {self.record_id}"
