"""Transactions that retry on lock conflicts, and which database errors are which (retryable, a lost
connection, the database unavailable)."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection, transaction

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# MySQL/MariaDB: 1213 deadlock, 1205 lock wait timeout, 1467 a deadlock on the AUTO-INC lock (InnoDB
# reports it as "Failed to read auto-increment value"). SQLite: "database is locked".
# On a Galera cluster a write set that fails certification (another node committed a conflicting
# change first) and a local transaction aborted by a replicated one are both reported as 1213, at the
# statement or at COMMIT; both are retried like a deadlock.
RETRYABLE_MYSQL_CODES = {1213, 1205, 1467}
# No usable connection: can't connect (2002, 2003), server gone away or connection lost (2006, 2013,
# 2055), shutting down (1053), connection killed (1927), closed for inactivity (4031).
CONNECTION_LOST_MYSQL_CODES = {1053, 1927, 2002, 2003, 2006, 2013, 2055, 4031}
# The database cannot serve the request right now: no usable connection, or a Galera node that is
# joining or cut off from the cluster's majority (1047 "WSREP has not yet prepared node for application
# use"). Another worker, or this one a little later, can serve it.
UNAVAILABLE_MYSQL_CODES = CONNECTION_LOST_MYSQL_CODES | {1047}


class Busy(Exception):
    """Still conflicting after every retry: the client should try again shortly (503)."""


def _is_retryable(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        # Two writers inserting the same new record: the loser retries and then sees it as existing.
        return True
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], int):
        return args[0] in RETRYABLE_MYSQL_CODES
    return "database is locked" in str(exc)


def is_connection_error(exc: BaseException) -> bool:
    """The connection is gone or was never made: the request cannot be served, and the broken
    connection must be closed so the next request opens a new one."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], int):
        return args[0] in CONNECTION_LOST_MYSQL_CODES
    return "unable to open database file" in str(exc)


def database_unavailable(exc: BaseException) -> bool:
    """A database error the client should retry later (503) rather than a fault of the server (500):
    an unreachable or unready database, or a conflict that escaped a service's own retries."""
    if not isinstance(exc, DatabaseError):
        return False
    args = getattr(exc, "args", ())
    code = args[0] if args and isinstance(args[0], int) else None
    return code in UNAVAILABLE_MYSQL_CODES or code in RETRYABLE_MYSQL_CODES


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
                # Exponential back-off with jitter, capped: on a Galera cluster the same writers keep
                # meeting at certification while they retry in step.
                time.sleep(random.uniform(0.5, 1.5) * min(0.5, 0.01 * 2**attempt))
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
