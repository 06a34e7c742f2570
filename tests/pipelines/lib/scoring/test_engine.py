"""Scoring on a real DuckDB file with hand-made mart rows whose right answers are known."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from pipelines.lib import db, storage
from pipelines.lib.scoring import score_all
from pipelines.lib.spec import load_defs
from tests.conftest import write_defs

METRICS = """
metrics:
  spend: {agg: sum, unit: currency}
  clicks: {agg: sum}
  impressions: {agg: sum}
  conversions: {agg: sum}
  ctr: {ratio: [clicks, impressions], unit: percent}
  cpa: {ratio: [spend, conversions], unit: currency}
  peak_clicks: {column: clicks, agg: max}
"""
SOURCES = """
sources:
  s:
    type: file
    path: x.csv
    platform: meta_ads
    account_id: a
    date: {column: d}
    campaign_name: c
    metrics: {spend: s, clicks: k, impressions: i, conversions: v}
"""


def mart_rows(rows: list[tuple]) -> pd.DataFrame:
    """(date, platform, campaign, channel, currency, metric, value) → mart frame."""
    frame = pd.DataFrame(
        rows,
        columns=["report_date", "platform", "campaign_name", "channel", "currency_code", "metric", "value"],
    )
    frame["source"] = "s"
    frame["account_id"] = "a"
    frame["campaign_id"] = frame["campaign_name"]
    frame["account_timezone"] = "UTC"
    frame["extracted_at"] = pd.Timestamp("2026-01-01")
    frame["report_date"] = pd.to_datetime(frame["report_date"]).dt.date
    return frame


@pytest.fixture
def warehouse(tmp_path: Path):
    def build(rows: list[tuple]) -> Path:
        path = tmp_path / "w.duckdb"
        with db.connect(path) as conn:
            storage.ensure_schema(conn)
            conn.register("r", mart_rows(rows))
            conn.execute("INSERT INTO marts.campaign_daily_metrics BY NAME SELECT * FROM r")
        return path

    return build


def score(tmp_path: Path, path: Path, objectives: str, as_of: str):
    defs = load_defs(
        write_defs(
            tmp_path / "defs",
            {"sources.yaml": SOURCES, "metrics.yaml": METRICS, "objectives/o.yaml": objectives},
        )
    )
    with db.connect(path) as conn:
        run = score_all(conn, defs, dt.date.fromisoformat(as_of))
        history = conn.execute("SELECT count(*) FROM okr.score_history").fetchone()[0]
    return run, run.kr_scores.set_index("kr_id"), history


def test_ratio_of_sums_not_mean_of_daily_ratios(tmp_path: Path, warehouse) -> None:
    path = warehouse(
        [
            ("2026-01-01", "meta_ads", "c1", "social", "USD", "clicks", 1),
            ("2026-01-01", "meta_ads", "c1", "social", "USD", "impressions", 2),
            ("2026-01-02", "meta_ads", "c1", "social", "USD", "clicks", 10),
            ("2026-01-02", "meta_ads", "c1", "social", "USD", "impressions", 1000),
        ]
    )
    objectives = """
objectives:
  - id: o
    title: O
    period: {start: 2026-01-01, end: 2026-01-10}
    key_results:
      - {id: ctr, metric: ctr, baseline: 0.0, target: 0.02}
      - {id: clicks, metric: clicks, baseline: 0, target: 44}
"""
    _, krs, _ = score(tmp_path, path, objectives, "2026-01-02")
    assert krs.at["ctr", "actual"] == pytest.approx(11 / 1002)  # mean of daily ratios would be 0.255
    assert krs.at["ctr", "progress"] == pytest.approx((11 / 1002) / 0.02)
    assert krs.at["clicks", "expected_progress"] == pytest.approx(0.2)
    assert krs.at["clicks", "forecast"] == pytest.approx(11 / 2 * 10)  # run rate × window days
    assert krs.at["clicks", "score"] == pytest.approx(0.25)


def test_decrease_kr_and_clamping(tmp_path: Path, warehouse) -> None:
    path = warehouse(
        [
            ("2026-01-01", "meta_ads", "c1", "social", "USD", "spend", 300),
            ("2026-01-01", "meta_ads", "c1", "social", "USD", "conversions", 100),
        ]
    )
    objectives = """
objectives:
  - id: o
    title: O
    type: committed
    period: {start: 2026-01-01, end: 2026-01-31}
    key_results:
      - {id: cpa-halfway, metric: cpa, baseline: 4, target: 2}
      - {id: cpa-beaten, metric: cpa, baseline: 6, target: 5}
      - {id: cpa-worse, metric: cpa, baseline: 2, target: 1}
