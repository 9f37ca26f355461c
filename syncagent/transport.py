"""HTTP calls to the primary (standard library only) and what their failures mean to the agent."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .config import Config


class Unreachable(Exception):
    """The primary could not be reached or was busy (transport error, 5xx, 429, a broken answer).

    Worth another attempt later, after `retry_after` seconds when the primary said so.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Stopped(Exception):
    """The primary refuses this agent (401, 403, hardware mismatch): retrying cannot help, a person must."""


class Refused(Exception):
    """The primary refused one request as malformed (another 4xx); its words are the message."""


def basic_authorization(site_name: str, password: str) -> str:
    secret = hashlib.sha256(password.encode("utf-8")).hexdigest()
    return "Basic " + base64.b64encode(f"{site_name}:{secret}".encode()).decode("ascii")


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


class Primary:
    """The primary's sync API for one site: every call returns parsed JSON or raises one of the above."""

    def __init__(self, config: Config, *, hardware_id: str, site_id: int = 0) -> None:
        self.config = config
        self.hardware_id = hardware_id
        self.site_id = site_id
        self.authorization = basic_authorization(config.site_name, config.password)

    def url(self, call: str, **query: Any) -> str:
        params = {k: v for k, v in query.items() if v is not None}
        if call not in ("site",):
            params = {"from_site": self.site_id, "to_site": 1, **params}
        text = urllib.parse.urlencode(params)
        return f"{self.config.server_url}/sync/{self.config.api_version}/{call}" + (
            f"?{text}" if text else ""
        )

    def call(self, method: str, call: str, *, body: Any = None, url: str | None = None, **query: Any) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url or self.url(call, **query), data=data, method=method)
        request.add_header("Authorization", self.authorization)
        request.add_header("msupply-site-uuid", self.hardware_id)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            self._raise_for(exc, call)
        except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise Unreachable(f"{call}: the primary is unreachable ({type(exc).__name__}: {reason})") from exc
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise Unreachable(f"{call}: the answer was cut or is not JSON (HTTP {status})") from exc
        if isinstance(document, dict) and document.get("error"):
            # v1 to v3 send a hardware mismatch as 200 with the words in `error`.
            raise Stopped(f"The primary refuses this agent: {document['error']}")
        return document

    def _raise_for(self, exc: urllib.error.HTTPError, call: str) -> None:
        try:
            raw = exc.read()
        except (http.client.HTTPException, OSError):
            raw = b""
        try:
            words = json.loads(raw).get("error") or ""
        except (ValueError, AttributeError):
            words = ""
        words = words or exc.reason or "no explanation"
        code = exc.code
        if code in (401, 403):
            raise Stopped(
                f"The primary refuses this agent (HTTP {code}): {words} Check the site name, password and "
                "site id in the configuration."
            ) from None
        if code == 429 or code >= 500:
            raise Unreachable(
                f"{call}: the primary is busy (HTTP {code}): {words}",
                retry_after=retry_after_seconds(exc.headers.get("Retry-After")),
            ) from None
        raise Refused(f"{call}: the primary refused the request (HTTP {code}): {words}") from None

    # The protocol's calls ---------------------------------------------------------------------------
    def site(self) -> dict[str, Any]:
        return self.call("GET", "site")

    def count(self) -> int:
        return int(self.call("GET", "queued_records/count")["NumRecords"])

    def pull(self, limit: int) -> list[dict[str, Any]]:
        records = self.call("GET", "queued_records", limit=limit)
        if not isinstance(records, list):
            raise Unreachable("queued_records: the answer is not an array of records")
        return records

    def push(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return self.call("POST", "queued_records", body=records)

    def acknowledge(self, sync_ids: list[str]) -> None:
        self.call("POST", "acknowledged_records", body={"SyncRecordIDs": sync_ids})

    def initial_dump(self, *, full: bool) -> int:
        return int(self.call("GET", "initial_dump", type="full" if full else None)["NumRecords"])

    def sync_status(self) -> dict[str, Any]:
        return self.call("GET", "sync_status")

    def schema(self) -> dict[str, Any]:
        return self.call("GET", "schema", url=f"{self.config.server_url}/sync/v1/schema")
