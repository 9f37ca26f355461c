"""`--profile`: cProfile of the hot paths, in-process through Django's test client (no gunicorn).

The same view, middleware, authentication, service and SQL as under gunicorn; only the WSGI server and
the socket are missing. Prints the functions with the most own time and the most cumulative time.
"""

from __future__ import annotations

import cProfile
import io
import itertools
import pstats
import time
from collections import defaultdict
from collections.abc import Callable

import orjson

from .client import basic_auth
from .context import Context, fill_pull_queue
from .seed import PASSWORD, PULL_SITE, site_name, store_of, truncate


def _report(label: str, profiler: cProfile.Profile, seconds: float, records: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(18)
    stats.sort_stats("cumulative").print_stats(30)
    print(
        f"\n===== profile: {label}: {records} records in {seconds:.2f} s ({records / seconds:,.0f}/s) ====="
    )
    print(out.getvalue())


class StatementTimer:
    """Database time by statement kind (its first words), measured around each `execute` of Django's."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def __call__(self, execute, sql, params, many, context):
        kind = " ".join(str(sql).split()[:3])[:60]
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds[kind] += time.perf_counter() - t0
            self.calls[kind] += 1

    def report(self, batches: int) -> str:
        lines = [f"{'statement':<62} {'calls':>6} {'ms/batch':>9}"]
        for kind, seconds in sorted(self.seconds.items(), key=lambda item: -item[1]):
            lines.append(f"{kind:<62} {self.calls[kind]:>6} {seconds * 1000 / batches:>9.2f}")
        return "\n".join(lines)


def _profiled(
    label: str, work: Callable[[], int], batches: int, prepare: Callable[[], object] = lambda: None
) -> None:
    """Runs `work` twice (after `prepare` each time): timing its SQL by statement, then under cProfile."""
    from django.db import connection

    # First the database time per statement without the profiler's overhead, then the profile.
    prepare()
    timer = StatementTimer()
    with connection.execute_wrapper(timer):
        t0 = time.perf_counter()
        work()
        unprofiled = time.perf_counter() - t0
    print(
        f"\n===== SQL time: {label}: {unprofiled * 1000 / batches:.1f} ms a batch without the profiler ====="
    )
    print(timer.report(batches))
    prepare()
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    records = work()
    profiler.disable()
    _report(label, profiler, time.perf_counter() - t0, records)


def profile_all(ctx: Context) -> None:
    from django.test import Client

    s = ctx.sizes
    http = Client()
    headers = {
        "HTTP_AUTHORIZATION": basic_auth(site_name(PULL_SITE), PASSWORD),
        "HTTP_MSUPPLY_SITE_UUID": f"bench-device-{PULL_SITE}",
    }
    query = f"from_site={PULL_SITE}&to_site=1"

    def refill() -> int:
        conn = ctx.db.connect()
        truncate(conn, "queue_queueentry")
        conn.close()
        return fill_pull_queue(ctx, PULL_SITE)

    queued = refill()
    http.get(f"/sync/v3/queued_records?{query}&limit=1", **headers)  # warm-up: auth cache, registry

    def pull() -> int:
        n = 0
        for _ in range(max(1, queued // s.pull_batch)):
            response = http.get(f"/sync/v3/queued_records?{query}&limit={s.pull_batch}", **headers)
            assert response.status_code == 200, response.content[:300]
            n += len(orjson.loads(response.content))
        return n

    def drain() -> int:
        n = 0
        while True:
            response = http.get(f"/sync/v3/queued_records?{query}&limit={s.pull_batch}", **headers)
            rows = orjson.loads(response.content)
            if not rows:
                return n
            body = orjson.dumps({"SyncRecordIDs": [r["SyncID"] for r in rows]})
            response = http.post(
                f"/sync/v3/acknowledged_records?{query}", body, content_type="application/json", **headers
            )
            assert response.status_code == 200, response.content[:300]
            n += len(rows)

    # Fresh records for each of the two runs: a replayed body would only count duplicates.
    bodies = iter(
        [ctx.factory.push_batch(store_id=store_of(PULL_SITE), size=s.push_batch) for _ in range(20)]
    )

    def push() -> int:
        n = 0
        for body in itertools.islice(bodies, 10):
            response = http.post(
                f"/sync/v3/queued_records?{query}", body, content_type="application/json", **headers
            )
            assert response.status_code == 200, response.content[:300]
            n += orjson.loads(response.content)["applied"]
        return n

    batches = max(1, queued // s.pull_batch)
    _profiled(f"pull (peek {s.pull_batch}, v3)", pull, batches)
    _profiled(f"drain (pull {s.pull_batch} + ack)", drain, batches, prepare=refill)
    _profiled(f"push (10 batches of {s.push_batch})", push, 10)
