"""Settings documents: one per API key, the newest saved timestamp wins, the last versions kept."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import models

from apps.sites.models import ApiKey


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class SettingsDocument(models.Model):
    """The current settings of one API key's devices.

    `saved_ts` is the device's save time in milliseconds since 1970 (UTC): the comparison is exact at
    the precision clients send, which a database datetime column would not guarantee everywhere.
    `content` is the JSON text of the settings value, which may be a string (often encrypted Base64).
    """

    api_key = models.OneToOneField(ApiKey, on_delete=models.PROTECT, related_name="settings_document")
    device_name = models.CharField(max_length=200)
    saved_ts = models.BigIntegerField(help_text="When the device saved it: milliseconds since 1970, UTC.")
    content = models.TextField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"settings of {self.api_key.name}"

    @property
    def saved_at(self) -> datetime:
        return ms_to_datetime(self.saved_ts)


class SettingsVersion(models.Model):
    """One stored state of a document (the current one included); the newest few are kept."""

    document = models.ForeignKey(SettingsDocument, on_delete=models.CASCADE, related_name="versions")
    device_name = models.CharField(max_length=200)
    saved_ts = models.BigIntegerField()
    content = models.TextField()
    stored_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["document", "id"], name="settings_version_doc_idx")]

    def __str__(self) -> str:
        return f"version of {self.saved_at:%Y-%m-%d %H:%M:%S} by {self.device_name}"

    @property
    def saved_at(self) -> datetime:
        return ms_to_datetime(self.saved_ts)
