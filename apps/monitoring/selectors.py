"""Reads for the health page and the metrics: a bounded number of queries whatever the number of sites.

Nothing here counts a whole queue or the sync log. A queue's depth is counted up to a cap through a
LIMITed subquery (one index range read of at most `cap` entries per site); its lag comes from its head
entry, found per site on the (site, id) index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum

from apps.queue.models import QuarantinedRecord, QueueEntry, SiteDump
from apps.sites.models import PRIMARY_SITE_ID, Site

from .models import ALL_SITES, LATEST, SiteHour

# SQLite allows 500 terms in one compound SELECT.
DEPTH_QUERY_SITES = 400


def is_behind(lag_seconds: float) -> bool:
    """A site is behind when its oldest waiting entry is older than MONITORING_BEHIND_MINUTES."""
    return lag_seconds > settings.MONITORING_BEHIND_MINUTES * 60


def queue_entered_at(*, dumped_at: Mapping[int, datetime]) -> dict[int, datetime]:
    """When the oldest pending entry of each site's queue was queued, for every site with entries.

    Entries carry no time of their own: a change is queued when its record is written (and a newer
    change moves the record to the tail), and a dump queues everything at once. So the head entry was
    queued at its record's `modified_at`, or at the site's last dump (`dumped_at`) if that is later.
    Two queries: the head of each site (a loose scan of the (site, id) index on MariaDB), then those
    heads' records.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT site_id, MIN(id) FROM {QueueEntry._meta.db_table} GROUP BY site_id")
        heads = [head for _site, head in cursor.fetchall()]
        if not heads:
            return {}
    heads_records = QueueEntry.objects.filter(pk__in=heads).values_list("site_id", "record__modified_at")
    entered: dict[int, datetime] = {}
    for site_id, modified in heads_records:
        dumped = dumped_at.get(site_id)
        entered[site_id] = max(modified, dumped) if dumped else modified
    return entered


def capped_depths(site_ids: Iterable[int], *, cap: int) -> dict[int, int]:
    """How many entries wait for each site, counted up to `cap + 1` (more than `cap`: "cap+")."""
    ids = [int(i) for i in site_ids]
    depths: dict[int, int] = {}
    table = QueueEntry._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(ids), DEPTH_QUERY_SITES):
            chunk = ids[start : start + DEPTH_QUERY_SITES]
            sql = " UNION ALL ".join(
                f"SELECT {site_id}, COUNT(*) FROM "
                f"(SELECT 1 AS one FROM {table} WHERE site_id = {site_id} LIMIT {int(cap) + 1}) d{n}"
                for n, site_id in enumerate(chunk)
            )
            cursor.execute(sql)
            depths.update({int(site): int(count) for site, count in cursor.fetchall()})
    return depths


def pending_quarantine() -> dict[int, int]:
    rows = (
        QuarantinedRecord.objects.filter(status=QuarantinedRecord.Status.PENDING)
        .values("site_id")
        .annotate(pending=Count("id"))
    )
    return {row["site_id"]: row["pending"] for row in rows}


def errors_since(since: datetime) -> dict[int, int]:
    """Failed calls per site since `since`, from the hourly rollup (at most 24 rows a site for a day)."""
    rows = (
        SiteHour.objects.filter(hour__gte=since.replace(minute=0, second=0, microsecond=0))
        .exclude(site_id=ALL_SITES)
        .values("site_id")
        .annotate(failed=Sum("errors"))
    )
    return {row["site_id"]: row["failed"] for row in rows}


def latest_by_site() -> dict[int, SiteHour]:
    return {row.site_id: row for row in SiteHour.objects.filter(hour=LATEST).exclude(site_id=ALL_SITES)}


@dataclass
class SiteHealth:
    """One row of the health page."""

    site: Site
    latest: SiteHour | None
    queued_since: datetime | None
    quarantined: int
    errors_24h: int
    dump: SiteDump | None
    depth: int | None = None  # counted for the rows shown only

    @property
    def last_contact(self) -> datetime | None:
        times = [t for t in (self.site.last_seen_at, self.latest and self.latest.last_call_at) if t]
        return max(times) if times else None

    def lag_seconds(self, now: datetime) -> float:
        return (now - self.queued_since).total_seconds() if self.queued_since else 0.0

    def is_behind(self, now: datetime) -> bool:
        return is_behind(self.lag_seconds(now))

    @property
    def app_version(self) -> str:
        return self.latest.app_version if self.latest else ""

    @property
    def failing(self) -> bool:
        """Calls failed in the last 24 hours, or the latest call failed."""
        return self.errors_24h > 0 or bool(self.latest and self.latest.last_status >= 400)


def site_health(*, now: datetime) -> list[SiteHealth]:
    """Every satellite site with what the health page shows (depth excepted): seven queries."""
    sites = list(Site.objects.exclude(pk=PRIMARY_SITE_ID).order_by("pk"))
    latest = latest_by_site()
    dumps = {dump.site_id: dump for dump in SiteDump.objects.all()}
    entered = queue_entered_at(dumped_at={site_id: dump.dumped_at for site_id, dump in dumps.items()})
    quarantined = pending_quarantine()
    errors = errors_since(now - timedelta(hours=24))
    return [
        SiteHealth(
            site=site,
            latest=latest.get(site.pk),
            queued_since=entered.get(site.pk),
            quarantined=quarantined.get(site.pk, 0),
            errors_24h=errors.get(site.pk, 0),
            dump=dumps.get(site.pk),
        )
        for site in sites
    ]


@dataclass(frozen=True)
class TrafficPoint:
    start: datetime
    requests: int
    pushed: int
    pulled: int
    errors: int


def traffic(*, since: datetime, now: datetime, step: timedelta) -> list[TrafficPoint]:
    """Every site's calls per `step` (an hour or a day) from `since` to `now`, from the ALL_SITES rows:
    one row per hour, gaps filled with zeros."""
    since = since.replace(minute=0, second=0, microsecond=0)
    if step >= timedelta(days=1):
        since = since.replace(hour=0)
    rows = SiteHour.objects.filter(site_id=ALL_SITES, hour__gte=since).values_list(
        "hour", "requests", "pushed", "pulled", "errors"
    )
    buckets: dict[int, list[int]] = {}
    for hour, requests, pushed, pulled, failed in rows:
        index = int((hour - since) / step)
        bucket = buckets.setdefault(index, [0, 0, 0, 0])
        for n, value in enumerate((requests, pushed, pulled, failed)):
            bucket[n] += value
    count = int((now - since) / step) + 1
    return [TrafficPoint(since + step * i, *buckets.get(i, [0, 0, 0, 0])) for i in range(count)]


def sites_named(ids: Sequence[int]) -> dict[int, str]:
    return dict(Site.objects.filter(pk__in=ids).values_list("pk", "name"))
