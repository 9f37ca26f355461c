"""What the health page shows: its filters and sorting (from the query string), rows and plots."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils.safestring import mark_safe

from . import selectors, svg
from .selectors import SiteHealth

SHOWS = {
    "": "all sites",
    "behind": "behind",
    "silent": "silent",
    "failing": "failing",
    "inactive": "inactive",
}
DEFAULT_SILENT_DAYS = 7
PAGE_SIZE = 100
# The sites furthest behind, drawn in the lag and depth plots.
PLOTTED_SITES = 20
SORT_KEYS = (
    "site",
    "name",
    "active",
    "contact",
    "push",
    "pull",
    "ack",
    "lag",
    "quarantined",
    "errors",
    "dump",
    "version",
)


def _sort_keys(now: datetime) -> dict[str, Callable[[SiteHealth], Any]]:
    return {
        "site": lambda h: h.site.pk,
        "name": lambda h: h.site.name.lower(),
        "active": lambda h: h.site.is_active,
        "contact": lambda h: h.last_contact,
        "push": lambda h: h.latest and h.latest.last_push_at,
        "pull": lambda h: h.latest and h.latest.last_pull_at,
        "ack": lambda h: h.latest and h.latest.last_ack_at,
        "lag": lambda h: h.lag_seconds(now) if h.queued_since else None,
        "quarantined": lambda h: h.quarantined,
        "errors": lambda h: h.errors_24h,
        "dump": lambda h: h.dump and h.dump.dumped_at,
        "version": lambda h: h.app_version or None,
    }


@dataclass
class HealthQuery:
    show: str = ""
    days: int = DEFAULT_SILENT_DAYS
    sort: str = "site"
    descending: bool = False
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> HealthQuery:
        """Read the query string; what is not understood is named in `problems` and left at its default."""
        query = cls()
        show = params.get("show", "")
        if show in SHOWS:
            query.show = show
        else:
            query.problems.append(f"Unknown filter '{show}': showing all sites.")
        days = params.get("days", "")
        if days:
            if days.isdigit() and 1 <= int(days) <= 3650:
                query.days = int(days)
            else:
                query.problems.append(f"'{days}' is not a number of days from 1 to 3650: using 7.")
        sort = params.get("sort", "site")
        key = sort.removeprefix("-")
        if key in SORT_KEYS:
            query.sort, query.descending = key, sort.startswith("-")
        else:
            query.problems.append(f"Cannot sort by '{sort}': sorted by site.")
        return query

    def keeps(self, health: SiteHealth, *, now: datetime) -> bool:
        if self.show == "behind":
            return health.is_behind(now)
        if self.show == "silent":
            contact = health.last_contact
            return health.site.is_active and (contact is None or contact < now - timedelta(days=self.days))
        if self.show == "failing":
            return health.failing
        if self.show == "inactive":
            return not health.site.is_active
        return True

    def apply(self, rows: Sequence[SiteHealth], *, now: datetime) -> list[SiteHealth]:
        """Filter, then sort; rows without a value (never pulled, nothing queued) come last either way."""
        key = _sort_keys(now)[self.sort]
        kept = [h for h in rows if self.keeps(h, now=now)]
        valued = [h for h in kept if key(h) is not None]
        empty = [h for h in kept if key(h) is None]
        return sorted(valued, key=key, reverse=self.descending) + empty

    def params(self, **changes: Any) -> str:
        values = {"show": self.show, "days": self.days, "sort": ("-" if self.descending else "") + self.sort}
        values.update(changes)
        return "?" + urlencode({k: v for k, v in values.items() if v not in ("", None)})

    def sort_link(self, key: str) -> str:
        """Sort by `key`; a second click on the same column turns the order round."""
        descending = not self.descending if key == self.sort else key in ("lag", "errors", "quarantined")
        return self.params(sort=("-" if descending else "") + key)

    def filter_links(self) -> list[dict[str, Any]]:
        return [
            {"label": label, "url": self.params(show=show), "selected": show == self.show}
            for show, label in SHOWS.items()
        ]


def capped(depth: int | None, cap: int) -> str:
    if depth is None:
        return ""
    return f"{cap:,}+".replace(",", " ") if depth > cap else f"{depth:,}".replace(",", " ")


def duration(seconds: float) -> str:
    """A lag in the largest unit that fits: 45 s, 12 min, 5 h, 3 d."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def _admin_list(model: str, site_id: int, **extra: str) -> str:
    return reverse(f"admin:queue_{model}_changelist") + "?" + urlencode({"site__id__exact": site_id, **extra})


