"""Admin for quarantined records: read why a pushed record was refused, fix its raw text, replay it.

It lives in the api app because replaying decodes the record's wire format (v1 field numbers or v2/v3
names), and wire formats live only here.
"""

from __future__ import annotations

from typing import Any

import orjson
from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from apps.queue.admin_helpers import BigTableAdmin, json_block, shorten
from apps.queue.models import QuarantinedRecord

from .codecs import API_VERSIONS
from .replay import discard_quarantined, replay_quarantined

Status = QuarantinedRecord.Status
ALL = "all"


class QuarantineStatusFilter(admin.SimpleListFilter):
    """Pending by default: that is the operator's work list, and the (status, received_at) index
    serves it. Sorting pending first over the whole table instead would need a filesort."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*Status.choices, (ALL, "all")]

    def choices(self, changelist: Any):
        current = self.value() or Status.PENDING
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[QuarantinedRecord]) -> QuerySet:
        value = self.value() or Status.PENDING
        return queryset if value == ALL else queryset.filter(status=value)


class ApiVersionFilter(admin.SimpleListFilter):
    """Fixed choices: a field filter would scan the whole table for its distinct values."""

    title = "API version"
    parameter_name = "api_version"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(version, version) for version in API_VERSIONS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[QuarantinedRecord]) -> QuerySet:
        return queryset.filter(api_version=self.value()) if self.value() else queryset


class QuarantinedRecordForm(forms.ModelForm):
    class Meta:
        model = QuarantinedRecord
        fields = ["raw"]
        widgets = {"raw": forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "vLargeTextField"})}

    def clean_raw(self) -> str:
        raw = self.cleaned_data["raw"]
        # Every wire format is a JSON object per record; catch a typo now rather than at replay.
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise forms.ValidationError(f"This is not valid JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise forms.ValidationError("A record is one JSON object: {...}.")
        return raw


# Pending quarantine, counted per site and reason, shown above the list (the largest groups first).
SUMMARY_ROWS = 20


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(BigTableAdmin):
    form = QuarantinedRecordForm
    list_display = [
        "received_at",
        "site_id",
        "api_version",
        "record_type",
        "record_id",
        "store_id",
        "status",
        "short_reason",
    ]
    list_filter = [QuarantineStatusFilter, "site", ApiVersionFilter]
    search_fields = ["=record_id", "=sync_id"]
    ordering = ["-received_at", "-id"]
    actions = ["replay", "discard"]
    fields = [
        "site",
        "api_version",
        "sync_id",
        "record_type",
        "record_id",
        "store_id",
        "status",
        "received_at",
        "resolved_at",
        "reason",
        "raw",
        "raw_pretty",
    ]
    readonly_fields = [f for f in fields if f != "raw"]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """The list, with what is pending counted per site and reason above it."""
        summary = (
            QuarantinedRecord.objects.filter(status=Status.PENDING)
            .values("site_id", "reason")
            .annotate(records=Count("id"))
            .order_by("-records", "site_id")[:SUMMARY_ROWS]
        )
        context = {**(extra_context or {}), "pending_summary": list(summary)}
        return super().changelist_view(request, extra_context=context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[QuarantinedRecord]:
        queryset = super().get_queryset(request)
        # The list shows the reason shortened and never the raw text, which may be kilobytes.
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            queryset = queryset.defer("raw")
        return queryset

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="raw, formatted")
    def raw_pretty(self, quarantined: QuarantinedRecord) -> str:
        return json_block(quarantined.raw)

    @admin.display(description="reason")
    def short_reason(self, quarantined: QuarantinedRecord) -> str:
        return shorten(quarantined.reason, 100)

    @admin.action(description="Replay selected records (apply them again as pushed)", permissions=["change"])
    def replay(self, request: HttpRequest, queryset: QuerySet[QuarantinedRecord]) -> None:
        result = replay_quarantined(quarantined=queryset)
        level = messages.WARNING if result.still_refused else messages.SUCCESS
        text = f"{result.replayed} replayed, {result.still_refused} still refused."
        if result.reasons:
            text += " " + "; ".join(result.reasons[:5])
        self.message_user(request, text, level)

    @admin.action(description="Discard selected records (they will not be applied)", permissions=["change"])
    def discard(self, request: HttpRequest, queryset: QuerySet[QuarantinedRecord]) -> None:
        discarded = discard_quarantined(quarantined=queryset)
        self.message_user(request, f"Discarded {discarded} quarantined records.", messages.SUCCESS)
