"""Refuse an oversized body before anything reads it, with 413 and a JSON error."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .renderers import json_response


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.SYNC_MAX_BODY_BYTES
        if length > limit and (request.path.startswith("/sync/") or request.path == "/sync"):
            return json_response(
                {"error": f"The request body is {length} bytes; the limit is {limit}. Send smaller batches."},
                status=413,
            )
        return self.get_response(request)
