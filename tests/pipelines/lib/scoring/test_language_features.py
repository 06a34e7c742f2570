"""Every KR kind of the okr_defs language, scored on a real DuckDB file with known answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.pipelines.lib.scoring.test_engine import score, warehouse  # noqa: F401 (fixture)

METRICS_EXTRA = """
  revenue: {agg: sum, unit: currency}
  profit_margin: {expr: "(sum(revenue) - sum(spend)) / nullif(sum(spend), 0)", unit: ratio}
"""


def daily(start: str, days: int, metric: str, per_day, campaign: str = "c1") -> list[tuple]:
    first = dt.date.fromisoformat(start)
    rows = []
    for i in range(days):
        day = first + dt.timedelta(days=i)
        value = per_day(i) if callable(per_day) else per_day
        rows.append((day.isoformat(), "meta_ads", campaign, "social", "USD", metric, value))
    return rows


@pytest.fixture
def scored(tmp_path: Path, warehouse, monkeypatch):  # noqa: F811
    import tests.pipelines.lib.scoring.test_engine as engine_tests

    monkeypatch.setattr(engine_tests, "METRICS", engine_tests.METRICS + METRICS_EXTRA)
    monkeypatch.setattr(
        engine_tests, "SOURCES", engine_tests.SOURCES.replace("metrics: {spend: s,", "metrics: {revenue: r, spend: s,")
    )

    def run(rows: list[tuple], objectives: str, as_of: str):
        return score(tmp_path, warehouse(rows), objectives, as_of)

    return run


def test_measured_baseline_and_double_target(scored) -> None:
    # The 90 days before Q1 (3 Oct - 31 Dec): 10 clicks/day = 900 → target x2 = 1800; Q1 so far 31 × 20.
    rows = daily("2025-10-01", 92, "clicks", 10) + daily("2026-01-01", 31, "clicks", 20)
    objectives = """
objectives:
  - id: o
    title: Double the effect
    period: 2026-Q1
    key_results:
      - {id: clicks-x2, metric: clicks, baseline: {previous_period: true}, target: x2}
      - {id: clicks-yoy, metric: clicks, baseline: {same_period_last_year: true}, target: +30%}
"""
    _, krs, _ = scored(rows, objectives, "2026-01-31")
    kr = krs.loc["clicks-x2"]
    assert (kr["baseline"], kr["target"], kr["actual"]) == (900.0, 1800.0, 620.0)
    assert kr["progress"] == pytest.approx((620 - 900) / 900) and kr["score"] == 0.0
    assert kr["forecast"] == pytest.approx(20 * 90) and kr["forecast_score"] == pytest.approx(1.0)
    assert kr["baseline_kind"] == "previous_period" and kr["target_text"] == "x2"
    yoy = krs.loc["clicks-yoy"]  # Q1 2025 has no data: no baseline, so no score — never 0 %
    assert yoy["status"] == "no_data" and "baseline window 2025-01-01..2025-03-31" in yoy["note"]


def test_relative_decrease_target_on_a_ratio(scored) -> None:
    rows = daily("2025-12-01", 31, "spend", 300) + daily("2025-12-01", 31, "conversions", 3)  # CPA 100
    rows += daily("2026-01-01", 10, "spend", 270) + daily("2026-01-01", 10, "conversions", 3)  # CPA 90
    objectives = """
objectives:
  - id: o
    title: Cheaper purchases
    period: {start: 2026-01-01, end: 2026-01-31}
    key_results:
      - {id: cpa, metric: cpa, baseline: {previous_period: true}, target: -15%}
"""
    _, krs, _ = scored(rows, objectives, "2026-01-10")
    kr = krs.loc["cpa"]
    assert (kr["baseline"], kr["target"], kr["actual"]) == (100.0, pytest.approx(85.0), 90.0)
    assert kr["direction"] == "decrease" and kr["progress"] == pytest.approx(10 / 15)


def test_own_and_trailing_windows(scored) -> None:
    rows = daily("2026-01-01", 40, "clicks", lambda i: i + 1)  # 1, 2, ..., 40 on 1 Jan .. 9 Feb
    objectives = """