"""
    run, krs, _ = score(tmp_path, path, objectives, "2026-01-01")
    assert krs.at["cpa-halfway", "progress"] == pytest.approx(0.5)
    assert (krs.at["cpa-beaten", "progress"], krs.at["cpa-beaten", "score"]) == (pytest.approx(3.0), 1.0)
    assert (krs.at["cpa-worse", "progress"], krs.at["cpa-worse", "score"]) == (pytest.approx(-1.0), 0.0)
    assert krs.at["cpa-beaten", "status"] == "on_track" and krs.at["cpa-worse", "status"] == "off_track"
    assert krs.at["cpa-halfway", "status"] == "off_track"  # committed: 0.5 < 0.7
    (obj,) = run.objective_scores
    assert obj.score == pytest.approx((0.5 + 1.0 + 0.0) / 3)


def test_filters_by_list_glob_and_channel(tmp_path: Path, warehouse) -> None:
    rows = []
    for campaign, channel, clicks in [
        ("Tết 2026 - Sale", "social", 5),
        ("Tết 2025 - Sale", "social", 7),
        ("Always on", "social", 11),
        ("Tết 2026 - Search", "search", 13),
    ]:
        rows.append(("2026-01-05", "meta_ads", campaign, channel, "USD", "clicks", clicks))
    path = warehouse(rows)
    objectives = """
objectives:
  - id: o
    title: O
    period: 2026-Q1
    key_results:
      - {id: glob, metric: clicks, filters: {campaign: "Tết 2026*"}, baseline: 0, target: 100}
      - {id: glob-and-channel, metric: clicks, filters: {campaign: "Tết*", channel: social}, baseline: 0, target: 100}
      - {id: list, metric: clicks, filters: {campaign: [Always on, "Tết 2025 - Sale"]}, baseline: 0, target: 100}
      - {id: exact-bracket, metric: clicks, filters: {campaign: "Tết 2026 - Sale"}, baseline: 0, target: 100}
      - {id: nothing, metric: clicks, filters: {campaign: "Black Friday*"}, baseline: 0, target: 100}
"""
    run, krs, _ = score(tmp_path, path, objectives, "2026-01-06")
    assert krs["actual"].to_dict() == pytest.approx(
        {"glob": 18, "glob-and-channel": 12, "list": 18, "exact-bracket": 5, "nothing": float("nan")},
        nan_ok=True,
    )
    assert krs.at["nothing", "status"] == "no_data" and pd.isna(krs.at["nothing", "score"])
    (obj,) = run.objective_scores
    assert (obj.scored_children, obj.unscored_children) == (4, 1)  # no_data is left out, not counted as 0


def test_roll_up_through_alignment_and_kpis(tmp_path: Path, warehouse) -> None:
    path = warehouse(
        [
            ("2026-01-01", "meta_ads", "c", "social", "USD", "clicks", 50),
            ("2026-01-02", "meta_ads", "c", "social", "USD", "clicks", 80),
            ("2026-01-02", "meta_ads", "c", "social", "USD", "impressions", 1000),
        ]
    )
    objectives = """
objectives:
  - id: company
    title: Company
    period: 2026-Q1
    key_results:
      - {id: k, metric: clicks, baseline: 0, target: 260}
  - id: dept
    title: Dept
    parent: company
    weight: 3
    period: 2026-Q1
    key_results:
      - {id: k1, metric: clicks, baseline: 0, target: 130}
      - {id: k2, metric: clicks, baseline: 0, target: 1300, weight: 3}
kpis:
  - {id: peak, title: Peak clicks, metric: peak_clicks, band: {stay_below: 70}, trailing_days: 7}
  - {id: ctr, title: CTR, metric: ctr, band: {stay_above: 0.05}}
"""
    run, krs, history = score(tmp_path, path, objectives, "2026-01-03")
    by_id = {o.objective_id: o for o in run.objective_scores}
    dept = (1.0 * 1 + 0.1 * 3) / 4
    assert by_id["dept"].score == pytest.approx(dept)
    assert by_id["company"].score == pytest.approx((0.5 * 1 + dept * 3) / 4)
    assert krs.at["peak", "actual"] == 80 and krs.at["peak", "status"] == "breached"
    assert krs.at["ctr", "actual"] == pytest.approx(0.13) and krs.at["ctr", "status"] == "healthy"
    assert history == 5


def test_mixed_currencies_are_invalid_not_summed(tmp_path: Path, warehouse) -> None:
    path = warehouse(
        [
            ("2026-01-01", "meta_ads", "a", "social", "USD", "spend", 10),
            ("2026-01-01", "google_ads", "b", "search", "VND", "spend", 250000),
        ]
    )
    objectives = """
objectives:
  - id: o
    title: O
    period: 2026-Q1
    key_results:
      - {id: spend, metric: spend, baseline: 0, target: 100}
      - {id: usd-only, metric: spend, filters: {platform: meta_ads}, baseline: 0, target: 100}
"""
    _, krs, _ = score(tmp_path, path, objectives, "2026-01-01")
    assert krs.at["spend", "status"] == "invalid" and "USD, VND" in krs.at["spend", "note"]
    assert krs.at["usd-only", "currency_code"] == "USD" and krs.at["usd-only", "actual"] == 10


def test_not_started_and_history_is_append_only(tmp_path: Path, warehouse) -> None:
    path = warehouse([("2026-01-01", "meta_ads", "c", "social", "USD", "clicks", 5)])
    objectives = """
