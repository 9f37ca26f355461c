"""JSON with orjson: several times faster than the standard library on the sync hot paths."""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpResponse
from rest_framework.renderers import BaseRenderer

CONTENT_TYPE = "application/json"


class ORJSONRenderer(BaseRenderer):
    media_type = CONTENT_TYPE
    format = "json"
    charset = None

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return b"" if data is None else orjson.dumps(data)


def json_response(data: Any, status: int = 200) -> HttpResponse:
    return raw_json_response(orjson.dumps(data), status=status)


def raw_json_response(body: bytes, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type=CONTENT_TYPE)
