"""Fan-out: central edits made on the primary (apps.queue.services.primary_changes_apply), in-process.

Central data is edited on the primary (admin, loadrecords), not through a sync endpoint, so this
workload calls the service directly in the bench process (Django configured for the bench database).
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from . import raw
from .context import Context, log
from .report import Row, fill_latencies, percentile
from .seed import FANOUT_SITES_FROM, set_active_sites, truncate

BATCH = 500


def _items(ctx: Context, count: int) -> list[tuple[int, str, dict[str, Any]]]:
    conn = ctx.db.connect()
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT id, record_id, data FROM records_record WHERE record_type = 'item' ORDER BY id LIMIT %s",
            [count],
        )
        rows = [(pk, rid, orjson.loads(data)) for pk, rid, data in cursor.fetchall()]
    conn.close()
    return rows


def _edited(data: dict[str, Any], tag: str) -> dict[str, Any]:
    return {**data, "item_name": f"{data['item_name']} {tag}", "indic_price": data["indic_price"] + 1}


def _ours(items: list[tuple[int, str, dict[str, Any]]], tag: str) -> tuple[float, int]:
    from apps.queue.services import primary_changes_apply
    from apps.records.changes import Change

    changes = [
        Change(record_type="item", record_id=rid, action="upsert", data=_edited(d, tag))
        for _, rid, d in items
    ]
    t0 = time.perf_counter()
    written = primary_changes_apply(changes=changes)
    elapsed = time.perf_counter() - t0
    if len(written.written_pks) != len(items):
        raise RuntimeError(f"fan-out wrote {len(written.written_pks)} records, expected {len(items)}")
    return elapsed, len(written.written_pks)


def _raw(ctx: Context, items: list[tuple[int, str, dict[str, Any]]], tag: str) -> float:
    elapsed, _ = raw.fan_out(ctx.db, edits=[(pk, "item", rid, _edited(d, tag)) for pk, rid, d in items])
    return elapsed


def _queued(ctx: Context) -> int:
    conn = ctx.db.connect()
    with conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM queue_queueentry")
        n = cursor.fetchone()[0]
    conn.close()
    return n


def fan_out_rows(ctx: Context) -> list[Row]:

    s = ctx.sizes
    conn = ctx.db.connect()
    rows = []
    try:
        # One central edit to N sites, repeated.
        set_active_sites(conn, first=FANOUT_SITES_FROM, count=s.fanout_sites)
        truncate(conn, "queue_queueentry")
        items = _items(ctx, s.fanout_one_reps + 1)
        log(f"fan-out: one central edit to {s.fanout_sites} sites, {s.fanout_one_reps} times")
        _ours(items[-1:], "warm-up")
        ours = [_ours([item], f"v{i}")[0] for i, item in enumerate(items[:-1])]
        queued = _queued(ctx)
        truncate(conn, "queue_queueentry")
        raws = [_raw(ctx, [item], f"r{i}") for i, item in enumerate(items[:-1])]
        row = Row(f"fan-out 1 edit -> {s.fanout_sites} sites", target="< 100 ms (p50)")
        row.ours_rate = s.fanout_sites / percentile(ours, 0.5)
        row.raw_rate = s.fanout_sites / percentile(raws, 0.5)
        fill_latencies(row, ours)
        row.met = row.p50_ms < 100
        row.note = (
            f"queue rows/s per edit (median); {queued} rows queued; "
            f"raw p50 {percentile(raws, 0.5) * 1000:.1f} ms; "
            "in-process service call, no HTTP"
        )
        rows.append(row)

        # Many central edits to fewer sites, in batches of 500.
        set_active_sites(conn, first=FANOUT_SITES_FROM, count=s.fanout_edit_sites)
        truncate(conn, "queue_queueentry")
        items = _items(ctx, s.fanout_edits)
        batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
        log(f"fan-out: {len(items)} central edits to {s.fanout_edit_sites} sites in batches of {BATCH}")
        ours = [_ours(batch, "many")[0] for batch in batches]
        queued = _queued(ctx)
        truncate(conn, "queue_queueentry")
        raws = [_raw(ctx, batch, "raw") for batch in batches]
        row = Row(f"fan-out {len(items)} edits -> {s.fanout_edit_sites} sites")
        row.ours_rate = len(items) / sum(ours)
        row.raw_rate = len(items) / sum(raws)
        fill_latencies(row, ours)
        row.note = (
            f"edits/s; {queued:,} queue rows, {queued / sum(ours):,.0f} queue rows/s; latency per batch of "
            f"{BATCH}; in-process"
        )
        rows.append(row)
    finally:
        set_active_sites(conn)
        truncate(conn, "queue_queueentry")
        conn.close()
    return rows
