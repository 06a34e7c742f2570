"""The forecast band of a cumulative KR: day-to-day noise, widened by the run rate's errors on the metric's last year."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from pathlib import Path

import pytest

from tests.pipelines.lib.scoring.test_engine import score, warehouse  # noqa: F401 (fixture)

FIRST = dt.date(2024, 12, 1)
AS_OF = dt.date(2026, 1, 14)
OBJECTIVES = """
objectives:
  - id: o
    title: O
    period: {start: 2026-01-01, end: 2026-01-28}
    key_results:
      - {id: clicks, metric: clicks, filters: {campaign: [c]}, baseline: 0, target: 5000}
"""


def _kr_clicks(day: dt.date) -> int:
    """The KR's campaign: a 90-day season and busier weekends."""
    i = (day - FIRST).days
    return 100 + round(30 * math.sin(2 * math.pi * i / 90)) + (20 if day.weekday() >= 5 else 0)


def _other_clicks(day: dt.date) -> int:
    """Another campaign of the same metric: outside the KR's filter, inside the metric's history."""
    return 1000 + 10 * ((day - FIRST).days % 3)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _deciles(errors: list[float]) -> tuple[float, float]:
    """10th and 90th percentiles, interpolated between order statistics (DuckDB's quantile_cont)."""
    cuts = statistics.quantiles(errors, n=10, method="inclusive")
    return cuts[0], cuts[-1]


def test_the_band_covers_the_run_rates_errors_over_the_metrics_last_year(tmp_path: Path, warehouse) -> None:  # noqa: F811
    days = _days(FIRST, AS_OF)
    rows = [(d.isoformat(), "meta_ads", "c", "social", "USD", "clicks", _kr_clicks(d)) for d in days]
    rows += [(d.isoformat(), "meta_ads", "other", "social", "USD", "clicks", _other_clicks(d)) for d in days]
    _, krs, _ = score(tmp_path, warehouse(rows), OBJECTIVES, AS_OF.isoformat())
    kr = krs.loc["clicks"]

    window = _days(dt.date(2026, 1, 1), AS_OF)  # 14 days in, 14 left
    recent = [_kr_clicks(d) for d in window]
    rate, left, n = sum(recent) / 14, 14, 14
    forecast = sum(recent) + rate * left
    noise = 1.2816 * statistics.stdev(recent) * math.sqrt(left * (1 + left / n))
    total = {d: _kr_clicks(d) + _other_clicks(d) for d in days}  # the metric, whatever the filter
    errors = []
    for t in _days(AS_OF - dt.timedelta(days=365), AS_OF - dt.timedelta(days=left)):
        past = sum(total[t - dt.timedelta(days=k)] for k in range(n)) / n
        ahead = sum(total[t + dt.timedelta(days=k)] for k in range(1, left + 1))
        errors.append((ahead - left * past) / (left * past))
    low, high = _deciles(errors)

    assert len(errors) == 352 and kr["forecast"] == pytest.approx(forecast)
    assert kr["forecast_low"] == pytest.approx(min(forecast - noise, forecast + low * rate * left))
    assert kr["forecast_high"] == pytest.approx(max(forecast + noise, forecast + high * rate * left))
    assert kr["forecast_high"] - kr["forecast_low"] > 2 * noise  # the season widens the day-to-day band


def test_without_four_weeks_of_history_the_band_is_the_day_to_day_one(tmp_path: Path, warehouse) -> None:  # noqa: F811
    first = AS_OF - dt.timedelta(days=40)  # 14 past run-rate forecasts of 14 days from 14 days: too few
    days = _days(first, AS_OF)
    rows = [(d.isoformat(), "meta_ads", "c", "social", "USD", "clicks", _kr_clicks(d)) for d in days]
    _, krs, _ = score(tmp_path, warehouse(rows), OBJECTIVES, AS_OF.isoformat())
    kr = krs.loc["clicks"]
    recent = [_kr_clicks(d) for d in _days(dt.date(2026, 1, 1), AS_OF)]
    noise = 1.2816 * statistics.stdev(recent) * math.sqrt(14 * 2)
    assert (kr["forecast_low"], kr["forecast_high"]) == (
        pytest.approx(kr["forecast"] - noise),
        pytest.approx(kr["forecast"] + noise),
    )
