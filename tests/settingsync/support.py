from __future__ import annotations

import json
from typing import Any

from django.test import Client

URL = "/api/v1/sync/update"


def save(raw_key: str, body: Any, *, client: Client | None = None, bearer: bool = True):
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    authorization = f"Bearer {raw_key}" if bearer else raw_key
    return (client or Client()).post(
        URL, payload, content_type="application/json", HTTP_AUTHORIZATION=authorization
    )


def update(device: str, saved_ts: Any, settings: Any) -> dict[str, Any]:
    return {"deviceName": device, "savedTs": saved_ts, "settings": settings}
