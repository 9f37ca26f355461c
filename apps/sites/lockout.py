"""Throttling of failed logins that an attacker cannot turn against a site's owner.

Failures are counted in the database (`LoginFailure`), so all workers and hosts share one count and
no flood of other names can evict it. Two counters:

- per (name, client address): `SYNC_AUTH_MAX_FAILURES` wrong passwords for one name from one address
  lock that name *from that address* only; the owner, syncing from its own address, still gets in;
- per address: `SYNC_AUTH_MAX_FAILURES_PER_ADDRESS` failures under any names lock the address, which
  stops guessing across many names.

A lock lasts until the window of `SYNC_AUTH_FAILURE_WINDOW_SECONDS` that began with the first failure
ends. The client address is REMOTE_ADDR, or, when REMOTE_ADDR is one of `SYNC_TRUSTED_PROXIES`, the
nearest X-Forwarded-For address that is not a trusted proxy (proxies append, so anything left of that
was written by the client and cannot be trusted).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.lib.sql import datetime_from_db

from .models import LoginFailure

ANY_NAME = ""
# Admin user names are counted apart from site and user names of the sync API.
ADMIN_NAME_PREFIX = "admin:"


class TooManyFailures(Exception):
    """Too many failed logins for one name from this address, or from this address: 429."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def client_address(meta: Mapping[str, Any]) -> str:
    """The address failures are counted against (see the module docstring)."""
    remote = str(meta.get("REMOTE_ADDR") or "").strip() or "unknown"
    trusted = set(settings.SYNC_TRUSTED_PROXIES)
    if remote not in trusted:
        return remote[:45]
    forwarded = [a.strip() for a in str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if a.strip()]
    for address in reversed(forwarded):
        if address not in trusted:
            return address[:45]
    return remote[:45]


def _name(name: str) -> str:
    return name[:150]


def _window() -> timedelta:
    return timedelta(seconds=settings.SYNC_AUTH_FAILURE_WINDOW_SECONDS)


def check_not_locked(*, name: str, address: str, now: datetime | None = None) -> None:
    """Raise TooManyFailures when `name` from `address`, or `address` itself, is locked.

    Every sync request asks this first, so it is one statement written out once (the ORM spent more
    time building it than the database answering it): the unique (name, address) index, two keys."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT name, failures, window_started_at FROM {LoginFailure._meta.db_table} "
            "WHERE name IN (%s, %s) AND address = %s AND window_started_at > %s",
            [_name(name), ANY_NAME, address, connection.ops.adapt_datetimefield_value(now - _window())],
        )
        rows = cursor.fetchall()
    for row_name, failures, started in rows:
        per_address = row_name == ANY_NAME
        limit = (
            settings.SYNC_AUTH_MAX_FAILURES_PER_ADDRESS if per_address else settings.SYNC_AUTH_MAX_FAILURES
        )
        if failures >= limit:
            ends = datetime_from_db(started) + _window()
            retry_after = max(1, math.ceil((ends - now).total_seconds()))
            whom = "from this address" if per_address else f"for '{name}' from this address"
            raise TooManyFailures(
                f"Too many failed logins {whom}. Wait {retry_after} seconds, then try again.",
                retry_after=retry_after,
            )


def record_failure(*, name: str, address: str, now: datetime | None = None) -> None:
    """Count one failed login against the name from this address and against the address."""
    now = now or timezone.now()
    for row_name in (_name(name), ANY_NAME):
        _count(name=row_name, address=address, now=now)


def _count(*, name: str, address: str, now: datetime) -> None:
    rows = LoginFailure.objects.filter(name=name, address=address)
    cutoff = now - _window()
    # Within the window: one atomic increment, whatever the number of workers counting at once.
    if rows.filter(window_started_at__gt=cutoff).update(failures=F("failures") + 1, last_failure_at=now):
        return
    # Expired: a new window starts with this failure (only if still expired: another worker may have
    # just created or restarted it).
    if rows.filter(window_started_at__lte=cutoff).update(
        failures=1, window_started_at=now, last_failure_at=now
    ):
        return
    try:
        with transaction.atomic():
            LoginFailure.objects.create(
                name=name, address=address, failures=1, window_started_at=now, last_failure_at=now
            )
    except IntegrityError:  # another worker created it first
        rows.update(failures=F("failures") + 1, last_failure_at=now)


@dataclass(frozen=True)
class Released:
    rows: int


def release_lockout(*, name: str | None = None, address: str | None = None) -> Released:
    """Forget the failures of a name (from every address), of an address, or of both together.

    Releasing a name also clears its addresses' per-address counts, so its owner gets in at once.
    """
    if not name and not address:
        raise ValueError("Name a login name, an address, or both.")
    rows = LoginFailure.objects.all()
    if name and address:
        rows = rows.filter(Q(name=_name(name)) | Q(name=ANY_NAME), address=address)
    elif name:
        addresses = list(LoginFailure.objects.filter(name=_name(name)).values_list("address", flat=True))
        rows = rows.filter(Q(name=_name(name)) | Q(name=ANY_NAME, address__in=addresses))
    else:
        rows = rows.filter(address=address)
    deleted, _ = rows.delete()
    return Released(rows=deleted)


def forget_old_failures(*, now: datetime | None = None) -> int:
    """Delete rows whose window ended: they lock nothing any more."""
    now = now or timezone.now()
    deleted, _ = LoginFailure.objects.filter(last_failure_at__lt=now - _window()).delete()
    return deleted
