"""Prometheus metrics: counters kept by every worker, and queue gauges computed when scraped.

With several gunicorn workers each process counts on its own; prometheus-client's multiprocess mode
keeps every process's counts in files under PROMETHEUS_MULTIPROC_DIR, and a scrape (answered by any
one worker) adds them up. That directory must be set before prometheus_client is imported, which
gunicorn.conf.py does; it also marks a worker's files dead when the worker exits. Without it (one
process: runserver, tests) the counts live in the process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from django.conf import settings
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

from apps.queue.models import SiteDump

from . import selectors

REQUESTS = Counter(
    "syncserver_requests",
    "HTTP requests answered, by endpoint (view), method, sync API version and status code.",
    ["endpoint", "method", "version", "status"],
)
LATENCY = Histogram(
    "syncserver_request_duration_seconds",
    "Time to answer an HTTP request, by endpoint and method.",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RECORDS = Counter(
    "syncserver_records",
    "Records moved by sync calls: pushed, pulled, acknowledged, quarantined (of the pushed).",
    ["direction", "version"],
)
AUTH_FAILURES = Counter(
    "syncserver_auth_failures",
    "Requests refused for their credentials (401), and failed admin logins (endpoint 'admin').",
    ["endpoint"],
)
LOCKOUTS = Counter(
    "syncserver_auth_lockouts",
    "Requests refused because their name or address is locked after too many failed logins (429).",
    ["endpoint"],
)
DIRECTIONS = ("pushed", "pulled", "acknowledged", "quarantined")
# Per-site depth in the gauges is counted up to this: a scrape every 15 s must stay cheap.
SCRAPE_DEPTH_CAP = 1000


def observe_request(*, endpoint: str, method: str, version: str, status: int, seconds: float) -> None:
    REQUESTS.labels(endpoint, method, version, str(status)).inc()
    LATENCY.labels(endpoint, method).observe(seconds)
    if status == 401:
        AUTH_FAILURES.labels(endpoint).inc()
    elif status == 429:
        LOCKOUTS.labels(endpoint).inc()


def count_records(*, api_version: str, counts: Mapping[str, int]) -> None:
    for direction in DIRECTIONS:
        if counts.get(direction):
            RECORDS.labels(direction, api_version).inc(counts[direction])


class QueueCollector:
    """Queue gauges read from the database at scrape time (selectors: no count over whole tables)."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        dumped_at = dict(SiteDump.objects.values_list("site_id", "dumped_at"))
        entered = selectors.queue_entered_at(dumped_at=dumped_at)
        depths = selectors.capped_depths(sorted(entered), cap=SCRAPE_DEPTH_CAP)
        lag = GaugeMetricFamily(
            "syncserver_queue_lag_seconds",
            "Age of the oldest entry waiting in each site's queue (sites with entries only).",
            labels=["site"],
        )
        depth = GaugeMetricFamily(
            "syncserver_queue_depth",
            f"Entries waiting in each site's queue, counted up to {SCRAPE_DEPTH_CAP + 1}.",
            labels=["site"],
        )
        behind = GaugeMetricFamily(
            "syncserver_sites_behind",
            f"Sites whose oldest waiting entry is older than {settings.MONITORING_BEHIND_MINUTES} minutes.",
        )
        late = 0
        for site_id, since in sorted(entered.items()):
            seconds = max(0.0, (now - since).total_seconds())
            late += selectors.is_behind(seconds)
            lag.add_metric([str(site_id)], seconds)
            depth.add_metric([str(site_id)], depths.get(site_id, 0))
        behind.add_metric([], late)
        yield from (lag, depth, behind)


def exposition() -> bytes:
    """The text a scrape gets: every worker's counters, then the queue gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counters = CollectorRegistry()
        multiprocess.MultiProcessCollector(counters)
    else:
        counters = REGISTRY
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(QueueCollector())
    return generate_latest(counters) + generate_latest(gauges)
