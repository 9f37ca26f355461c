"""Every refusal of the API, and the one place that turns exceptions into JSON responses."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from apps.queue.db import Busy
from apps.sites.authentication import AuthenticationFailed, HardwareMismatch, TooManyFailures

from .middleware import is_connection_error
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


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> HttpResponse:
    response = json_response({"error": message}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.message)
    if isinstance(exc, AuthenticationFailed):
        return error_response(401, str(exc), {"WWW-Authenticate": 'Basic realm="sync"'})
    if isinstance(exc, TooManyFailures):
        return error_response(429, str(exc), {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, HardwareMismatch):
        # v1 to v3 clients show only a 2xx body to the user, so the refusal travels as 200 + error.
        return error_response(200, str(exc))
    if isinstance(exc, Busy):
        return error_response(503, str(exc), {"Retry-After": "5"})
    if is_connection_error(exc):
        # Left to the middleware, which also closes the broken connection.
        return None
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = exc.detail if isinstance(exc, drf_exceptions.APIException) else str(exc)
    message = detail if isinstance(detail, str) else str(detail)
    headers = {k: v for k, v in response.items() if k in ("Allow", "Retry-After", "WWW-Authenticate")}
    return error_response(response.status_code, message, headers)
