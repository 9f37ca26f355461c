"""The agent's local SQLite database: the outbox, records the host could not take, the mirror, and
small facts about the agent (hardware id, last cycle, last snapshot, last error).

One connection, used under the agent's lock; every change commits at once so a crash loses nothing
that was reported done.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PENDING, SYNCED, ERROR = "pending", "synced", "error"
SYNC_TYPES = ("I", "U", "D", "M")

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sync_id TEXT NOT NULL UNIQUE,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    sync_type TEXT NOT NULL,
    store_id TEXT NOT NULL DEFAULT '',
    data TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    quarantined INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_status ON outbox (status, id);
CREATE TABLE IF NOT EXISTS inbound_failure (
    sync_id TEXT PRIMARY KEY,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    record TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS mirror (
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    store_id TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (record_type, record_id)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_sync_id() -> str:
    """32 uppercase hex digits, the shape of mSupply's ids."""
    return uuid.uuid4().hex.upper()


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    sync_id: str
    record_type: str
    record_id: str
    sync_type: str
    store_id: str
    data: dict[str, Any] | None
    status: str
    attempts: int
    last_error: str


class State:
    def __init__(self, path: str) -> None:
        self.path = path
        # The status endpoint's thread reads it too; the lock keeps one statement at a time.
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self.lock = threading.RLock()
        with self.lock:
            if path != ":memory:":
                self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction; nested ones join the outer one (a pulled batch commits once)."""
        with self.lock:
            if self.db.in_transaction:
                yield self.db
                return
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    # Facts ----------------------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        with self.lock:
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def put(self, **facts: Any) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [(k, json.dumps(v)) for k, v in facts.items()],
            )

    def hardware_id(self) -> str:
        """The device id: created on first use and kept, so the primary's binding holds."""
        with self.lock:
            value = self.get("hardware_id")
            if not value:
                value = uuid.uuid4().hex
                self.put(hardware_id=value)
            return value

    # Outbox ---------------------------------------------------------------------------------------
    def enqueue(
        self,
        *,
        record_type: str,
        record_id: str,
        data: dict[str, Any] | None,
        sync_type: str = "U",
        store_id: str = "",
    ) -> str:
        """Add a change; returns its SyncID, which it keeps on every retry."""
        if sync_type not in SYNC_TYPES:
            raise ValueError(f"sync_type must be one of {', '.join(SYNC_TYPES)}, not '{sync_type}'.")
        if not record_type or not record_id:
            raise ValueError("A change needs a record type and a record id.")
        if sync_type in ("I", "U") and not isinstance(data, dict):
            raise ValueError(f"An {sync_type} change needs its data as an object.")
        sync_id = new_sync_id()
        stamp = now_text()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO outbox (sync_id, record_type, record_id, sync_type, store_id, data, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sync_id,
                    record_type,
                    record_id,
                    sync_type,
                    store_id,
                    None if data is None else json.dumps(data),
                    stamp,
                    stamp,
                ),
            )
        return sync_id

    def oldest_pending(self, limit: int) -> list[OutboxEntry]:
        return self._select("WHERE status = ? ORDER BY id LIMIT ?", (PENDING, limit))

    def entries(self, status: str | None = None) -> list[OutboxEntry]:
        if status:
            return self._select("WHERE status = ? ORDER BY id", (status,))
        return self._select("ORDER BY id", ())

    def _select(self, tail: str, params: tuple[Any, ...]) -> list[OutboxEntry]:
        with self.lock:
            rows = self.db.execute(
                "SELECT id, sync_id, record_type, record_id, sync_type, store_id, data, status, attempts, "
                f"last_error FROM outbox {tail}",
                params,
            ).fetchall()
        entries = []
        for pk, sync_id, record_type, record_id, sync_type, store_id, data, status, attempts, error in rows:
            loaded = None if data is None else json.loads(data)
            entries.append(
                OutboxEntry(
                    pk, sync_id, record_type, record_id, sync_type, store_id, loaded, status, attempts, error
                )
            )
        return entries

    def mark_synced(self, sync_ids: list[str]) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE outbox SET status = ?, last_error = '', updated_at = ? WHERE sync_id = ?",
                [(SYNCED, now_text(), s) for s in sync_ids],
            )

    def mark_error(self, errors: dict[str, str], *, quarantined: bool = False) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE outbox SET status = ?, last_error = ?, quarantined = ?, updated_at = ? "
                "WHERE sync_id = ?",
                [(ERROR, reason, int(quarantined), now_text(), s) for s, reason in errors.items()],
            )

    def use_attempt(self, sync_ids: list[str], *, error: str, max_attempts: int) -> int:
        """Count a failed attempt; entries that reach `max_attempts` become errors. Returns how many did."""
        stamp = now_text()
        with self.transaction() as db:
            db.executemany(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, updated_at = ?, "
                "status = CASE WHEN attempts + 1 >= ? THEN 'error' ELSE status END WHERE sync_id = ?",
                [(error, stamp, max_attempts, s) for s in sync_ids],
            )
            marks = ",".join("?" * len(sync_ids))
            return db.execute(
                f"SELECT COUNT(*) FROM outbox WHERE status = 'error' AND sync_id IN ({marks})", sync_ids
            ).fetchone()[0]

    def retry_errors(self) -> int:
        """Put every error entry back in the queue with a fresh attempt count.

        An entry that failed in transit keeps its SyncID: if the primary did apply it, the retry is a
        duplicate there. A quarantined one gets a new SyncID: the primary remembers the old one as
        pushed, so resending it would be counted as a duplicate and applied nothing.
        """
        with self.transaction() as db:
            quarantined = db.execute("SELECT id FROM outbox WHERE status = ? AND quarantined = 1", (ERROR,))
            db.executemany(
                "UPDATE outbox SET sync_id = ?, quarantined = 0 WHERE id = ?",
                [(new_sync_id(), row_id) for (row_id,) in quarantined.fetchall()],
            )
            cursor = db.execute(
                "UPDATE outbox SET status = ?, attempts = 0, updated_at = ? WHERE status = ?",
                (PENDING, now_text(), ERROR),
            )
            return cursor.rowcount

    def counts(self) -> dict[str, int]:
        with self.lock:
            rows = self.db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall()
            inbound = self.db.execute(
                "SELECT COUNT(*) FROM inbound_failure WHERE status = 'error'"
            ).fetchone()[0]
        counts = {PENDING: 0, SYNCED: 0, ERROR: 0, **dict(rows)}
        counts["inbound_errors"] = inbound
        return counts

    # Records the host could not take -----------------------------------------------------------------
    def callback_failed(self, record: dict[str, Any], *, error: str, max_failures: int) -> bool:
        """Count a failure of the host on a pulled record; True when it is now kept as an error."""
        sync_id = str(record.get("SyncID", ""))
        with self.transaction() as db:
            db.execute(
                "INSERT INTO inbound_failure (sync_id, record_type, record_id, record, failures, last_error, "
                "updated_at) VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT (sync_id) DO UPDATE SET "
                "failures = failures + 1, last_error = excluded.last_error, "
                "updated_at = excluded.updated_at, record = excluded.record",
                (
                    sync_id,
                    str(record.get("RecordType", "")),
                    str(record.get("RecordID", "")),
                    json.dumps(record),
                    error,
                    now_text(),
                ),
            )
            failures = db.execute(
                "SELECT failures FROM inbound_failure WHERE sync_id = ?", (sync_id,)
            ).fetchone()[0]
            if failures >= max_failures:
                db.execute("UPDATE inbound_failure SET status = 'error' WHERE sync_id = ?", (sync_id,))
                return True
        return False

    def forget_failures(self, sync_ids: list[str]) -> None:
        with self.transaction() as db:
            db.executemany(
                "DELETE FROM inbound_failure WHERE sync_id = ?",
                [(s,) for s in sync_ids],
            )

    def inbound_errors(self) -> list[tuple[str, dict[str, Any], str]]:
        with self.lock:
            rows = self.db.execute(
                "SELECT sync_id, record, last_error FROM inbound_failure "
                "WHERE status = 'error' ORDER BY rowid"
            ).fetchall()
        return [(sync_id, json.loads(record), error) for sync_id, record, error in rows]

    def resolve_inbound(self, sync_id: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM inbound_failure WHERE sync_id = ?", (sync_id,))

    # The built-in mirror ----------------------------------------------------------------------------
    def mirror_apply(self, record: dict[str, Any]) -> None:
        """Upsert or delete one pulled record by (type, id): applying it twice changes nothing."""
        record_type, record_id = str(record["RecordType"]), str(record["RecordID"])
        with self.transaction() as db:
            if record.get("SyncType") in ("D", "M"):
                # A merge's RecordID is the record merged away.
                db.execute(
                    "DELETE FROM mirror WHERE record_type = ? AND record_id = ?", (record_type, record_id)
                )
                return
            db.execute(
                "INSERT INTO mirror (record_type, record_id, store_id, data, received_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (record_type, record_id) DO UPDATE SET "
                "store_id = excluded.store_id, data = excluded.data, received_at = excluded.received_at",
                (
                    record_type,
                    record_id,
                    str(record.get("StoreID", "")),
                    json.dumps(record.get("data") or {}, sort_keys=True),
                    now_text(),
                ),
            )

    def mirror_clear(self) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM mirror")

    def mirror(self) -> dict[tuple[str, str], dict[str, Any]]:
        with self.lock:
            rows = self.db.execute("SELECT record_type, record_id, data FROM mirror").fetchall()
        return {(t, i): json.loads(d) for t, i, d in rows}
