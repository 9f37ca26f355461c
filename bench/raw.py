"""The raw baseline: the same work with mysqlclient alone (no Django, no HTTP, no checks).

What each workload's raw side does:
- pull: keyset reads of 500 queue rows joined with their records, encoded to the v3 body with orjson;
- drain: the same, plus a DELETE of those ids, one commit per batch;
- push: decode the same body, encode data and wire, multi-row INSERT of the records and the pushed
  SyncIDs (into copies of those tables: the bodies' record ids already exist in the real one);
- dump: one INSERT ... SELECT of the central records into the queue;
- fan-out: a multi-row upsert of the edited records and one REPLACE ... SELECT of records x sites.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from apps.lib.sql import row_literal

from .client import Outcome
from .server import DbParams


def _wire_text(data: dict[str, Any]) -> str:
    """Every value as the text a pull carries. Kept free of Django on purpose, so the baseline runs
    without it; the server also writes the table's other fields, each as its empty value."""
    return orjson.dumps(
        {
            key: value
            if isinstance(value, str)
            else ""
            if value is None
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
            for key, value in data.items()
        }
    ).decode()


_HEAD = (
    "SELECT q.id, r.record_type, r.record_id, r.change_type, r.store_id, r.wire, r.merged_into "
    "FROM queue_queueentry q JOIN records_record r ON r.id = q.record_id "
)
RAW_RECORD = "bench_raw_record"
RAW_PUSHED = "bench_raw_pushed"
# store, ref, transfer name, change type, merged into, deleted, source site, created by site.
CENTRAL_EDIT_CONSTANTS = ("", "", "", "U", "", 0, 1, 1)


def values_sql(rows: list[tuple]) -> str:
    """A multi-row VALUES list written as the server writes it (apps/lib/sql.py): the same text."""
    return ", ".join(map(row_literal, rows))


def create_raw_tables(db: DbParams) -> None:
    conn = db.connect()
    with conn.cursor() as cursor:
        for copy, table in ((RAW_RECORD, "records_record"), (RAW_PUSHED, "queue_pushedsyncid")):
            cursor.execute(f"DROP TABLE IF EXISTS {copy}")
            cursor.execute(f"CREATE TABLE {copy} LIKE {table}")
    conn.close()


def encode(rows: tuple) -> bytes:
    envelopes = []
    for sync_id, record_type, record_id, change_type, store_id, wire, merged_into in rows:
        envelope: dict[str, Any] = {
            "SyncID": str(sync_id),
            "RecordType": record_type,
            "RecordID": record_id,
            "SyncType": change_type,
            "StoreID": store_id,
        }
        if change_type == "M":
            envelope["mergeIDtokeep"] = merged_into
            envelope["mergeIDtodelete"] = record_id
        elif change_type != "D":
            envelope["data"] = orjson.Fragment(wire)
        envelopes.append(envelope)
    return orjson.dumps(envelopes)


def read_through(db: DbParams, *, site_id: int, limit: int) -> Outcome:
    """Keyset reads of the whole queue, `limit` at a time, each batch encoded."""
    conn = db.connect()
    outcome = Outcome(start=time.time())
    last = 0
    with conn.cursor() as cursor:
        while True:
            t0 = time.perf_counter()
            cursor.execute(
                _HEAD + "WHERE q.site_id = %s AND q.id > %s ORDER BY q.id LIMIT %s", [site_id, last, limit]
            )
            rows = cursor.fetchall()
            if not rows:
                break
            encode(rows)
            outcome.latencies.append(time.perf_counter() - t0)
            outcome.records += len(rows)
            last = rows[-1][0]
    outcome.end = time.time()
    conn.close()
    return outcome


def peek(db: DbParams, *, site_id: int, limit: int, reps: int) -> Outcome:
    conn = db.connect()
    outcome = Outcome(start=time.time())
    with conn.cursor() as cursor:
        for _ in range(reps):
            t0 = time.perf_counter()
            cursor.execute(_HEAD + "WHERE q.site_id = %s ORDER BY q.id LIMIT %s", [site_id, limit])
            rows = cursor.fetchall()
            encode(rows)
            outcome.latencies.append(time.perf_counter() - t0)
            outcome.records += len(rows)
    outcome.end = time.time()
    conn.close()
    return outcome


