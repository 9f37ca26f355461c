"""Admin for records, queues and the sync log, and the queue parts of the site admin.

Records are edited here rather than in apps/records because every change made on the primary must go
through primary_changes_apply: validated by the registry, tombstoned instead of removed, and fanned out
to the sites' queues. All lists here use a capped count and never load the big text columns.
"""

from __future__ import annotations

from typing import Any

import orjson
from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.records.changes import Change
from apps.records.models import Record
from apps.records.registry import get_registry
from apps.records.services import validate_change
from apps.sites.admin import SiteAdmin
from apps.sites.models import Site, Store

from .admin_helpers import BigTableAdmin, ReadOnlyAdminMixin, json_block, pretty_json, shorten
from .admin_rebuild import RebuildQueuesSiteAdmin, RebuildQueuesStoreAdmin
from .models import PushedSyncId, QuarantinedRecord, QueueEntry, SyncLog
from .services import primary_changes_apply

# A delete action over "all N selected" must not build millions of changes in one transaction.
MAX_ACTION_RECORDS = 10_000


class QueueSiteAdmin(RebuildQueuesSiteAdmin):
    """The site admin, plus how far behind each site is and a way to rebuild its queue."""

    list_display = [*SiteAdmin.list_display, "queue_depth", "pending_quarantine"]
    actions = [*SiteAdmin.actions, "rebuild_queue", "rebuild_queue_mobile"]

    @admin.display(description="queued")
    def queue_depth(self, site: Site) -> int:
        # One index range read on (site, id) per row: fine for a page of sites.
        return QueueEntry.objects.filter(site_id=site.pk).count()

    @admin.display(description="quarantined (pending)")
    def pending_quarantine(self, site: Site) -> int:
        return QuarantinedRecord.objects.filter(
            site_id=site.pk, status=QuarantinedRecord.Status.PENDING
        ).count()


admin.site.unregister(Site)
admin.site.register(Site, QueueSiteAdmin)
admin.site.unregister(Store)
admin.site.register(Store, RebuildQueuesStoreAdmin)


