"""Admin for data sources, import schedules (Run now / Enable / Disable) and their runs (read-only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .config import ConfigError, check_schedule_row, check_source
from .models import DataSource, ImportRun, ImportSchedule
from .selectors import last_runs
from .services import AlreadyRunning, TooSoon, compute_next_sync, schedule_run_now, schedule_set_enabled


class CheckedForm(forms.ModelForm):
    """A form whose object is checked by the same rules as the API's, before it is saved."""

    @staticmethod
    def check_object(obj: Any) -> None:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # A probe without relations: the rules read plain fields only.
        probe = self._meta.model(**{k: v for k, v in cleaned.items() if k != "source"})
        try:
            self.check_object(probe)
        except ConfigError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return cleaned


class DataSourceForm(CheckedForm):
    check_object = staticmethod(check_source)

    class Meta:
        model = DataSource
        fields = [
            "name",
            "kind",
            "path",
            "url",
            "sheet_name",
            "cell_range",
            "connection",
            "query",
            "timeout_seconds",
        ]


@admin.register(DataSource)
class DataSourceAdmin(admin.ModelAdmin):
    form = DataSourceForm
    list_display = ["name", "kind", "path", "url", "connection", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name"]


class ImportScheduleForm(CheckedForm):
    check_object = staticmethod(check_schedule_row)

    class Meta:
        model = ImportSchedule
        fields = [
            "name", "source", "record_type", "mapping", "key_column", "frequency", "sync_time", "day_of_week",
            "time_zone", "enabled", "delete_missing",
        ]  # fmt: skip


@admin.register(ImportSchedule)
class ImportScheduleAdmin(admin.ModelAdmin):
    form = ImportScheduleForm
    list_display = [
        "name",
        "record_type",
        "source",
        "frequency",
        "sync_time",
        "enabled",
        "next_sync_at",
        "last_run",
    ]
    list_filter = ["enabled", "frequency", "record_type"]
    search_fields = ["name"]
    list_select_related = ["source"]
    readonly_fields = ["next_sync_at", "claimed_at", "last_manual_at", "created_at", "updated_at"]
    actions = ["run_now_action", "enable", "disable"]

    @admin.display(description="last run")
    def last_run(self, schedule: ImportSchedule) -> str:
        run = last_runs([schedule.pk]).get(schedule.pk)
        if run is None:
            return "never"
        counts = f"+{run.added} ~{run.updated} -{run.deleted}, {run.refused} refused"
        return f"{run.status} {run.started_at:%Y-%m-%d %H:%M} ({counts})"

    def save_model(self, request: HttpRequest, obj: ImportSchedule, form: Any, change: bool) -> None:
        obj.next_sync_at = compute_next_sync(obj)
        super().save_model(request, obj, form, change)

    @admin.action(description="Run now")
    def run_now_action(self, request: HttpRequest, queryset: QuerySet[ImportSchedule]) -> None:
        for schedule in queryset.select_related("source"):
            try:
                run = schedule_run_now(schedule=schedule)
            except (AlreadyRunning, TooSoon) as exc:
                self.message_user(request, f"{schedule}: {exc}", messages.WARNING)
                continue
            level = messages.SUCCESS if run.status == ImportRun.Status.SUCCEEDED else messages.ERROR
            self.message_user(
                request,
                f"{schedule}: {run.status}: {run.added} added, {run.updated} updated, {run.deleted} deleted, "
                f"{run.unchanged} unchanged, {run.refused} refused. {run.error}",
                level,
            )

    @admin.action(description="Enable")
    def enable(self, request: HttpRequest, queryset: QuerySet[ImportSchedule]) -> None:
        for schedule in queryset:
            schedule_set_enabled(schedule=schedule, enabled=True)
        self.message_user(request, f"{queryset.count()} schedule(s) enabled.", messages.SUCCESS)

    @admin.action(description="Disable")
    def disable(self, request: HttpRequest, queryset: QuerySet[ImportSchedule]) -> None:
        for schedule in queryset:
            schedule_set_enabled(schedule=schedule, enabled=False)
        self.message_user(request, f"{queryset.count()} schedule(s) disabled.", messages.SUCCESS)


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = [
        "schedule", "trigger", "status", "started_at", "duration", "rows", "added", "updated", "deleted",
        "unchanged", "refused",
    ]  # fmt: skip
    list_filter = ["status", "trigger"]
    list_select_related = ["schedule"]
    date_hierarchy = "started_at"

    @admin.display(description="seconds")
    def duration(self, run: ImportRun) -> float | None:
        return run.duration_seconds

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