def drain(db: DbParams, *, site_id: int, limit: int) -> Outcome:
    conn = db.connect()
    outcome = Outcome(start=time.time())
    with conn.cursor() as cursor:
        while True:
            t0 = time.perf_counter()
            cursor.execute(_HEAD + "WHERE q.site_id = %s ORDER BY q.id LIMIT %s", [site_id, limit])
            rows = cursor.fetchall()
            if not rows:
                break
            encode(rows)
            ids = [row[0] for row in rows]
            conn.begin()
            cursor.execute(
                f"DELETE FROM queue_queueentry WHERE site_id = %s AND id IN ({', '.join(['%s'] * len(ids))})",
                [site_id, *ids],
            )
            conn.commit()
            outcome.latencies.append(time.perf_counter() - t0)
            outcome.records += len(rows)
    outcome.end = time.time()
    conn.close()
    return outcome


def dump(db: DbParams, *, site_id: int) -> Outcome:
    conn = db.connect()
    outcome = Outcome(start=time.time())
    t0 = time.perf_counter()
    with conn.cursor() as cursor:
        conn.begin()
        cursor.execute("DELETE FROM queue_queueentry WHERE site_id = %s", [site_id])
        cursor.execute(
            "INSERT INTO queue_queueentry (site_id, record_id) SELECT %s, r.id FROM records_record r "
            "JOIN records_recordtype t ON t.name = r.record_type "
            "WHERE r.is_deleted = 0 AND t.scope = 'central' ORDER BY t.dump_order, r.id",
            [site_id],
        )
        outcome.records = cursor.rowcount
        conn.commit()
    outcome.latencies.append(time.perf_counter() - t0)
    outcome.end = time.time()
    conn.close()
    return outcome


def push(job: dict[str, Any]) -> Outcome:
    """Runs in its own process, like the HTTP client: decode, encode, multi-row inserts, commit."""
    db: DbParams = job["db"]
    conn = db.connect()
    outcome = Outcome()
    delay = job["start_at"] - time.time()
    if delay > 0:
        time.sleep(delay)
    outcome.start = time.time()
    site_id = job["site_id"]
    with conn.cursor() as cursor:
        for path in job["files"]:
            body = Path(path).read_bytes()
            t0 = time.perf_counter()
            now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
            records, pushed = [], []
            for item in orjson.loads(body):
                data = item["Data"]
                records.append(
                    (
                        item["RecordType"],
                        item["RecordID"],
                        item["StoreID"],
                        data.get("transaction_ID", ""),
                        "",
                        orjson.dumps(data).decode(),
                        _wire_text(data),
                        "I",
                        "",
                        0,
                        site_id,
                        site_id,
                        now,
                    )
                )
                pushed.append((site_id, item["SyncID"], now))
            conn.begin()
            cursor.execute(
                f"INSERT INTO {RAW_RECORD} (record_type, record_id, store_id, ref_id, transfer_name_id, "
                "data, wire, change_type, merged_into, is_deleted, source_site_id, created_by_site_id, "
                f"modified_at) VALUES {values_sql(records)}"
            )
            cursor.execute(
                f"INSERT INTO {RAW_PUSHED} (site_id, sync_id, received_at) VALUES {values_sql(pushed)}"
            )
            conn.commit()
            outcome.latencies.append(time.perf_counter() - t0)
            outcome.records += len(records)
    outcome.end = time.time()
    conn.close()
    return outcome


def fan_out(db: DbParams, *, edits: list[tuple[int, str, str, dict[str, Any]]]) -> tuple[float, int]:
    """Apply central edits (pk, record type, record id, new data) and queue them for every active satellite.

    Returns (seconds, queue rows written).
    """
    conn = db.connect()
    t0 = time.perf_counter()
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    rows = [
        (
            pk,
            record_type,
            record_id,
            orjson.dumps(data).decode(),
            _wire_text(data),
            now,
            *CENTRAL_EDIT_CONSTANTS,
        )
        for pk, record_type, record_id, data in edits
    ]
    pks = sorted(row[0] for row in rows)
    with conn.cursor() as cursor:
        conn.begin()
        cursor.execute(
            "INSERT INTO records_record (id, record_type, record_id, data, wire, modified_at, store_id, "
            "ref_id, transfer_name_id, change_type, merged_into, is_deleted, source_site_id, "
            f"created_by_site_id) VALUES {values_sql(rows)} "
            "ON DUPLICATE KEY UPDATE data = VALUES(data), wire = VALUES(wire), change_type = 'U', "
            "modified_at = VALUES(modified_at)"
        )
        cursor.execute(
            "REPLACE INTO queue_queueentry (site_id, record_id) SELECT s.id, r.id FROM records_record r "
            "JOIN sites_site s ON s.is_active AND s.id <> 1 "
            f"WHERE r.id IN ({', '.join(['%s'] * len(pks))}) ORDER BY r.id, s.id",
            pks,
        )
        written = cursor.rowcount
        conn.commit()
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed, written
