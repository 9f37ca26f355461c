"""Table sync endpoints (docs/tables-api.md): push operations, pull tables. Thin: parse, call, encode.

Every answer carries `success`; refusals add `error` (a short label), `reason` and, for a push, the
`index` of the operation at fault.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from django.db import DatabaseError
from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.tablesync import selectors, services
from apps.tablesync.errors import TableSyncError

from .authentication import SiteBasicAuthentication
from .errors import SuccessFlagMixin
from .renderers import json_response
from .synclog import CallLogMixin

logger = logging.getLogger(__name__)


class TableSyncView(SuccessFlagMixin, CallLogMixin, APIView):
    """Authenticated as a site, with the same Basic scheme, lockout and hardware binding as /sync/vN."""

    authentication_classes = [SiteBasicAuthentication]
    hardware_mismatch_status = 403

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.started = time.perf_counter()
        self.log_counts: dict[str, int | str] = {}
        self.site = None
        super().initial(request, *args, **kwargs)
        self.site = request.user


def json_body(request: Request) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        document = orjson.loads(request.body)
    except orjson.JSONDecodeError as exc:
        raise TableSyncError("Invalid request", f"the body is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise TableSyncError("Invalid request", "the body must be a JSON object")
    return document


class TablePushView(TableSyncView):
    call = "table_push"

    def post(self, request: Request) -> HttpResponse:
        body = json_body(request)
        device_id = body.get("device_id")
        if device_id is not None and not isinstance(device_id, str | int):
            raise TableSyncError("Invalid request", "device_id: expected a string")
        self.log_counts = {"device_id": "" if device_id is None else str(device_id)}
        if "operations" not in body:
            raise TableSyncError(
                "Invalid request", 'operations: required, an array of {"table", "action", "data"}'
            )
        operations = services.parse_operations(body["operations"])
        self.log_counts["pushed"] = len(operations)
        result = services.table_push(site=request.user, operations=operations)
        self.log_counts["applied"] = result.applied
        return json_response(
            {
                "success": True,
                "applied": result.applied,
                "unchanged": result.unchanged,
                "skipped": result.skipped,
            }
        )


class LegacyTablePushView(TablePushView):
    """`/sync`, the older name of `/sync/push`: the same call, its own name in the OpenAPI schema."""


class TablePullView(TableSyncView):
    call = "table_pull"

    def get(self, request: Request) -> HttpResponse:
        params = request.query_params
        tables = [t.strip() for t in params.get("tables", "").split(",") if t.strip()]
        after = {name[len("after.") :]: value for name, value in params.items() if name.startswith("after.")}
        return self.pull(tables=tables, after=after, limit=params.get("limit"))

    def post(self, request: Request) -> HttpResponse:
        body = json_body(request)
        tables = body.get("tables")
        if isinstance(tables, str):
            tables = [t.strip() for t in tables.split(",") if t.strip()]
        if tables is not None and not (isinstance(tables, list) and all(isinstance(t, str) for t in tables)):
            raise TableSyncError("Invalid request", "tables: expected an array of table names")
        after = body.get("after") or {}
        if not isinstance(after, dict) or not all(isinstance(v, str) for v in after.values()):
            raise TableSyncError(
                "Invalid request", 'after: expected {"<table>": "<key>"} as returned in next'
            )
        return self.pull(tables=tables, after=after, limit=body.get("limit"))

    def pull(self, *, tables: list[str] | None, after: dict[str, str], limit: Any) -> HttpResponse:
        limit = selectors.pull_limit(limit)
        try:
            page = selectors.table_pull(site=self.request.user, tables=tables, after=after, limit=limit)
        except DatabaseError as exc:
            logger.exception("table pull failed for site %s", self.request.user.pk)
            raise TableSyncError(
                "Pull sync failed", "the database could not be read; try again shortly", status=503
            ) from exc
        self.log_counts = {"pulled": sum(len(rows) for rows in page.rows.values())}
        # Rows are stored as JSON text: passed through as fragments, not parsed and encoded again.
        data = {table: [orjson.Fragment(row) for row in rows] for table, rows in page.rows.items()}
        return json_response(
            {"success": True, "data": data, "next": page.next, "has_more": page.has_more, "limit": limit}
        )
