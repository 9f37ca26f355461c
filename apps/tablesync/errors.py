"""The one refusal of table sync, mapped to HTTP by apps/api/errors.py."""

from __future__ import annotations


class TableSyncError(Exception):
    """A refused request. `error` is the short label clients test, `reason` says what is wrong."""

    def __init__(self, error: str, reason: str, *, index: int | None = None, status: int = 400) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason
        self.index = index
        self.status = status
