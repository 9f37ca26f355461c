"""A small server-side SVG renderer for the health page: line charts over time and horizontal bars.

The plots are drawn here, as inline SVG, so the page needs no JavaScript library and fetches nothing
from anywhere. Every text that goes into the markup is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#2f6fb0", "#3a9a5b", "#c0392b", "#8e6bbf", "#d68a1a")
FONT = 'font-family="sans-serif" font-size="11"'


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 times 10^k that is at least `value` (1 for nothing to show)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def short_number(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:.3g}"


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="4" y="14" {FONT} font-weight="bold">{escape(title)}</text>',
    ]


def line_chart(
    *, title: str, labels: Sequence[str], series: Sequence[Series], width: int = 520, height: int = 220
) -> str:
    """One line per series over the labels (oldest first), with a y axis starting at 0 and a legend."""
    left, right, top, bottom = 44, 8, 24, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = nice_ceiling(max((v for s in series for v in s.values), default=0))
    steps = max(1, len(labels) - 1)

    def x(i: int) -> float:
        return left + plot_w * i / steps

    def y(v: float) -> float:
        return top + plot_h * (1 - v / top_value)

    parts = _open(width, height, title)
    for tick in range(5):
        value = top_value * tick / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y(value) + 4:.1f}" text-anchor="end" {FONT}>'
            f"{short_number(value)}</text>"
        )
    every = max(1, math.ceil(len(labels) / 8))
    for i, label in enumerate(labels):
        last_fits = i == len(labels) - 1 and i % every >= every / 2
        if i % every == 0 or last_fits:
            anchor = "end" if i == len(labels) - 1 else "middle"  # the last one inside the picture
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - bottom + 14}" text-anchor="{anchor}" {FONT}>'
                f"{escape(label)}</text>"
            )
    for n, line in enumerate(series):
        color = PALETTE[n % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(line.values))
        parts.append(
            f'<polyline class="series" data-series="{escape(line.name)}" fill="none" stroke="{color}" '
            f'stroke-width="2" points="{points}"><title>{escape(line.name)}: '
            f"{short_number(sum(line.values))} in all</title></polyline>"
        )
        parts.append(
            f'<rect x="{left + 110 * n}" y="{height - 14}" width="10" height="10" fill="{color}"/>'
            f'<text x="{left + 110 * n + 14}" y="{height - 5}" {FONT}>{escape(line.name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    *, title: str, bars: Sequence[tuple[str, float]], unit: str = "", width: int = 520, bar_height: int = 16
) -> str:
    """Horizontal bars, largest first as given; each labelled with its value and unit."""
    label_w, top = 150, 24
    height = top + bar_height * max(1, len(bars)) + 8
    plot_w = width - label_w - 90
    top_value = nice_ceiling(max((v for _, v in bars), default=0))
    parts = _open(width, height, title)
    if not bars:
        parts.append(f'<text x="4" y="{top + 12}" {FONT}>Nothing to show.</text>')
    for i, (label, value) in enumerate(bars):
        y = top + bar_height * i
        length = plot_w * value / top_value
        parts.append(
            f'<text x="{label_w - 4}" y="{y + bar_height - 4}" text-anchor="end" {FONT}>'
            f"{escape(label)}</text>"
            f'<rect class="bar" x="{label_w}" y="{y + 2}" width="{length:.1f}" height="{bar_height - 4}" '
            f'fill="{PALETTE[0]}"><title>{escape(label)}: {short_number(value)} {escape(unit)}</title></rect>'
            f'<text x="{label_w + length + 4:.1f}" y="{y + bar_height - 4}" {FONT}>'
            f"{short_number(value)} {escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
