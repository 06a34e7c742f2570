"""The metric trend ends exactly at the KR's actual, however the metric aggregates."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.report.series import kpi_series, kr_series, pace_line, running

D = dt.date(2026, 1, 1)


def daily(nums: list[float | None], dens: list[float | None] | None = None) -> list[dict]:
    dens = dens or [None] * len(nums)
    return [
        {
            "report_date": D + dt.timedelta(days=i),
            "numerator": n,
            "numerator_rows": 0 if n is None else 1,
            "denominator": d,
            "value": None if n is None else (n / d if d else n),
        }
        for i, (n, d) in enumerate(zip(nums, dens, strict=True))
    ]


def values(points: list) -> list[float | None]:
    return [p.value for p in points]


def test_sum_metrics_run_cumulatively() -> None:
    kind, points = running({"numerator": 9.0, "denominator": None, "actual": 9.0}, daily([2, 3, None, 4]))
    assert kind == "cumulative" and values(points) == [2, 5, 5, 9]


def test_ratios_are_ratios_of_running_sums_not_means_of_daily_ratios() -> None:
    rows = daily([100, 300], [10, 10])  # daily 10 and 30; running 100/10 then 400/20
    kind, points = running({"numerator": 400.0, "denominator": 20.0, "actual": 20.0}, rows)
    assert kind == "running_ratio" and values(points) == [10.0, 20.0]


@pytest.mark.parametrize(
    ("numerator", "kind", "expected"),
    [(7.0, "running_max", [5, 5, 7]), (3.0, "running_count", [1, 2, 3]), (2.0, "daily", [5, 2, 7])],
)
def test_other_aggregations_are_recognised_by_the_stored_numerator(numerator, kind, expected) -> None:
    rows = daily([5, 2, 7])
    if kind == "daily":  # "last": the stored numerator is the last day's total (7 here, so use a 2 at the end)
        rows = daily([5, 7, 2])
        expected = [5, 7, 2]
    found, points = running({"numerator": numerator, "denominator": None, "actual": numerator}, rows)
    assert found == kind and values(points) == expected


def test_expression_metrics_chart_their_daily_values() -> None:
    kind, points = running({"numerator": None, "denominator": None, "actual": 1.5}, daily([3, 4], [2, 2]))
    assert kind == "daily" and values(points) == [1.5, 2.0]


def test_pace_line_meets_expected_progress_on_each_day() -> None:
    start, end = dt.date(2025, 12, 1), dt.date(2026, 2, 28)  # 90 days
    first, last = pace_line(start, end, 170_000.0, 140_000.0)
    assert (first.day, last.day, last.value) == (start, end, 140_000.0)
    assert first.value == pytest.approx(170_000 - 30_000 / 90)
    # as of 22 Feb the engine's expected_progress is 84/90: the line passes baseline + 84/90 of the way
    slope = (last.value - first.value) / 89
    assert first.value + slope * 83 == pytest.approx(170_000 - 30_000 * 84 / 90)
    assert pace_line(start, end, None, 1.0) == []
    on_time = pace_line(start, end, 170_000.0, 140_000.0, dt.date(2026, 2, 22), 84 / 90)
    assert on_time[1].value == pytest.approx(first.value + slope * 83)  # linear pace: the same straight line


def test_pace_line_bends_through_a_seasonal_expected_share() -> None:
    start, end, as_of = dt.date(2025, 12, 1), dt.date(2026, 5, 31), dt.date(2026, 2, 22)
    line = pace_line(start, end, 0.0, 70e9, as_of, 0.54)  # back-loaded season: 54 % due by the 22nd, not 46 %
    assert [p.day for p in line] == [start, as_of, end]
    assert line[1].value == pytest.approx(0.54 * 70e9) and line[2].value == 70e9
    assert len(pace_line(start, end, 0.0, 1.0, end, 1.0)) == 2  # on the last day there is nothing to bend


def test_kr_series_adds_forecast_and_thresholds() -> None:
    kr = {
        "direction": "increase",
        "numerator": 9.0,
        "denominator": None,
        "actual": 9.0,
        "baseline": 0.0,
        "target": 31.0,
        "forecast": 31.0,
        "window_start": D,
        "window_end": D + dt.timedelta(days=30),
    }
    series = kr_series(kr, daily([3, 3, 3]))
    assert [p.value for p in series.forecast] == [9.0, 31.0] and series.forecast[1].day == kr["window_end"]
    stay = kr_series(kr | {"direction": "stay_below", "target": 2.2}, daily([1, 3], [1, 1]))
    assert stay.kind == "daily" and stay.levels == [("stay_below", 2.2)] and stay.pace == []
    kpi = kpi_series({"band_low": 0.026, "band_high": None}, daily([1], [40]))
    assert kpi.levels == [("stay_above", 0.026)] and values(kpi.points) == [0.025]
