"""Settings documents in the admin: who saved what when, and restoring one of the last versions.

The settings themselves are not shown (they are often encrypted, and never logged); their size is.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import SettingsDocument, SettingsVersion
from .services import settings_restore


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.display(description="size (characters)")
def content_size(obj: SettingsDocument | SettingsVersion) -> int:
    return len(obj.content)


@admin.display(description="saved at (device clock, UTC)")
def saved_at(obj: SettingsDocument | SettingsVersion) -> str:
    return obj.saved_at.isoformat(timespec="milliseconds")


class VersionInline(ReadOnlyMixin, admin.TabularInline):
    model = SettingsVersion
    fields = ["id", "device_name", saved_at, "stored_at", content_size]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(SettingsDocument)
class SettingsDocumentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["api_key", "device_name", saved_at, "updated_at", content_size]
    list_select_related = ["api_key"]
    search_fields = ["api_key__name", "=api_key__prefix", "device_name"]
    fields = ["api_key", "device_name", saved_at, "updated_at", content_size]
    readonly_fields = fields
    inlines = [VersionInline]


@admin.register(SettingsVersion)
class SettingsVersionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The last versions of every document; select one and restore it."""

    list_display = ["id", "document", "device_name", saved_at, "stored_at", content_size]
    list_select_related = ["document__api_key"]
    list_filter = ["document__api_key"]
    fields = ["document", "device_name", saved_at, "stored_at", content_size]
    readonly_fields = fields
    actions = ["restore"]

    @admin.action(description="Restore the selected version (devices take it at their next sync)")
    def restore(self, request: HttpRequest, queryset: QuerySet[SettingsVersion]) -> None:
        versions = list(queryset.select_related("document__api_key"))
        if len({v.document_id for v in versions}) != len(versions):
            self.message_user(request, "Select at most one version of each document.", messages.ERROR)
            return
        for version in versions:
            settings_restore(version=version)
            self.message_user(
                request, f"Restored the {version} for {version.document.api_key.name}.", messages.SUCCESS
            )
