"""Storing a device's settings when they are newer than the stored copy, and restoring old versions.

The comparison runs under a row lock on the key's document, so two devices saving at once are applied
one after the other and the newer save wins whatever the arrival order. When there is no document yet,
both may try to create it: the unique key lets one in, the other's transaction is replayed and then
compares against the winner (atomic_with_retry). The content is never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from django.utils import timezone

from apps.lib.transactions import atomic_with_retry
from apps.sites.models import ApiKey

from .models import SettingsDocument, SettingsVersion

Action = Literal["created", "incomingNewer", "none", "existingNewer"]

VERSIONS_KEPT = 10
# One device with a broken clock must not win forever.
MAX_FUTURE_MS = 24 * 60 * 60 * 1000
# A save time in 1900 or before is how clients ask for the stored copy without sending theirs.
FETCH_ONLY_BEFORE_MS = int(datetime(1901, 1, 1, tzinfo=UTC).timestamp() * 1000)


class SettingsError(ValueError):
    """Refused input; `field` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class SettingsOutcome:
    action: Action
    document: SettingsDocument | None


def now_ms() -> int:
    return int(timezone.now().timestamp() * 1000)


def settings_update(*, api_key: ApiKey, device_name: str, saved_ts: int, content: str) -> SettingsOutcome:
    """Store `content` if it is newer than the key's document; say what happened and what is stored."""
    if saved_ts > now_ms() + MAX_FUTURE_MS:
        raise SettingsError(
            "savedTs", "more than 24 hours ahead of the server's clock; check the device's date and time"
        )
    return _compare_and_store(api_key=api_key, device_name=device_name, saved_ts=saved_ts, content=content)


@atomic_with_retry
def _compare_and_store(*, api_key: ApiKey, device_name: str, saved_ts: int, content: str) -> SettingsOutcome:
    document = SettingsDocument.objects.select_for_update().filter(api_key=api_key).first()
    fetch_only = saved_ts < FETCH_ONLY_BEFORE_MS
    if document is None:
        if fetch_only:
            return SettingsOutcome("none", None)
        # A concurrent creator makes this fail on the unique key; the whole transaction is replayed.
        document = SettingsDocument.objects.create(
            api_key=api_key,
            device_name=device_name,
            saved_ts=saved_ts,
            content=content,
            updated_at=timezone.now(),
        )
        _keep_version(document)
        return SettingsOutcome("created", document)
    if saved_ts == document.saved_ts:
        return SettingsOutcome("none", document)
    if saved_ts < document.saved_ts or fetch_only:
        return SettingsOutcome("existingNewer", document)
    _store(document, device_name=device_name, saved_ts=saved_ts, content=content)
    return SettingsOutcome("incomingNewer", document)


def _store(document: SettingsDocument, *, device_name: str, saved_ts: int, content: str) -> None:
    document.device_name = device_name
    document.saved_ts = saved_ts
    document.content = content
    document.updated_at = timezone.now()
    document.save(update_fields=["device_name", "saved_ts", "content", "updated_at"])
    _keep_version(document)


def _keep_version(document: SettingsDocument) -> None:
    SettingsVersion.objects.create(
        document=document,
        device_name=document.device_name,
        saved_ts=document.saved_ts,
        content=document.content,
        stored_at=document.updated_at,
    )
    older = list(
        SettingsVersion.objects.filter(document=document)
        .order_by("-id")
        .values_list("pk", flat=True)[VERSIONS_KEPT:]
    )
    if older:
        SettingsVersion.objects.filter(pk__in=older).delete()


@atomic_with_retry
def settings_restore(*, version: SettingsVersion) -> SettingsDocument:
    """Make an old version current again, saved "now" so that devices take it at their next sync.

    Keeping its old save time would not work: every device holds a newer save, which would win.
    """
    document = SettingsDocument.objects.select_for_update().get(pk=version.document_id)
    _store(
        document,
        device_name=version.device_name,
        saved_ts=max(now_ms(), document.saved_ts + 1),
        content=version.content,
    )
    return document
