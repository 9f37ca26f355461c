"""Counts every HTTP request for /metrics: endpoint, method, API version, status and latency."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import metrics


def endpoint_of(request: HttpRequest) -> tuple[str, str]:
    """(endpoint, sync API version): the view's name, so the label set stays small whatever the paths."""
    if request.path.startswith("/admin/"):
        return "admin", ""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched", ""
    view = getattr(match.func, "view_class", None) or match.func
    return getattr(view, "__name__", "view"), match.kwargs.get("version", "")


class RequestMetricsMiddleware:
    """First in MIDDLEWARE, so it times and counts every answer, 413 and 503 included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        endpoint, version = endpoint_of(request)
        metrics.observe_request(
            endpoint=endpoint,
            method=request.method or "",
            version=version,
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response
