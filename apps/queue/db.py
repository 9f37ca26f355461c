"""The little SQL that differs between SQLite and MySQL/MariaDB, and retrying lock conflicts."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# MySQL/MariaDB: 1213 deadlock, 1205 lock wait timeout, 1467 a deadlock on the AUTO-INC lock (InnoDB
# reports it as "Failed to read auto-increment value"). SQLite: "database is locked".
RETRYABLE_MYSQL_CODES = {1213, 1205, 1467}


class Busy(Exception):
    """Still conflicting after every retry: the client should try again shortly (503)."""


def is_mysql() -> bool:
    return connection.vendor == "mysql"


def replace_into() -> str:
    """INSERT that first deletes a row with the same unique key (a new auto-increment id)."""
    return "REPLACE INTO" if is_mysql() else "INSERT OR REPLACE INTO"


def insert_ignore() -> str:
    """INSERT that skips rows whose unique key exists already."""
    return "INSERT IGNORE INTO" if is_mysql() else "INSERT OR IGNORE INTO"


def ordered_join() -> str:
    """A join that keeps the order the tables are written in (MySQL's STRAIGHT_JOIN, SQLite's CROSS JOIN)."""
    return "STRAIGHT_JOIN" if is_mysql() else "CROSS JOIN"


def _is_retryable(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        # Two writers inserting the same new record: the loser retries and then sees it as existing.
        return True
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], int):
        return args[0] in RETRYABLE_MYSQL_CODES
    return "database is locked" in str(exc)


def _retrying(func: Callable[P, R], *, atomic: bool) -> Callable[P, R]:
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        attempts = max(1, settings.SYNC_DEADLOCK_RETRIES)
        for attempt in range(1, attempts + 1):
            try:
                if not atomic:
                    return func(*args, **kwargs)
                with transaction.atomic():
                    return func(*args, **kwargs)
            except (OperationalError, IntegrityError) as exc:
                if not _is_retryable(exc) or connection.in_atomic_block:
                    raise
                if attempt == attempts:
                    raise Busy(
                        "The database is busy with conflicting changes; try again in a few seconds."
                    ) from exc
                logger.info("retrying %s after %s (attempt %d)", func.__name__, exc, attempt)
                time.sleep(random.uniform(0.005, 0.05) * attempt)
        raise AssertionError("unreachable")

    return wrapper


def atomic_with_retry(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` in its own transaction; retry on deadlock, lock timeout or a lost insert race.

    The whole transaction is replayed, which is safe because it rolled back. Must be the outermost
    transaction: a retry inside an enclosing atomic block would replay only half of the work.
    """
    return _retrying(func, atomic=True)


def retry_on_conflict(func: Callable[P, R]) -> Callable[P, R]:
    """Retry like `atomic_with_retry`, without a transaction: for idempotent single statements.

    Saves the BEGIN/COMMIT round trips where each statement is atomic by itself and replaying all of
    them is harmless (deleting acknowledged queue entries).
    """
    return _retrying(func, atomic=False)


def chunks(items: list[R], size: int) -> list[list[R]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)