class RecordForm(forms.ModelForm):
    """Edits a record's data as JSON; the change is checked by the registry before anything is written."""

    data = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "vLargeTextField"}),
        help_text="The record as a JSON object. Saving sends the new state to every site that holds it.",
    )

    class Meta:
        model = Record
        fields = ["record_type", "record_id", "data"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and "data" in self.fields:
            self.initial["data"] = pretty_json(self.instance.data)
        self.parsed_data: dict[str, Any] | None = None

    def clean_data(self) -> str:
        try:
            parsed = orjson.loads(self.cleaned_data["data"])
        except orjson.JSONDecodeError as exc:
            raise forms.ValidationError(f"This is not valid JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise forms.ValidationError('The data must be a JSON object: {"field": "value", ...}.')
        self.parsed_data = parsed
        return orjson.dumps(parsed).decode()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.parsed_data is not None and self.record_key() is not None:
            # The same check records_write makes, run here so a refusal is a form error, not a 500.
            reason = validate_change(self.change(), get_registry())
            if reason:
                self.add_error("data", reason)
        return cleaned

    def record_key(self) -> tuple[str, str] | None:
        if self.instance.pk:
            return self.instance.record_type_id, self.instance.record_id
        record_type = self.cleaned_data.get("record_type")
        record_id = self.cleaned_data.get("record_id")
        if record_type is None or not record_id:
            return None
        return record_type.pk, record_id

    def change(self) -> Change:
        key = self.record_key()
        assert key is not None and self.parsed_data is not None
        return Change(record_type=key[0], record_id=key[1], action="upsert", data=self.parsed_data)


@admin.register(Record)
class RecordAdmin(BigTableAdmin):
    form = RecordForm
    # `<fk>_id` columns display without joining the small tables on every row.
    list_display = [
        "record_id",
        "record_type_id",
        "store_id",
        "change_type",
        "is_deleted",
        "source_site_id",
        "modified_at",
    ]
    list_filter = ["record_type"]
    # Exact and prefix lookups only: they can use the record_id and store_id indexes.
    search_fields = ["=record_id", "^store_id"]
    search_help_text = "An exact record id, or the start of a store id."
    # The unique (record_type, record_id) index serves this order, with or without the type filter.
    ordering = ["record_type_id", "record_id"]
    actions = ["tombstone_records"]
    readonly_fields = [
        "record_type",
        "record_id",
        "store_id",
        "ref_id",
        "transfer_name_id",
        "change_type",
        "is_deleted",
        "merged_into",
        "source_site",
        "created_by_site",
        "modified_at",
        "data_as_pulled",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Record]:
        # Records are 1-2 KB twice over (data and wire); a list page needs neither.
        return super().get_queryset(request).defer("data", "wire")

    def get_readonly_fields(self, request: HttpRequest, obj: Record | None = None) -> list[str]:
        if obj is None:
            return ["data_as_pulled"]
        return self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Record | None = None) -> list[str]:
        if obj is None:
            return ["record_type", "record_id", "data"]
        return [*self.readonly_fields[:-1], "data", "data_as_pulled"]

    @admin.display(description="data as sites pull it")
    def data_as_pulled(self, record: Record) -> str:
        return json_block(record.wire) if record.pk else "-"

    def save_model(self, request: HttpRequest, obj: Record, form: RecordForm, change: bool) -> None:
        # Never obj.save(): the write path derives store, routing and wire form, then fans out.
        written = primary_changes_apply(changes=[form.change()])
        if written.refused:
            self.message_user(request, f"Not saved: {written.refused[0].reason}", messages.ERROR)
            return
        saved = Record.objects.only("pk").get(record_type_id=obj.record_type_id, record_id=obj.record_id)
        obj.pk = saved.pk

    def has_delete_permission(self, request: HttpRequest, obj: Record | None = None) -> bool:
        # A removed row would never reach the sites; deleting is the tombstone action below.
        return False

    @admin.action(
        description="Delete selected records (sent to every site as a delete)", permissions=["change"]
    )
    def tombstone_records(self, request: HttpRequest, queryset: QuerySet[Record]) -> None:
        keys = list(
            queryset.filter(is_deleted=False)
            .order_by()
            .values_list("record_type_id", "record_id")[: MAX_ACTION_RECORDS + 1]
        )
        if len(keys) > MAX_ACTION_RECORDS:
            self.message_user(
                request,
                f"More than {MAX_ACTION_RECORDS} records selected; narrow the filter and try again.",
                messages.ERROR,
            )
            return
        written = primary_changes_apply(
            changes=[Change(record_type=t, record_id=i, action="delete") for t, i in keys]
        )
        self.message_user(request, f"{written.deleted} records deleted and queued for the sites.")


@admin.register(QueueEntry)
class QueueEntryAdmin(ReadOnlyAdminMixin, BigTableAdmin):
    list_display = ["id", "site_id", "record_type", "record_id", "store_id"]
    list_display_links = None
    list_filter = ["site"]
    # The (site, id) index: a site's queue head first, the way it is pulled.
    ordering = ["site_id", "id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[QueueEntry]:
        return (
            super()
            .get_queryset(request)
            .select_related("record")
            .only("id", "site_id", "record__record_type", "record__record_id", "record__store_id")
        )

    @admin.display(description="record type")
    def record_type(self, entry: QueueEntry) -> str:
        return entry.record.record_type_id

    @admin.display(description="record id")
    def record_id(self, entry: QueueEntry) -> str:
        return entry.record.record_id

    @admin.display(description="store")
    def store_id(self, entry: QueueEntry) -> str:
        return entry.record.store_id


class CallFilter(admin.SimpleListFilter):
    """Fixed choices: AllValuesFieldListFilter would scan the whole log for its distinct values."""

    title = "call"
    parameter_name = "call"
    CALLS = [
        "push",
        "pull",
        "count",
        "acknowledge",
        "initial_dump",
        "site",
        "user",
        "table_push",
        "table_pull",
    ]

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(call, call) for call in self.CALLS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[SyncLog]) -> QuerySet[SyncLog]:
        return queryset.filter(call=self.value()) if self.value() else queryset


class StatusCodeFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"
    CODES = [200, 400, 401, 403, 404, 413, 429, 500, 503]

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("errors", "any error (400+)"), *[(str(code), str(code)) for code in self.CODES]]

    def queryset(self, request: HttpRequest, queryset: QuerySet[SyncLog]) -> QuerySet[SyncLog]:
        value = self.value()
        if value == "errors":
            return queryset.filter(status_code__gte=400)
        if value and value.isdigit():
            return queryset.filter(status_code=int(value))
        return queryset


@admin.register(SyncLog)
class SyncLogAdmin(ReadOnlyAdminMixin, BigTableAdmin):
    list_display = [
        "created_at",
        "site_id",
        "call",
        "api_version",
        "status_code",
        "pushed",
        "applied",
        "quarantined",
        "pulled",
        "acknowledged",
        "duration_ms",
        "note",
        "device_id",
        "short_error",
    ]
    list_filter = [CallFilter, StatusCodeFilter, "site"]
    # The created_at and (site, created_at) indexes serve this order.
    ordering = ["-created_at", "-id"]

    @admin.display(description="error")
    def short_error(self, log: SyncLog) -> str:
        return shorten(log.error)


@admin.register(PushedSyncId)
class PushedSyncIdAdmin(ReadOnlyAdminMixin, BigTableAdmin):
    list_display = ["sync_id", "site_id", "received_at"]
    list_filter = ["site"]
    search_fields = ["=sync_id"]
    ordering = ["-received_at", "-id"]
