"""A KR's metric through its window, in the same terms as its actual, plus its expected-pace line.

okr.kr_daily stores per-day sums; the KR's actual is an aggregate of them (a running sum, a ratio of
running sums, a maximum ...). The chart must end at the actual the card shows, so the series is built
the same way the engine built the actual.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from itertools import accumulate
from typing import Any

from pipelines.report.model import MetricSeries, Point

RELATIVE_TOLERANCE = 1e-9
RUNNING_TOTALS = ("cumulative", "running_count", "running_max")


def _num(value: Any) -> float:
    return 0.0 if value is None else float(value)


def _running_ratio(daily: list[dict[str, Any]]) -> list[Point]:
    """Ratio of running sums (never a mean of daily ratios): what the KR's actual was on each day."""
    out, num, den = [], 0.0, 0.0
    for row in daily:
        num, den = num + _num(row["numerator"]), den + _num(row["denominator"])
        out.append(Point(row["report_date"], num / den if den else None))
    return out


def _points(daily: list[dict[str, Any]], values: Iterable[float | None]) -> list[Point]:
    return [Point(row["report_date"], v) for row, v in zip(daily, values, strict=True)]


AGGREGATIONS: dict[str, Callable[[list[dict[str, Any]]], list[float]]] = {
    "cumulative": lambda d: list(accumulate(_num(r["numerator"]) for r in d)),
    "running_max": lambda d: list(accumulate((_num(r["numerator"]) for r in d), max)),
    "running_count": lambda d: list(accumulate(float(r["numerator_rows"] or 0) for r in d)),
    "daily": lambda d: [None if r["numerator"] is None else float(r["numerator"]) for r in d],
}


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return False
    return math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-9)


def running(kr: dict[str, Any], daily: list[dict[str, Any]]) -> tuple[str, list[Point]]:
    """(kind, points) whose last value is the KR's actual.

    kr_scores does not record the metric's aggregation (sum, max, count, last), so the one that
    reproduces the stored numerator is used; a plain running sum when none does (e.g. restated days).
    """
    if not daily:
        return "cumulative", []
    if kr.get("numerator") is None and kr.get("actual") is not None:
        return "daily", [Point(r["report_date"], r["value"]) for r in daily]  # expression metric
    if kr.get("denominator") is not None:
        return "running_ratio", _running_ratio(daily)
    for kind, aggregate in AGGREGATIONS.items():
        values = aggregate(daily)
        if values and _close(values[-1], kr.get("numerator")):
            return kind, _points(daily, values)
    return "cumulative", _points(daily, AGGREGATIONS["cumulative"](daily))


def pace_line(
    start: dt.date,
    end: dt.date,
    baseline: float | None,
    target: float | None,
    as_of: dt.date | None = None,
    expected: float | None = None,
) -> list[Point]:
    """Expected pace: after day k of n the KR should be baseline + (target − baseline)·k/n.

    When the engine's expected share for the as-of day is known, the line passes through it (a seasonal
    pace bends there), so the chart, the bar's marker and "expected by now" always agree. The engine
    stores only that day's share, so the line is straight on either side of it.
    """
    if baseline is None or target is None or end < start:
        return []
    days = (end - start).days + 1
    line = [Point(start, baseline + (target - baseline) / days), Point(end, target)]
    if as_of is not None and expected is not None and start < as_of < end:
        line.insert(1, Point(as_of, baseline + (target - baseline) * expected))
    return line


def kr_series(kr: dict[str, Any], daily: list[dict[str, Any]]) -> MetricSeries:
    """The chart data of one KR: its running metric, pace line, forecast segment and thresholds."""
    direction = kr.get("direction")
    if direction in ("stay_above", "stay_below"):
        levels = [(direction, kr["target"])] if kr.get("target") is not None else []
        return MetricSeries("daily", [Point(r["report_date"], r["value"]) for r in daily], levels=levels)
    kind, points = running(kr, daily)
    start, end = kr["window_start"], kr["window_end"]
    if direction == "milestone":
        levels = [("target", kr["target"])] if kr.get("target") is not None else []
        return MetricSeries(kind, points, levels=levels)
    baseline, target = kr.get("baseline"), kr.get("target")
    if kind in RUNNING_TOTALS and baseline:
        # A running total starts at 0, so a non-zero baseline (last season's total, say) is a level to pass,
        # not where the line starts: draw baseline and target as levels instead of a misleading pace line.
        pace: list[Point] = []
        levels = [(name, v) for name, v in (("baseline", baseline), ("target", target)) if v is not None]
    else:
        as_of = kr.get("as_of")
        as_of = as_of.date() if isinstance(as_of, dt.datetime) else as_of
        pace, levels = pace_line(start, end, baseline, target, as_of, kr.get("expected_progress")), []
    forecast: list[Point] = []
    last = points[-1] if points else None
    if last is not None and last.value is not None and kr.get("forecast") is not None and last.day < end:
        forecast = [last, Point(end, kr["forecast"])]
    return MetricSeries(kind, points, pace=pace, forecast=forecast, levels=levels)


def kpi_series(kpi: dict[str, Any], daily: list[dict[str, Any]]) -> MetricSeries:
    """KPIs are health checks: each day's value against the band (stay above / stay below)."""
    levels = [(name, kpi[col]) for name, col in (("stay_above", "band_low"), ("stay_below", "band_high"))]
    return MetricSeries(
        "daily",
        [Point(r["report_date"], r["value"]) for r in daily],
        levels=[(name, value) for name, value in levels if value is not None],
    )
