"""Inline SVG line charts: no script, no library, no network, and they print.

Lines are told apart by dash pattern as well as colour (solid actual, dashed pace, dotted forecast),
tick labels are drawn once per language and toggled with the page's language, and every chart has a
data table beside it in the page for readers who cannot see it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from itertools import pairwise

from markupsafe import Markup, escape

from pipelines.report import format as fmt
from pipelines.report.model import Point

WIDTH, HEIGHT = 600, 210
LEFT, RIGHT, TOP, BOTTOM = 62, 16, 12, 26
PLOT_H = HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class Line:
    role: str  # actual | pace | forecast
    points: list[Point]


@dataclass(frozen=True)
class Chart:
    """What to draw: the lines, horizontal levels, the date range and the unit of the y axis."""

    caption_id: str
    lines: list[Line]
    start: dt.date
    end: dt.date
    unit: str | None
    levels: list[tuple[str, float]] = field(default_factory=list)
    domain: tuple[float, float] | None = None  # fixed y range (scores: 0..1), else from the data
    zero_based: bool = False
    width: int = WIDTH  # narrower charts keep their labels legible where they sit in a narrow column

    @property
    def plot_width(self) -> int:
        return self.width - LEFT - RIGHT


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 × 10^k apart) covering lo..hi."""
    if hi < lo:
        lo, hi = hi, lo
    if math.isclose(hi, lo):
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first, last = math.floor(lo / step) * step, math.ceil(hi / step) * step
    return [round(first + i * step, 12) for i in range(round((last - first) / step) + 1)]


def _values(chart: Chart) -> list[float]:
    found = [p.value for line in chart.lines for p in line.points if p.value is not None]
    return found + [value for _, value in chart.levels]


def y_ticks(chart: Chart) -> list[float]:
    if chart.domain is not None:
        return nice_ticks(*chart.domain)
    values = _values(chart) or [0.0, 1.0]
    lo, hi = min(values), max(values)
    if chart.zero_based and lo >= 0:
        lo = 0.0
    return nice_ticks(lo, hi)


class _Scale:
    def __init__(self, chart: Chart, ticks: list[float]) -> None:
        self.start, self.days = chart.start, max((chart.end - chart.start).days, 0)
        self.lo, self.hi = ticks[0], ticks[-1]
        self.plot_width = chart.plot_width

    def x(self, day: dt.date) -> float:
        if self.days == 0:
            return LEFT + self.plot_width / 2
        return LEFT + (day - self.start).days / self.days * self.plot_width

    def y(self, value: float) -> float:
        return TOP + (1 - (value - self.lo) / (self.hi - self.lo)) * PLOT_H


def _segments(points: list[Point]) -> list[list[Point]]:
    """A missing day breaks the line instead of drawing it down to zero."""
    out: list[list[Point]] = [[]]
    for p in points:
        if p.value is None:
            out.append([])
        else:
            out[-1].append(p)
    return [s for s in out if s]


def _polyline(scale: _Scale, role: str, points: list[Point]) -> str:
    coords = " ".join(f"{scale.x(p.day):.1f},{scale.y(p.value):.1f}" for p in points)
    return f'<polyline class="l-{role}" points="{coords}"/>'


def _ticks(scale: _Scale, chart: Chart, ticks: list[float]) -> list[str]:
    right = LEFT + chart.plot_width
    out = [f'<line class="grid" x1="{LEFT}" x2="{right}" y1="{scale.y(t):.1f}" y2="{scale.y(t):.1f}"/>' for t in ticks]
    days = sorted({chart.start, chart.end})
    for lang in fmt.LANGS:
        labels = [
            f'<text x="{LEFT - 6}" y="{scale.y(t) + 4:.1f}" text-anchor="end">'
            f"{escape(fmt.axis_value(t, chart.unit, lang))}</text>"
            for t in ticks
        ]
        for i, day in enumerate(days):
            anchor = "middle" if len(days) == 1 else ("start" if i == 0 else "end")
            labels.append(
                f'<text x="{scale.x(day):.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}">'
                f"{escape(fmt.short_date(day, lang))}</text>"
            )
        out.append(f'<g data-l="{lang}">{"".join(labels)}</g>')
    return out


def svg(chart: Chart) -> Markup:
    """The chart as an inline <svg>, labelled by the figure caption it sits under."""
    ticks = y_ticks(chart)
    scale = _Scale(chart, ticks)
    parts = [
        f'<svg class="chart" viewBox="0 0 {chart.width} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart.caption_id)}" xmlns="http://www.w3.org/2000/svg">',
        *_ticks(scale, chart, ticks),
    ]
    for name, value in chart.levels:
        y, role = f"{scale.y(value):.1f}", "baseline" if name == "baseline" else "level"
        parts.append(f'<line class="l-{role}" x1="{LEFT}" x2="{LEFT + chart.plot_width}" y1="{y}" y2="{y}"/>')
    for line in chart.lines:
        for segment in _segments(line.points):
            parts.append(_polyline(scale, line.role, segment))
    actual = [p for line in chart.lines if line.role == "actual" for p in line.points if p.value is not None]
    if actual:
        last = actual[-1]
        parts.append(f'<circle class="dot" cx="{scale.x(last.day):.1f}" cy="{scale.y(last.value):.1f}" r="4"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def interpolate(points: list[Point], day: dt.date) -> float | None:
    """The value of a straight line through `points` on `day` (the pace line in the data tables)."""
    known = [p for p in points if p.value is not None]
    for a, b in pairwise(known):
        if a.day <= day <= b.day:
            span = (b.day - a.day).days
            return a.value if span == 0 else a.value + (b.value - a.value) * (day - a.day).days / span
    return None
