"""Admin for the record-type registry mirror.

The registry file (fixtures/registry.json) is the source of truth and the table is rewritten from it
after every migrate, so the admin only reads it. Records themselves are registered in
apps/queue/admin.py: an edit there must fan out to the sites, and this app does not know the queue.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import RecordType


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
        "field_count",
    ]
    list_filter = ["scope"]
    search_fields = ["name", "=table_number"]
    ordering = ["table_number"]
    list_per_page = 200

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
