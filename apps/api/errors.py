"""Every refusal of the API, and the one place that turns exceptions into JSON responses."""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from apps.lib.transactions import Busy, database_unavailable, is_connection_error
from apps.settingsync.services import SettingsError
from apps.sites.authentication import AuthenticationFailed, HardwareMismatch, TooManyFailures
from apps.sites.selectors import UserLookupRefused
from apps.tablesync.errors import TableSyncError

from .renderers import json_response


class ApiError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    status = 400


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> HttpResponse:
    response = json_response({"error": message}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def with_success_flag(response: HttpResponse) -> HttpResponse:
    """Add `"success": false` to an error answer made by the shared exception handler."""
    if response.status_code >= 400 and response.get("Content-Type", "").startswith("application/json"):
        try:
            document = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return response
        if isinstance(document, dict) and "success" not in document:
            response.content = orjson.dumps({"success": False, **document})
    return response


class SuccessFlagMixin:
    """For the APIs whose every answer carries `success` (table sync, settings documents)."""

    def handle_exception(self, exc: Exception) -> HttpResponse:
        return with_success_flag(super().handle_exception(exc))  # type: ignore[misc]


def exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.message)
    if isinstance(exc, SettingsError):
        return error_response(400, str(exc))
    if isinstance(exc, UserLookupRefused):
        return error_response(exc.status, str(exc))
    if isinstance(exc, TableSyncError):
        body: dict[str, Any] = {"success": False, "error": exc.error, "reason": exc.reason}
        if exc.index is not None:
            body["index"] = exc.index
        return json_response(body, status=exc.status)
    if isinstance(exc, AuthenticationFailed):
        return error_response(401, str(exc), {"WWW-Authenticate": exc.challenge})
    if isinstance(exc, TooManyFailures):
        return error_response(429, str(exc), {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, HardwareMismatch):
        # v1 to v3 clients show only a 2xx body to the user, so the refusal travels as 200 + error;
        # newer APIs (table sync) set their view's hardware_mismatch_status to answer 403.
        return error_response(getattr(context.get("view"), "hardware_mismatch_status", 200), str(exc))
    if isinstance(exc, Busy):
        return error_response(503, str(exc), {"Retry-After": "5"})
    if is_connection_error(exc):
        # Left to the middleware, which answers 503 too and also closes the broken connection.
        return None
    if database_unavailable(exc):
        # E.g. the Galera node this worker talks to is down or rejoining: the client retries, and a
        # load balancer may send it to a worker whose node is up.
        return error_response(
            503, "The database is not reachable right now; try again in a few seconds.", {"Retry-After": "5"}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = exc.detail if isinstance(exc, drf_exceptions.APIException) else str(exc)
    message = detail if isinstance(detail, str) else str(detail)
    headers = {k: v for k, v in response.items() if k in ("Allow", "Retry-After", "WWW-Authenticate")}
    return error_response(response.status_code, message, headers)
