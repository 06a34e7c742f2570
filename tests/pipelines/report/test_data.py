"""Reading the database into the report's dataclasses, on a small team whose numbers are worked by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.cli.scores_view import read_scores
from pipelines.lib import db, storage
from pipelines.report.data import NoReportData, load_report
from pipelines.report.model import MissingValues, SourceFreshness
from tests.pipelines.report.conftest import SMALL_AS_OF

JAN = dt.date(2026, 1, 1)


def jan(day: int) -> dt.date:
    return JAN.replace(day=day)


def test_alignment_tree_company_department_team(small_db: Path) -> None:
    report = load_report(small_db)
    assert report.as_of == SMALL_AS_OF
    (company,) = report.roots
    (marketing,) = company.children
    (team,) = marketing.children
    assert [(o.id, o.depth) for o in report.walk()] == [("company", 0), ("marketing", 1), ("social-team", 2)]
    assert (marketing.parent, team.parent, team.children) == ("company", "marketing", [])
    assert [kr.id for kr in team.key_results] == ["alpha", "gamma"]


def test_numbers_are_the_ones_okr_scores_shows(small_db: Path) -> None:
    report = load_report(small_db)
    shown = read_scores(small_db)
    objectives = {o.id: o for o in report.walk()}
    for obj in shown["objectives"]:
        assert objectives[obj["id"]].score == obj["score"] and objectives[obj["id"]].status == obj["status"]
        krs = {kr.id: kr for kr in objectives[obj["id"]].key_results}
        for kr in obj["key_results"]:
            for name in (
                "actual",
                "target",
                "baseline",
                "progress",
                "score",
                "expected_progress",
                "forecast",
                "status",
            ):
                assert getattr(krs[kr["id"]], name) == kr[name], (kr["id"], name)
    purchases = next(kr for kr in report.key_results if kr.id == "purchases")
    assert purchases.actual == 79.0 and purchases.currency == "USD" and purchases.unit == "count"


def test_score_history_keeps_the_latest_run_of_each_day(small_db: Path) -> None:
    purchases = next(kr for kr in load_report(small_db).key_results if kr.id == "purchases")
    # three runs (the 19th, the 20th, the 20th again) → two points; 74 then 79 of 150 purchases
    assert [(p.day, p.value) for p in purchases.history] == [(jan(19), pytest.approx(74 / 150)), (jan(20), 79 / 150)]


def test_metric_series_end_at_the_actual(small_db: Path) -> None:
    krs = {kr.id: kr for kr in load_report(small_db).key_results}
    purchases = krs["purchases"].series
    assert purchases.kind == "cumulative" and len(purchases.points) == 20
    assert purchases.points[4].value == 14.0  # Alpha 10 + Beta 4 (the 5th's empty cell is not a 0, just absent)
    assert purchases.points[-1].value == 79.0
    assert purchases.pace[0].value == pytest.approx(150 / 31) and purchases.pace[-1].value == 150.0
    assert [p.value for p in purchases.forecast] == [79.0, krs["purchases"].forecast]
    cpa = krs["cpa"].series
    assert cpa.kind == "running_ratio"
    assert cpa.points[0].value == 50.0 and cpa.points[4].value == pytest.approx(750 / 14)
    assert cpa.points[-1].value == pytest.approx(3000 / 79) == krs["cpa"].actual
    daily_cpc = krs["cpc-daily"].series
    assert daily_cpc.kind == "daily" and daily_cpc.levels == [("stay_below", 2.2)]
    assert {round(p.value, 9) for p in daily_cpc.points} == {round(150 / 70, 9)}
    assert krs["gamma"].series.points == [] and krs["gamma"].status == "no_data"


def test_movers_over_the_last_7_days(small_db: Path) -> None:
    krs = {kr.id: kr for kr in load_report(small_db).key_results}
    purchases = krs["purchases"].movers
    # 14–20 Jan vs 7–13 Jan: Alpha 14 vs 14; Beta 21 vs 4 + 9
    assert (purchases.total.last7, purchases.total.prev7) == (35.0, 27.0)
    assert [(m.label, m.delta) for m in purchases.campaigns] == [("Beta", 8.0)]
    cpa = krs["cpa"].movers
    assert cpa.is_ratio and cpa.total.ratio_last7 == pytest.approx(1050 / 35)
    assert cpa.total.ratio_prev7 == pytest.approx(1050 / 27)
    assert sum(m.effect for m in cpa.campaigns) == pytest.approx(1050 / 35 - 1050 / 27)


def test_kpis_and_data_quality(small_db: Path) -> None:
    report = load_report(small_db)
    (kpi,) = report.kpis
    assert (kpi.id, kpi.status, kpi.band_low, kpi.band_high) == ("cpc", "healthy", None, 3.0)
    assert kpi.actual == pytest.approx(150 / 70) and kpi.window_start == jan(7)
    assert len(kpi.series.points) == 14 and kpi.series.levels == [("stay_below", 3.0)]
    quality = report.quality
    assert quality.missing == [MissingValues("shop_ads", "conversions", 1, 40)]
    assert quality.freshness == [SourceFreshness("shop_ads", jan(20), 0)]
    assert [item.id for item in quality.no_data] == ["gamma"]
    assert quality.notes == []


def test_missing_or_empty_database_says_so(tmp_path: Path) -> None:
    with pytest.raises(NoReportData, match="no database at"):
        load_report(tmp_path / "nope.duckdb")
    empty = tmp_path / "empty.duckdb"
    with db.connect(empty) as conn:
        storage.ensure_schema(conn)
    with pytest.raises(NoReportData, match="holds no scores yet"):
        load_report(empty)
