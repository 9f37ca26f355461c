"""The sync log row of a call is written after its response has gone out.

A satellite pulls one batch after another, so every millisecond before the response is a millisecond
of its sync; the log is for operators and can wait until the response is closed (Django sends
`request_finished` then, in gunicorn after the body is written, in tests when the client closes it).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.db import DatabaseError
from django.http import HttpResponse
from rest_framework.request import Request

from apps.queue.services import sync_log_write

logger = logging.getLogger(__name__)
_pending = threading.local()


def log_after_response(**entry: Any) -> None:
    entries = getattr(_pending, "entries", None)
    if entries is None:
        entries = _pending.entries = []
    entries.append(entry)


def write_pending_logs(**kwargs: Any) -> None:
    """`request_finished` receiver: write what this thread's last request left to log."""
    entries = getattr(_pending, "entries", None)
    if not entries:
        return
    _pending.entries = []
    for entry in entries:
        try:
            sync_log_write(**entry)
        except DatabaseError:  # the response is out; a lost log row must not become an error
            logger.exception("could not write the sync log of %s for site %s", entry["call"], entry["site"])


class CallLogMixin:
    """For views of an authenticated site: one sync log row per call, with its counts and duration.

    The view sets `self.site`, `self.started` (time.perf_counter()) and `self.log_counts` in `initial`,
    and may set `self.log_note` (what the call asked for, where it matters).
    """

    call = ""

    def finalize_response(
        self, request: Request, response: HttpResponse, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        site = getattr(self, "site", None)
        if site is not None and self.call:
            error = ""
            if response.status_code >= 400 and isinstance(response.content, bytes):
                error = response.content[:500].decode("utf-8", "replace")
            log_after_response(
                site=site,
                call=self.call,
                api_version=kwargs.get("version", ""),
                duration_ms=int((time.perf_counter() - self.started) * 1000),  # type: ignore[attr-defined]
                status_code=response.status_code,
                error=error,
                note=getattr(self, "log_note", ""),
                # The mSupply Mobile app sends its version (package.json) with every sync call.
                app_version=request.headers.get("mobile-version", ""),
                **self.log_counts,  # type: ignore[attr-defined]
            )
        return response
