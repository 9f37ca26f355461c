"""The settings documents endpoint (docs/settings-api.md): POST /api/v1/sync/update with an API key.

The body is read with the standard library's json, not orjson: settings are kept exactly as sent, and
orjson would turn integers beyond 64 bits into floats. They are answered as the stored JSON text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
from django.conf import settings
from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.settingsync.models import SettingsDocument, ms_to_datetime
from apps.settingsync.services import SettingsError, settings_update

from .authentication import ApiKeyAuthentication
from .errors import PayloadTooLarge, SuccessFlagMixin
from .renderers import json_response


class SettingsUpdateView(SuccessFlagMixin, APIView):
    authentication_classes = [ApiKeyAuthentication]
    api_key_scope = "settings"

    def post(self, request: Request) -> HttpResponse:
        limit = settings.SETTINGS_SYNC_MAX_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if max(declared, len(request.body)) > limit:
            raise PayloadTooLarge(
                f"body: larger than {limit} bytes; settings documents are limited to that size"
            )
        document = parse_body(request.body)
        outcome = settings_update(
            api_key=request.auth,
            device_name=required_device_name(document),
            saved_ts=saved_ts_ms(document.get("savedTs")),
            content=settings_text(document),
        )
        return json_response(answer(outcome.action, outcome.document))


def answer(action: str, document: SettingsDocument | None) -> dict[str, Any]:
    return {
        "success": True,
        "data": None if document is None else orjson.Fragment(document.content),
        "action": action,
        "error": "",
        "savedTs": None if document is None else iso_ms(document.saved_ts),
    }


def parse_body(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SettingsError("body", f"not valid JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise SettingsError("body", 'expected an object {"deviceName", "savedTs", "settings"}')
    return document


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def required_device_name(document: dict[str, Any]) -> str:
    name = document.get("deviceName")
    if not isinstance(name, str) or not name.strip():
        raise SettingsError("deviceName", "required, the name of the device that saved the settings")
    if len(name) > 200:
        raise SettingsError("deviceName", "longer than 200 characters")
    return name


def settings_text(document: dict[str, Any]) -> str:
    if "settings" not in document:
        raise SettingsError("settings", "required: the settings, any JSON value or a string")
    return json.dumps(document["settings"], ensure_ascii=False, separators=(",", ":"))


def saved_ts_ms(value: Any) -> int:
    """ISO 8601 (UTC when no offset is given), or milliseconds since 1970; kept to the millisecond."""
    if isinstance(value, bool) or value is None:
        raise SettingsError("savedTs", "required, an ISO 8601 time such as 2026-01-31T09:30:00.123Z")
    if isinstance(value, int | float):
        return int(value)
    if not isinstance(value, str):
        raise SettingsError("savedTs", "expected an ISO 8601 time such as 2026-01-31T09:30:00.123Z")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise SettingsError(
            "savedTs", f"'{value}' is not an ISO 8601 time such as 2026-01-31T09:30:00.123Z"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    delta = moment - epoch
    # Whole milliseconds, without going through a float (which would round some to the next one).
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def iso_ms(ms: int) -> str:
    return ms_to_datetime(ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")
