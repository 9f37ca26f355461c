"""Admin for the record-type registry mirror.

The registry file (fixtures/registry.json) is the source of truth and the table is rewritten from it
after every migrate, so the admin only reads it. Records themselves are registered in
apps/queue/admin.py: an edit there must fan out to the sites, and this app does not know the queue.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import RecordType, UnknownField


@admin.register(RecordType)
class RecordTypeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "table_number",
        "scope",
        "dump_order",
        "key_field",
        "store_field",
        "parent_type",
        "mobile_via",
        "mobile",
        "field_count",
    ]
    list_filter = ["scope", "mobile"]
    search_fields = ["name", "=table_number"]
    ordering = ["table_number"]
    list_per_page = 200

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UnknownField)
class UnknownFieldAdmin(admin.ModelAdmin):
    """Field names clients send that the registry lacks: add them to fixtures/registry.json (with new
    v1 numbers) so v1 clients receive them too. The records themselves were kept."""

    list_display = ["record_type", "name", "example", "first_seen_at", "last_seen_at", "last_site"]
    list_filter = ["record_type"]
    search_fields = ["record_type", "name"]
    readonly_fields = list_display

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
