"""Figures: one row per workload, printed as a table and written as Markdown."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from .client import Outcome


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Row:
    workload: str
    ours_rate: float = 0.0
    raw_rate: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    raw_p50_ms: float = 0.0
    rss_mb: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""
    failures: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.ours_rate / self.raw_rate if self.raw_rate else 0.0


def combine(outcomes: list[Outcome]) -> tuple[float, list[float], int, list[str]]:
    """(records/s over the wall-clock span of all processes, latencies, records, failures)."""
    start = min(o.start for o in outcomes)
    end = max(o.end for o in outcomes)
    records = sum(o.records for o in outcomes)
    latencies = [lat for o in outcomes for lat in o.latencies]
    failures = [f for o in outcomes for f in o.failures]
    return (records / (end - start) if end > start else 0.0), latencies, records, failures


def fill_latencies(row: Row, latencies: list[float]) -> None:
    row.p50_ms = percentile(latencies, 0.5) * 1000
    row.p95_ms = percentile(latencies, 0.95) * 1000
    row.p99_ms = percentile(latencies, 0.99) * 1000


HEADER = ["workload", "ours rec/s", "raw rec/s", "ours/raw", "p50 ms", "p95 ms", "p99 ms", "peak RSS MB",
          "target", "met?"]  # fmt: skip


def cells(row: Row) -> list[str]:
    met = "-" if row.met is None else ("yes" if row.met else "NO")
    return [
        row.workload,
        f"{row.ours_rate:,.0f}",
        f"{row.raw_rate:,.0f}" if row.raw_rate else "-",
        f"{row.ratio:.2f}" if row.raw_rate else "-",
        f"{row.p50_ms:.1f}",
        f"{row.p95_ms:.1f}",
        f"{row.p99_ms:.1f}",
        "-" if row.rss_mb is None else f"{row.rss_mb:.0f}",
        row.target or "-",
        met,
    ]


def text_table(rows: list[Row]) -> str:
    table = [HEADER] + [cells(r) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in table]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    notes = [f"  {r.workload}: {r.note}" for r in rows if r.note]
    return "\n".join(lines + (["notes:", *notes] if notes else []))


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cells(r)) + " |" for r in rows]
    notes = [f"- **{r.workload}**: {r.note}" for r in rows if r.note]
    return "\n".join(lines + (["", *notes] if notes else []))


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0
