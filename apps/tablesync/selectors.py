"""Reads of table sync: which tables are served, and a page of the rows a site may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q

from apps.records.models import Record
from apps.records.registry import get_registry
from apps.sites.models import Site, Store

from .errors import TableSyncError


def allowed_tables() -> list[str]:
    """SYNC_ALLOWED_TABLES in the registry, in the order configured (unknown names fail the checks)."""
    registry = get_registry()
    return [name for name in settings.SYNC_ALLOWED_TABLES if registry.get(name) is not None]


def visible_rows(*, site: Site, table: str, after: str | None, limit: int) -> list[tuple[str, str]]:
    """(key, data JSON) of up to `limit` live rows of `table` after the key `after`, ordered by key.

    The rows are those routing sends the site (apps/queue/fanout.py): central data whole, store data of
    its stores, and transfers (with their lines) whose other party is one of its stores. Keyset paging
    on (record_type, record_id), so every row comes exactly once however many pages it takes.
    """
    spec = get_registry().types[table]
    rows = Record.objects.filter(record_type_id=table, is_deleted=False)
    if not spec.is_central:
        own = Store.objects.filter(site_id=site.pk)
        rows = rows.filter(
            Q(store_id__in=own.values("pk"))
            | (~Q(transfer_name_id="") & Q(transfer_name_id__in=own.values("name_id")))
        )
    if after is not None:
        rows = rows.filter(record_id__gt=after)
    return list(rows.order_by("record_id").values_list("record_id", "data")[:limit])


DEFAULT_PULL_LIMIT = 1000


@dataclass
class TablePage:
    rows: dict[str, list[str]]  # table -> the rows' data, JSON text as stored
    next: dict[str, str | None]  # table -> the key to continue after, None when the table is done

    @property
    def has_more(self) -> bool:
        return any(cursor is not None for cursor in self.next.values())


def pull_limit(limit: Any) -> int:
    """`limit` as asked (default 1000), capped at SYNC_TABLES_PULL_CAP; a bad value is refused."""
    if limit is None or limit == "":
        return min(DEFAULT_PULL_LIMIT, settings.SYNC_TABLES_PULL_CAP)
    try:
        value = int(limit)
    except (TypeError, ValueError):
        value = 0
    if isinstance(limit, bool | float) or value < 1:
        raise TableSyncError("Invalid request", f"limit: expected a whole number of 1 or more, not {limit!r}")
    return min(value, settings.SYNC_TABLES_PULL_CAP)


def table_pull(*, site: Site, tables: list[str] | None, after: dict[str, str], limit: int) -> TablePage:
    """A page of each table (every allowed table when none are named), each after its own cursor."""
    allowed = allowed_tables()
    if not allowed:
        raise TableSyncError(
            "No tables configured", "the server syncs no tables yet: the operator sets SYNC_ALLOWED_TABLES"
        )
    wanted = tables or allowed
    for name in [*wanted, *after]:
        if name not in allowed:
            raise TableSyncError(
                "Invalid table", f"table {name!r} is not synced here; allowed: {', '.join(allowed)}"
            )
    page = TablePage(rows={}, next={})
    for table in dict.fromkeys(wanted):
        rows = visible_rows(site=site, table=table, after=after.get(table), limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        page.rows[table] = [data for _key, data in rows]
        page.next[table] = rows[-1][0] if more else None
    return page
