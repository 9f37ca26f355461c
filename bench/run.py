"""The benchmark: `python -m bench.run [--smoke] [--only WORKLOAD ...] [--scale F] [--profile]`.

Starts MariaDB (scripts/mariadb.sh, unless DATABASE_URL names a server) and the server under gunicorn
(2 sync workers) on loopback, seeds a fresh `syncbench` database, drives the server over HTTP from
separate client processes, runs the raw mysqlclient baseline of each workload, prints the figures and
stops everything it started. Exits non-zero if any request failed. Method: docs/performance.md.

Modules that need Django (seeding, fan-out, profiling) are imported only after settings are configured:
the client processes are spawned and re-import this module, and must not import Django.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import client, raw
from .config import FULL, SMOKE, WORKLOADS, scaled
from .context import Context, fill_pull_queue, log
from .report import Row, combine, fill_latencies, markdown_table, percentile, text_table
from .server import (
    DbParams,
    Gunicorn,
    RssMeter,
    base_url,
    drop_database,
    migrate,
    recreate_database,
    setup_django,
    start_galera,
    start_mariadb,
    stop_galera,
    stop_mariadb,
    with_database,
)


def measured(ctx: Context, row: Row, outcomes: list[client.Outcome], before_mb: float) -> tuple[float, int]:
    assert ctx.meter is not None
    rate, latencies, records, failures = combine(outcomes)
    row.ours_rate = rate
    fill_latencies(row, latencies)
    row.rss_mb = ctx.meter.peak_mb()
    row.failures += failures
    return rate, records


def raw_into(row: Row, outcomes: list[client.Outcome]) -> None:
    rate, latencies, _, _ = combine(outcomes)
    row.raw_rate = rate
    row.raw_p50_ms = percentile(latencies, 0.5) * 1000


# Workloads -------------------------------------------------------------------------------------
def workload_push(ctx: Context) -> list[Row]:
    from .seed import PULL_SITE, PUSH_SITES_FROM, store_of

    s = ctx.sizes
    batches = s.push_total // s.push_batch

    def files(site_id: int, count: int) -> list[str]:
        paths = []
        for i in range(count):
            path = ctx.tmp / f"push-{site_id}-{i}.json"
            path.write_bytes(ctx.factory.push_batch(store_id=store_of(site_id), size=s.push_batch))
            paths.append(str(path))
        return paths

    log(f"push: writing {2 * batches} bodies of {s.push_batch} records")
    single = [{**ctx.job(PULL_SITE), "files": files(PULL_SITE, batches)}]
    sites = range(PUSH_SITES_FROM, PUSH_SITES_FROM + s.push_sites)
    many = [{**ctx.job(site), "files": files(site, batches // s.push_sites)} for site in sites]
    raw.create_raw_tables(ctx.db)
    rows = []
    for label, jobs in ((f"push 1 site ({s.push_batch}/req)", single), (f"push {len(many)} sites", many)):
        row = Row(label, target=">= 8000/s and >= 0.3x raw")
        before = ctx.meter.reset()
        log(f"{label}: {sum(len(j['files']) for j in jobs) * s.push_batch} records over HTTP")
        measured(ctx, row, client.run_parallel(client.push, jobs), before)
        log(f"{label}: raw baseline")
        raw_into(row, client.run_parallel(raw.push, [{**job, "db": ctx.db} for job in jobs]))
        row.met = row.ours_rate >= 8000 and row.ratio >= 0.3
        body = Path(single[0]["files"][0]).stat().st_size
        row.note = f"bodies of {body / 1024:.0f} KB ({body / s.push_batch:.0f} B a record, trans_line)"
        rows.append(row)
    for path in ctx.tmp.glob("push-*.json"):
        path.unlink()
    return rows


def workload_pull(ctx: Context) -> list[Row]:
    from .seed import PULL_SITE, analyze, truncate

    s = ctx.sizes
    conn = ctx.db.connect()
    truncate(conn, "queue_queueentry")
    conn.close()
    queued = fill_pull_queue(ctx, PULL_SITE)
    conn = ctx.db.connect()
    analyze(conn, "queue_queueentry")
    conn.close()
    row = Row(f"pull (peek {s.pull_batch}, v3)", target=">= 60000/s and >= 0.5x raw")
    reps = max(1, queued // s.pull_batch)
    log(f"pull: {reps} peeks of {s.pull_batch} from a queue of {queued}")
    before = ctx.meter.reset()
    job = {**ctx.job(PULL_SITE), "reps": reps, "limit": s.pull_batch, "expect": min(s.pull_batch, queued)}
    measured(ctx, row, client.run_parallel(client.peek, [job]), before)
    raw_into(row, [raw.read_through(ctx.db, site_id=PULL_SITE, limit=s.pull_batch)])
    row.met = row.ours_rate >= 60000 and row.ratio >= 0.5
    row.note = "raw: keyset read through the whole queue + orjson encoding"
    return [row]


def workload_drain(ctx: Context) -> list[Row]:
    from .seed import FANOUT_SITES_FROM, PULL_SITE, analyze, truncate

    s = ctx.sizes
    conn = ctx.db.connect()
    truncate(conn, "queue_queueentry")
    conn.close()
    queued = fill_pull_queue(ctx, PULL_SITE)
    fill_pull_queue(ctx, FANOUT_SITES_FROM)  # the raw baseline drains the same records for another site
    conn = ctx.db.connect()
    analyze(conn, "queue_queueentry")
    conn.close()
    row = Row(f"drain (pull {s.pull_batch} + ack)", target=">= 25000/s and >= 0.5x raw")
    log(f"drain: a queue of {queued}")
    before = ctx.meter.reset()
    job = {**ctx.job(PULL_SITE), "limit": s.pull_batch, "expect": queued}
    measured(ctx, row, client.run_parallel(client.drain, [job]), before)
    raw_into(row, [raw.drain(ctx.db, site_id=FANOUT_SITES_FROM, limit=s.pull_batch)])
    row.met = row.ours_rate >= 25000 and row.ratio >= 0.5
    row.note = "latency per pull + ack cycle"
    return [row]


def workload_dump(ctx: Context) -> list[Row]:
    from .seed import DUMP_SITE, FANOUT_SITES_FROM, truncate

    s = ctx.sizes
    conn = ctx.db.connect()
    truncate(conn, "queue_queueentry")
    with conn.cursor() as cursor:
        # The sites' stores have central store records too (creating a store writes one): dumped as well.
        cursor.execute("SELECT COUNT(*) FROM records_record WHERE record_type = 'store' AND is_deleted = 0")
        expected = s.central + cursor.fetchone()[0]
    conn.close()
    log(f"dump: initial_dump over {expected} central records")
    row = Row("dump (initial_dump call)", target=">= 50000 rows/s, RSS +< 100 MB")
    before = ctx.meter.reset()
    measured(ctx, row, client.run_parallel(client.dump, [{**ctx.job(DUMP_SITE), "expect": expected}]), before)
    growth = row.rss_mb - before
    raw_site = FANOUT_SITES_FROM + 1
    raw_into(row, [raw.dump(ctx.db, site_id=raw_site)])
    row.met = row.ours_rate >= 50000 and growth < 100
    row.note = f"server RSS {before:.0f} MB before, peak {row.rss_mb:.0f} MB: grew {growth:.0f} MB"
    log("dump: draining it")
    drained = Row(f"dump drain (pull {s.pull_batch} + ack)")
    before = ctx.meter.reset()
    job = {**ctx.job(DUMP_SITE), "limit": s.pull_batch, "expect": expected}
    measured(ctx, drained, client.run_parallel(client.drain, [job]), before)
    raw_into(drained, [raw.drain(ctx.db, site_id=raw_site, limit=s.pull_batch)])
    return [row, drained]


def workload_fanout(ctx: Context) -> list[Row]:
    from .fanout import fan_out_rows

    return fan_out_rows(ctx)


def workload_head(ctx: Context) -> list[Row]:
    from .seed import FANOUT_SITES_FROM, HEAD_SITE, analyze, count, fill_queue, truncate

    s = ctx.sizes
    conn = ctx.db.connect()
    truncate(conn, "queue_queueentry")
    fill_queue(conn, site_id=HEAD_SITE, count=s.head_small)
    analyze(conn, "queue_queueentry")
    records = count(conn, "SELECT COUNT(*) FROM records_record")
    conn.close()
    rows = []

    def measure(label: str, target: str = "") -> Row:
        row = Row(label, target=target)
        job = {**ctx.job(HEAD_SITE), "reps": s.head_reps, "limit": s.pull_batch, "expect": s.pull_batch}
        before = ctx.meter.reset()
        log(f"{label}: {s.head_reps} peeks")
        measured(ctx, row, client.run_parallel(client.peek, [job]), before)
        raw_into(row, [raw.peek(ctx.db, site_id=HEAD_SITE, limit=s.pull_batch, reps=s.head_reps)])
        return row

    small = measure(f"head, {s.head_small:,} queue rows")
    rows.append(small)
    # The big table: other sites' rows before and after the measured site's, as in a live table.
    log(f"head: filling the queue table to {s.head_big:,} rows")
    conn = ctx.db.connect()
    truncate(conn, "queue_queueentry")
    others = s.head_big - s.head_small
    site = FANOUT_SITES_FROM
    filled_head = False
    while others > 0:
        if not filled_head and others <= (s.head_big - s.head_small) // 2:
            fill_queue(conn, site_id=HEAD_SITE, count=s.head_small)
            filled_head = True
        n = min(others, records, (s.head_big - s.head_small) // 2 or 1)
        others -= fill_queue(conn, site_id=site, count=n)
        site += 1
    if not filled_head:
        fill_queue(conn, site_id=HEAD_SITE, count=s.head_small)
    analyze(conn, "queue_queueentry")
    total = count(conn, "SELECT COUNT(*) FROM queue_queueentry")
    conn.close()
    big = measure(f"head, {total:,} queue rows", target="p50 <= 1.5x p50 at small")
    big.met = big.p50_ms <= 1.5 * small.p50_ms
    big.note = f"p50 {big.p50_ms / small.p50_ms:.2f}x the small table's" if small.p50_ms else ""
    rows.append(big)
    return rows


def workload_bootstrap(ctx: Context) -> list[Row]:
    from .bootstrap import workload_bootstrap as bootstrap_rows

    return bootstrap_rows(ctx)


RUNNERS = {
    "bootstrap": workload_bootstrap,
    "push": workload_push,
    "pull": workload_pull,
    "drain": workload_drain,
    "dump": workload_dump,
    "fanout": workload_fanout,
    "head": workload_head,
}


# Setup -----------------------------------------------------------------------------------------
def seed(ctx: Context) -> None:
    from .records import Factory
    from .seed import FANOUT_SITES_FROM, HISTORY_STORE, bulk_sites, create_client_sites, insert_records

    s = ctx.sizes
    ctx.factory = Factory()
    password_hash = create_client_sites()
    conn = ctx.db.connect()
    bulk_sites(conn, first=FANOUT_SITES_FROM, count=max(s.fanout_sites, 50), password_hash=password_hash)
    log(f"seeding {s.central:,} central records (item, name) and {s.pull_queue:,} store records")
    insert_records(conn, ctx.factory, record_types=["item", "name"], count=s.central)
    insert_records(conn, ctx.factory, record_types=["trans_line"], count=s.pull_queue, store_id=HISTORY_STORE)
    with conn.cursor() as cursor:
        cursor.execute("SELECT record_type, COUNT(*), AVG(LENGTH(wire)) FROM records_record GROUP BY 1")
        sizes = ", ".join(f"{t} {n:,} x {avg:.0f} B" for t, n, avg in cursor.fetchall())
    log(f"seeded: {sizes}")
    conn.close()


def environment(db: DbParams) -> str:
    import django
    import MySQLdb

    conn = db.connect()
    with conn.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        version = cursor.fetchone()[0]
    conn.close()
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()
    gunicorn_version = subprocess.run(
        [str(Path(sys.executable).parent / "gunicorn"), "--version"], capture_output=True, text=True
    ).stdout.strip()
    return (
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"memory: {memory[1].split()[1] if len(memory) > 1 else '?'}; Python {platform.python_version()}, "
        f"Django {django.get_version()}, mysqlclient {'.'.join(map(str, MySQLdb.version_info[:3]))}, "
        f"{gunicorn_version}, MariaDB {version}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI (a few seconds)")
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, metavar="WORKLOAD", help=", ".join(WORKLOADS))
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every volume (default 1)")
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile pull, drain and push in-process"
    )
    parser.add_argument(
        "--galera",
        action="store_true",
        help="run against node 1 of the 3-node Galera cluster of scripts/galera.sh (started if down)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the syncbench database afterwards")
    parser.add_argument("--database", help="database name (default syncbench, or syncbench_smoke)")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = scaled(SMOKE if args.smoke else FULL, args.scale)
    started_mariadb = started_galera = False
    ctx: Context | None = None
    rows: list[Row] = []
    began = time.monotonic()
    env = ""
    with tempfile.TemporaryDirectory(prefix="syncbench-") as tmp:
        try:
            if args.galera:
                started_galera, server_url = start_galera()
            else:
                if not os.environ.get("DATABASE_URL", "").startswith("mysql"):
                    started_mariadb = start_mariadb()
                server_url = base_url()
            name = args.database or ("syncbench_smoke" if args.smoke else "syncbench")
            if not name.startswith("syncbench"):
                raise SystemExit("--database: use a name that starts with syncbench")
            url = with_database(server_url, name)
            db = DbParams.from_url(url)
            ctx = Context(sizes=sizes, db=db, url=url, tmp=Path(tmp), smoke=args.smoke)
            log(f"database {db.database} on {db.host}:{db.port}: creating and migrating")
            recreate_database(db)
            migrate(url)
            setup_django(url)
            seed(ctx)
            ctx.server = Gunicorn(url, Path(tmp) / "gunicorn.log")
            ctx.meter = RssMeter(ctx.server)
            log(f"gunicorn (2 sync workers) on port {ctx.server.port}, pids {ctx.server.pids()}")
            for name in args.only or WORKLOADS:
                rows += RUNNERS[name](ctx)
            if args.profile:
                from .profile import profile_all

                profile_all(ctx)
            env = environment(db) + (
                ", Galera 3 nodes (scripts/galera.sh), all through node 1" if args.galera else ""
            )
        finally:
            if ctx and ctx.server:
                ctx.server.stop()
                if any(r.failures for r in rows):
                    print((Path(tmp) / "gunicorn.log").read_text()[-3000:], file=sys.stderr)
            if ctx and not args.keep:
                try:
                    drop_database(ctx.db)
                except Exception as exc:
                    print(f"could not drop {ctx.db.database}: {exc}", file=sys.stderr)
            if started_mariadb:
                stop_mariadb()
            if started_galera:
                stop_galera()
    print()
    print(env)
    print(f"sizes: {sizes}")
    print(text_table(rows))
    print(f"total {time.monotonic() - began:.0f} s")
    if args.markdown:
        args.markdown.write_text(f"{env}\n\n{markdown_table(rows)}\n")
    failures = [f"{r.workload}: {f}" for r in rows for f in r.failures]
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
