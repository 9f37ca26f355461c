"""Request bodies of the sync API (a size limit answered with 413, chunked bodies read whole), and 503
when the database cannot be reached.

Django reads CONTENT_LENGTH bytes of a body; a chunked body (Transfer-Encoding: chunked, no length)
would read as empty, so a push would be refused as empty and an acknowledgement acknowledge nothing.
The WSGI server (gunicorn) decodes the chunks; here they are read, up to the limit, and handed to the
view as the body.

An oversized body is answered with 413 after reading (and dropping) what the client sends, up to a
bound: answering before the client has finished sending makes many clients fail with a broken pipe
instead of reading the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from io import BytesIO
from typing import BinaryIO

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse

from apps.lib.transactions import is_connection_error

from .renderers import json_response

logger = logging.getLogger(__name__)

CHUNK = 64 << 10
# Past this many bytes an oversized body is no longer read: the connection is closed instead.
DRAIN_LIMIT = 64 << 20


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not (request.path.startswith("/sync/") or request.path == "/sync"):  # `/sync`: the table push
            return self.get_response(request)
        limit = settings.SYNC_MAX_BODY_BYTES
        stream: BinaryIO | None = request.META.get("wsgi.input")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            if stream is not None and length <= DRAIN_LIMIT:
                _drain(stream, length)
            return too_large(f"The request body is {length} bytes; the limit is {limit}.")
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not length and stream is not None:
            body = _read_up_to(stream, limit + 1)
            if len(body) > limit:
                _drain(stream, DRAIN_LIMIT)
                return too_large(f"The chunked request body is over the limit of {limit} bytes.")
            # What Django would have read from a body with a Content-Length.
            request._body = body
            request._stream = BytesIO(body)
            request.META["CONTENT_LENGTH"] = str(len(body))
        return self.get_response(request)


def too_large(message: str) -> HttpResponse:
    return json_response({"error": f"{message} Send smaller batches."}, status=413)


def _read_up_to(stream: BinaryIO, size: int) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        part = stream.read(min(CHUNK, remaining))
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _drain(stream: BinaryIO, size: int) -> None:
    remaining = size
    while remaining > 0:
        part = stream.read(min(CHUNK, remaining))
        if not part:
            return
        remaining -= len(part)


DATABASE_RETRY_AFTER_SECONDS = 10


class DatabaseUnavailableMiddleware:
    """A database that cannot be reached is 503 + Retry-After, never 500: clients retry later.

    The broken connection is closed, so the next request opens a new one (with CONN_HEALTH_CHECKS a
    connection that died while idle, after a database restart, is replaced before it is used).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_connection_error(exception):
            return None
        logger.warning("database unreachable for %s %s: %s", request.method, request.path, exception)
        for conn in connections.all(initialized_only=True):
            conn.close_if_unusable_or_obsolete()
        return database_unavailable()


def database_unavailable() -> HttpResponse:
    response = json_response(
        {"error": "The database is unreachable; try again in a few seconds. Nothing was changed."},
        status=503,
    )
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response
