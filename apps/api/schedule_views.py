"""The scheduled-imports API under /api/sync/ (docs/imports.md): thin views over apps.imports.

API keys with the `schedules` scope, owned by a staff user. Every refusal is
`{"success": false, "error": ...}` with 400, 401, 403, 404, 409 or 429.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.imports import selectors, services
from apps.imports.config import ConfigError
from apps.imports.models import ImportRun, ImportSchedule

from .authentication import ApiKeyAuthentication
from .errors import ApiError, BadRequest, Conflict, Forbidden, NotFound
from .params import int_param
from .renderers import json_response
from .schedules import bool_param, run_json, schedule_changes, schedule_json

MAX_PAGE = 500


class TooManyRequests(ApiError):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ScheduleApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    api_key_scope = "schedules"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        owner = request.user
        if owner is None or not owner.is_staff:
            raise Forbidden("This API key is not owned by a staff user; only operators may manage schedules.")

    def handle_exception(self, exc: Exception) -> HttpResponse:
        if isinstance(exc, ConfigError):
            exc = BadRequest(str(exc))
        response = super().handle_exception(exc)
        body = {"success": False, **(orjson.loads(response.content) if response.content else {})}
        if isinstance(exc, TooManyRequests):
            body["retryAfter"] = exc.retry_after
            response["Retry-After"] = str(exc.retry_after)
        shaped = json_response(body, status=response.status_code)
        for name in ("Retry-After", "WWW-Authenticate", "Allow"):
            if name in response:
                shaped[name] = response[name]
        return shaped

    def body(self, request: Request) -> Any:
        try:
            return orjson.loads(request.body or b"null")
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"The body is not valid JSON ({exc}).") from exc

    def schedule(self, schedule_id: str) -> ImportSchedule:
        schedule = ImportSchedule.objects.select_related("source").filter(pk=int(schedule_id)).first()
        if schedule is None:
            raise NotFound(f"There is no schedule {schedule_id}.")
        return schedule

    def answer(self, schedule: ImportSchedule, status: int = 200) -> HttpResponse:
        last = selectors.last_runs([schedule.pk]).get(schedule.pk)
        return json_response({"success": True, "schedule": schedule_json(schedule, last)}, status=status)


def page_params(request: Request, *, default_limit: int) -> tuple[int, int]:
    limit = int_param(request, "limit", default=default_limit)
    offset = int_param(request, "offset", default=0)
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"The query parameter 'limit' must be from 1 to {MAX_PAGE}.")
    if offset < 0:
        raise BadRequest("The query parameter 'offset' must be 0 or more.")
    return limit, offset


class SchedulesView(ScheduleApiView):
    def get(self, request: Request) -> HttpResponse:
        params = request.query_params
        limit, offset = page_params(request, default_limit=100)
        schedules = selectors.schedule_list(
            enabled=bool_param(params.get("enabled"), "enabled"),
            record_type=params.get("recordType", ""),
            source_kind=params.get("sourceType", ""),
            name=params.get("name", ""),
        )
        page = list(schedules[offset : offset + limit])
        last = selectors.last_runs([s.pk for s in page])
        return json_response(
            {
                "success": True,
                "schedules": [schedule_json(s, last.get(s.pk)) for s in page],
                "totalCount": schedules.count(),
            }
        )

    def post(self, request: Request) -> HttpResponse:
        changes = schedule_changes(self.body(request), creating=True)
        schedule = services.schedule_create(**changes)
        return self.answer(schedule, status=201)


class ScheduleView(ScheduleApiView):
    def get(self, request: Request, schedule_id: str) -> HttpResponse:
        return self.answer(self.schedule(schedule_id))

    def put(self, request: Request, schedule_id: str) -> HttpResponse:
        changes = schedule_changes(self.body(request), creating=False)
        schedule = services.schedule_update(schedule=self.schedule(schedule_id), changes=changes)
        return self.answer(schedule)

    def delete(self, request: Request, schedule_id: str) -> HttpResponse:
        schedule = self.schedule(schedule_id)
        services.schedule_delete(schedule=schedule)
        return json_response(
            {"success": True, "message": f"Schedule {schedule_id} deleted; the records it imported are kept."}
        )


class ScheduleSyncView(ScheduleApiView):
    def post(self, request: Request, schedule_id: str) -> HttpResponse:
        schedule = self.schedule(schedule_id)
        try:
            run = services.schedule_run_now(schedule=schedule)
        except services.AlreadyRunning as exc:
            raise Conflict(str(exc)) from exc
        except services.TooSoon as exc:
            raise TooManyRequests(str(exc), exc.retry_after) from exc
        if run.status != ImportRun.Status.SUCCEEDED:
            failed = json_response(
                {
                    "success": False,
                    "error": "Sync failed",
                    "message": run.error,
                    "retryAfter": settings.IMPORTS_MANUAL_RUN_INTERVAL_SECONDS,
                    "run": run_json(run),
                },
                # The source or its data failed, not this server: 502, and when to try again.
                status=502,
            )
            failed["Retry-After"] = str(settings.IMPORTS_MANUAL_RUN_INTERVAL_SECONDS)
            return failed
        return json_response(
            {
                "success": True,
                "message": f"Imported {run.rows} rows into {schedule.record_type}.",
                "changes": {"added": run.added, "updated": run.updated, "deleted": run.deleted},
                "run": run_json(run),
            }
        )


class ScheduleHistoryView(ScheduleApiView):
    def get(self, request: Request, schedule_id: str) -> HttpResponse:
        schedule = self.schedule(schedule_id)
        limit, offset = page_params(request, default_limit=50)
        runs, has_more = selectors.run_history(schedule=schedule, limit=limit, offset=offset)
        return json_response(
            {
                "success": True,
                "history": [run_json(r) for r in runs],
                "pagination": {"limit": limit, "offset": offset, "hasMore": has_more},
            }
        )