def rows_for(
    page: Sequence[SiteHealth], *, depths: Mapping[int, int], cap: int, now: datetime
) -> list[dict[str, Any]]:
    rows = []
    for health in page:
        site, latest = health.site, health.latest
        rows.append(
            {
                "health": health,
                "site_url": reverse("admin:sites_site_change", args=[site.pk]),
                "depth": capped(depths.get(site.pk, 0), cap),
                "lag": duration(health.lag_seconds(now)) if health.queued_since else "",
                "behind": health.is_behind(now),
                "last_error": latest.last_error if latest and health.failing else "",
                "log_url": _admin_list("synclog", site.pk),
                "queue_url": _admin_list("queueentry", site.pk),
                "quarantine_url": _admin_list("quarantinedrecord", site.pk),
            }
        )
    return rows


def plots(*, now: datetime, lagging: Sequence[SiteHealth], depths: Mapping[int, int], cap: int) -> list[str]:
    """Traffic of the last 24 hours (hourly) and 30 days (daily), then queue lag and depth per site."""
    charts = []
    for title, since, step, label in (
        ("Last 24 hours (per hour)", now - timedelta(hours=23), timedelta(hours=1), "%H:00"),
        ("Last 30 days (per day)", now - timedelta(days=29), timedelta(days=1), "%d %b"),
    ):
        points = selectors.traffic(since=since, now=now, step=step)
        labels = [p.start.strftime(label) for p in points]
        charts.append(
            svg.line_chart(
                title=f"{title}: requests, records pushed and pulled, errors",
                labels=labels,
                series=[
                    svg.Series("requests", [p.requests for p in points]),
                    svg.Series("pushed", [p.pushed for p in points]),
                    svg.Series("pulled", [p.pulled for p in points]),
                    svg.Series("errors", [p.errors for p in points]),
                ],
            )
        )
    names = [f"{h.site.pk} {h.site.name}"[:24] for h in lagging]
    charts.append(
        svg.bar_chart(
            title="Queue lag: the oldest waiting entry, per site (longest first)",
            bars=[(name, h.lag_seconds(now) / 3600) for name, h in zip(names, lagging, strict=True)],
            unit="h",
        )
    )
    charts.append(
        svg.bar_chart(
            title=f"Queue depth of those sites (counted up to {capped(cap + 1, cap)})",
            bars=[(name, depths.get(h.site.pk, 0)) for name, h in zip(names, lagging, strict=True)],
            unit="entries",
        )
    )
    return charts


def health_context(*, params: Mapping[str, str], now: datetime) -> dict[str, Any]:
    """Everything the page shows for this query string: the filtered, sorted page of sites and the plots."""
    query = HealthQuery.from_params(params)
    everything = selectors.site_health(now=now)
    shown = query.apply(everything, now=now)
    page = Paginator(shown, PAGE_SIZE).get_page(params.get("page"))
    cap = settings.MONITORING_QUEUE_DEPTH_CAP
    lagging = sorted((h for h in everything if h.queued_since), key=lambda h: h.queued_since or now)[
        :PLOTTED_SITES
    ]
    # Depths only of the sites on screen: each is an index range read of up to `cap` entries.
    depths = selectors.capped_depths({h.site.pk for h in [*page.object_list, *lagging]}, cap=cap)
    return {
        "query": query,
        "page": page,
        "rows": rows_for(list(page.object_list), depths=depths, cap=cap, now=now),
        "total": len(everything),
        "shown": len(shown),
        # svg.py escapes every text it draws.
        "plots": [mark_safe(chart) for chart in plots(now=now, lagging=lagging, depths=depths, cap=cap)],
        "filters": query.filter_links(),
        "sort_links": {key: query.sort_link(key) for key in SORT_KEYS},
        "silent_days_choices": (1, 3, 7, 30),
        "behind_minutes": settings.MONITORING_BEHIND_MINUTES,
        "cap_text": capped(cap, cap),
    }