objectives:
  - id: o
    title: Windows
    period: 2026-Q1
    key_results:
      - {id: january, metric: clicks, window: {start: 2026-01-01, end: 2026-01-31}, baseline: 0, target: 1000}
      - {id: last-week-peak, metric: peak_clicks, window: {trailing: 7d}, baseline: 0, target: 50}
"""
    _, krs, _ = scored(rows, objectives, "2026-02-05")
    assert krs.at["january", "actual"] == sum(range(1, 32)) and krs.at["january", "expected_progress"] == 1.0
    assert (str(krs.at["last-week-peak", "window_start"])[:10], krs.at["last-week-peak", "actual"]) == (
        "2026-01-30",
        36.0,
    )
    assert krs.at["last-week-peak", "expected_progress"] == pytest.approx(36 / 90)  # paced on the quarter


def test_stay_above_share_of_days_and_at_end(scored) -> None:
    # CTR per day: 4 % on days 0-5, 1 % on days 6-9: 6 of 10 days held ≥ 2 %; window CTR 2.8 %.
    rows = daily("2026-01-01", 10, "impressions", 1000)
    rows += daily("2026-01-01", 10, "clicks", lambda i: 40 if i < 6 else 10)
    objectives = """
objectives:
  - id: o
    title: Guardrails
    period: {start: 2026-01-01, end: 2026-01-10}
    key_results:
      - {id: ctr-days, metric: ctr, direction: stay_above, target: 0.02}
      - {id: ctr-end, metric: ctr, direction: stay_above, measure: at_end, target: 0.02}
      - {id: ctr-below, metric: ctr, direction: stay_below, measure: at_end, target: 0.02}
"""
    _, krs, _ = scored(rows, objectives, "2026-01-10")
    assert (krs.at["ctr-days", "days_held"], krs.at["ctr-days", "days_measured"]) == (6, 10)
    assert krs.at["ctr-days", "score"] == pytest.approx(0.6) and krs.at["ctr-days", "status"] == "at_risk"
    assert krs.at["ctr-end", "actual"] == pytest.approx(0.028) and krs.at["ctr-end", "score"] == 1.0
    assert krs.at["ctr-below", "score"] == 0.0 and krs.at["ctr-below", "status"] == "off_track"


def test_a_day_without_rows_is_a_zero_day_for_a_summed_measure(scored) -> None:
    """GA4 and Google Ads send no row for a day with no clicks: that day failed "clicks >= 10 a day" (8 of
    10 days held, not 8 of 8) and held "spend <= 50 a day"; days after the newest loaded one are not
    counted, and a ratio has no value on such a day, so it is not measured."""
    days = [d for d in range(10) if d not in (2, 6)]  # no rows on 3 and 7 January
    rows = [(f"2026-01-{d + 1:02d}", "meta_ads", "c", "social", "USD", "clicks", 12) for d in days]
    rows += [(f"2026-01-{d + 1:02d}", "meta_ads", "c", "social", "USD", "spend", 20) for d in days]
    rows += [(f"2026-01-{d + 1:02d}", "meta_ads", "c", "social", "USD", "impressions", 400) for d in days]
    objectives = """
objectives:
  - id: o
    title: Guardrails
    period: {start: 2026-01-01, end: 2026-01-31}
    key_results:
      - {id: clicks-days, metric: clicks, direction: stay_above, target: 10}
      - {id: spend-days, metric: spend, direction: stay_below, target: 50}
      - {id: ctr-days, metric: ctr, direction: stay_above, target: 0.02}
