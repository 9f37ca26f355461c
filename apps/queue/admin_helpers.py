"""Admin pieces shared by the big-table admins: a paginator that never counts a whole table, and JSON display.

The record, queue, log and quarantine tables grow to millions of rows. Django's default changelist runs
`SELECT COUNT(*)` over the filtered table (and once more over the whole table) on every page view, which
on InnoDB reads every row. These helpers bound that work (docs/development/structure.md, "Principles").
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import SafeString

# Past this many matching rows the changelist stops counting; filter or search to narrow the list.
COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows: `SELECT COUNT(*) FROM (SELECT id ... LIMIT cap)`.

    The count is exact for small results (so paging works as usual) and costs at most `cap` index
    entries for big ones, whatever the size of the table. The ordering is dropped from the count
    because it does not change how many rows there are and would force a sort.
    """

    count_cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if isinstance(object_list, QuerySet):
            return object_list.order_by()[: self.count_cap].count()
        return len(object_list)


class BigTableAdmin(admin.ModelAdmin):
    """A ModelAdmin for a table that may hold millions of rows."""

    paginator = CappedCountPaginator
    # The "N total" beside a filtered result is a COUNT(*) over the whole table.
    show_full_result_count = False
    # Facets run one COUNT per filter choice over the filtered table.
    show_facets = admin.ShowFacets.NEVER
    # Sorting by an arbitrary column is a filesort of the whole table; keep the indexed default order.
    sortable_by: tuple[str, ...] = ()
    date_hierarchy = None
    list_per_page = 100


class ReadOnlyAdminMixin:
    """Rows that only the sync machinery writes: operators look, never add, change or delete."""

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


def pretty_json(text: str) -> str:
    """Stored JSON indented for people; text that is not JSON is returned as it is."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return text


def json_block(text: str) -> SafeString:
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', pretty_json(text))


def shorten(text: str, length: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"