objectives:
  - {id: later, title: Later, period: 2026-Q2, key_results: [{id: k, metric: clicks, baseline: 0, target: 1}]}
"""
    run, krs, history = score(tmp_path, path, objectives, "2026-01-31")
    assert krs.at["k", "status"] == "not_started" and krs.at["k", "expected_progress"] == 0
    assert run.objective_scores[0].status == "not_started"
    _, _, history_again = score(tmp_path, path, objectives, "2026-01-31")
    assert (history, history_again) == (1, 2)


def test_contributions_split_the_value_by_campaign_and_week(tmp_path: Path, warehouse) -> None:
    rows = []
    for day in range(1, 21):  # 1..20 Jan: c1 steady at 10/day, c2 jumps from 1 to 5/day on 14 Jan
        date = f"2026-01-{day:02d}"
        rows.append((date, "meta_ads", "c1", "social", "USD", "clicks", 10))
        rows.append((date, "meta_ads", "c2", "social", "USD", "clicks", 5 if day >= 14 else 1))
    path = warehouse(rows)
    objectives = """
objectives:
  - {id: o, title: O, period: 2026-Q1, key_results: [{id: k, metric: clicks, baseline: 0, target: 1000}]}
"""
    score(tmp_path, path, objectives, "2026-01-20")
    with db.connect(path, read_only=True) as conn:
        got = conn.execute(
            "SELECT campaign_id, numerator, numerator_last7, numerator_prev7 FROM okr.kr_contributions "
            "WHERE kr_key = 'o/k' ORDER BY campaign_id"
        ).fetchall()
        daily = conn.execute("SELECT count(*), sum(numerator) FROM okr.kr_daily WHERE kr_key = 'o/k'").fetchone()
    assert got == [("c1", 200.0, 70.0, 70.0), ("c2", 13 * 1 + 7 * 5.0, 35.0, 7.0)]
    assert daily == (20, 200.0 + 48.0)


def test_late_data_is_stale_and_keeps_the_last_complete_score(tmp_path: Path, warehouse) -> None:
    path = warehouse([(f"2026-01-{d:02d}", "meta_ads", "c", "social", "USD", "clicks", 10) for d in range(1, 11)])
    objectives = """
objectives:
  - {id: o, title: O, period: 2026-Q1, key_results: [{id: k, metric: clicks, baseline: 0, target: 900}]}
"""
    _, fresh, _ = score(tmp_path, path, objectives, "2026-01-11")  # data through 10 Jan: 1 day late, allowed 2
    assert fresh.at["k", "status"] == "on_track" and fresh.at["k", "score"] == pytest.approx(100 / 900)
    run, late, history = score(tmp_path, path, objectives, "2026-01-14")  # 4 days late
    kr = late.loc["k"]
    assert kr["status"] == "stale" and kr["note"] == "late data: s has data through 2026-01-10 (allowed lag 2 days)"
    assert kr["score"] == pytest.approx(100 / 900) and str(kr["score_as_of"])[:10] == "2026-01-11"
    (objective,) = run.objective_scores  # the stale KR's last complete score still counts, marked stale
    assert (objective.status, objective.score, history) == ("stale", pytest.approx(100 / 900), 2)


def test_forecast_uses_the_recent_rate_with_an_80_percent_band(tmp_path: Path, warehouse) -> None:
    import statistics

    values = [10 if d % 2 else 20 for d in range(1, 11)]  # 1..10 Jan; the window runs to 20 Jan
    rows = [
        (f"2026-01-{d:02d}", "meta_ads", "c", "social", "USD", "clicks", v)
        for d, v in zip(range(1, 11), values, strict=True)
    ]
    rows += [(f"2026-01-{d:02d}", "meta_ads", "c", "social", "USD", "impressions", 1000) for d in range(1, 11)]
    path = warehouse(rows)
    objectives = """
objectives:
  - id: o
    title: O
    period: {start: 2026-01-01, end: 2026-01-20}
    key_results:
      - {id: clicks, metric: clicks, baseline: 0, target: 400}
      - {id: ctr, metric: ctr, baseline: 0.01, target: 0.02}
"""
    _, krs, _ = score(tmp_path, path, objectives, "2026-01-10")
    margin = 1.2816 * statistics.stdev(values) * (10 * (1 + 10 / 10)) ** 0.5  # 10 days left, 10 observed
    clicks = krs.loc["clicks"]
    assert clicks["forecast"] == pytest.approx(150 + 15 * 10)
    assert (clicks["forecast_low"], clicks["forecast_high"]) == (
        pytest.approx(300 - margin),
        pytest.approx(300 + margin),
    )
    ctr = krs.loc["ctr"]
    ratio_sd = statistics.stdev(v / 1000 for v in values)
    assert ctr["forecast"] == pytest.approx((150 + 15 * 10) / (10_000 + 1000 * 10))
    assert ctr["forecast_high"] - ctr["forecast"] == pytest.approx(1.2816 * ratio_sd * 20**0.5 * 1000 / 20_000)