"""
    _, krs, _ = scored(rows, objectives, "2026-01-11")  # data through 10 January; as-of one day later
    held = {k: (krs.at[k, "days_held"], krs.at[k, "days_measured"]) for k in ("clicks-days", "spend-days", "ctr-days")}
    assert held == {"clicks-days": (8, 10), "spend-days": (10, 10), "ctr-days": (8, 8)}
    assert krs.at["clicks-days", "score"] == pytest.approx(0.8) and krs.at["ctr-days", "score"] == 1.0


def test_milestones_measured_and_self_reported(scored) -> None:
    rows = daily("2026-01-01", 5, "conversions", 30)
    objectives = """
objectives:
  - id: o
    title: Milestones
    period: {start: 2026-01-01, end: 2026-01-31}
    key_results:
      - {id: first-100, metric: conversions, direction: milestone, target: 100}
      - {id: first-1000, metric: conversions, direction: milestone, target: 1000}
      - {id: page-live, self_reported: true, value: 0.5, reported_on: 2026-01-04}
"""
    run, krs, _ = scored(rows, objectives, "2026-01-05")
    assert (krs.at["first-100", "actual"], krs.at["first-100", "score"]) == (150.0, 1.0)
    assert krs.at["first-1000", "score"] == 0.0
    assert krs.at["first-1000", "forecast"] == pytest.approx(30 * 31) and krs.at["first-1000", "status"] == "off_track"
    page = krs.loc["page-live"]
    assert (page["actual"], page["score"], bool(page["self_reported"])) == (0.5, 0.5, True)
    assert str(page["data_through"])[:10] == "2026-01-04" and page["status"] == "at_risk"
    assert run.objective_scores[0].score == pytest.approx((1 + 0 + 0.5) / 3)


def test_expression_metric_and_between_band(scored) -> None:
    rows = daily("2026-01-01", 4, "revenue", 500) + daily("2026-01-01", 4, "spend", 200)
    rows += daily("2026-01-01", 4, "revenue", 100, campaign="c2")
    objectives = """
objectives:
  - id: o
    title: Margin
    period: {start: 2026-01-01, end: 2026-01-31}
    key_results:
      - {id: margin, metric: profit_margin, baseline: 1.0, target: 2.0}
      - {id: margin-c1, metric: profit_margin, filters: {campaign: c1}, baseline: 1.0, target: 2.0}
kpis:
  - {id: margin-band, title: Margin band, metric: profit_margin, band: {between: [1.5, 3.0]}, trailing_days: 2}
"""
    _, krs, _ = scored(rows, objectives, "2026-01-04")
    assert krs.at["margin", "actual"] == pytest.approx((2400 - 800) / 800)  # 2.0
    assert krs.at["margin-c1", "actual"] == pytest.approx((2000 - 800) / 800)  # 1.5
    assert krs.at["margin-c1", "progress"] == pytest.approx(0.5)
    band = krs.loc["margin-band"]
    assert (band["band_low"], band["band_high"], band["status"]) == (1.5, 3.0, "healthy")


def test_seasonal_pacing_follows_last_years_curve(scored) -> None:
    # Last January was back-loaded: 1 click a day, then 10 a day from the 21st (total 20 + 110 = 130).
    last_year = daily("2025-01-01", 31, "clicks", lambda i: 1 if i < 20 else 10)
    this_year = daily("2026-01-01", 10, "clicks", 1)
    objectives = """
objectives:
  - id: o
    title: A back-loaded Tết month
    period: {start: 2026-01-01, end: 2026-01-31}
    key_results:
      - {id: seasonal, metric: clicks, baseline: 0, target: 100, pacing: seasonal}
      - {id: linear, metric: clicks, baseline: 0, target: 100}
"""
    _, krs, _ = scored(last_year + this_year, objectives, "2026-01-10")
    seasonal, linear = krs.loc["seasonal"], krs.loc["linear"]
    assert seasonal["expected_progress"] == pytest.approx(10 / 130)
    assert linear["expected_progress"] == pytest.approx(10 / 31)
    assert seasonal["forecast"] == pytest.approx(10 / (10 / 130))  # 130: on course for last year's shape
    assert seasonal["status"] == "on_track" and linear["status"] == "off_track"
