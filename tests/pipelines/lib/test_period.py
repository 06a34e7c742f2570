"""Distinct users per KR window, end to end: `okr run` asks a fake GA4 (real client, checked request bodies)
for each KR's window with its filters and no date dimension, stores marts.period_metrics, scores from it;
`okr explain` and the report say where the number came from and what GA4 flagged.

The property (UTC), as of 10 January 2026, January objective, December as the measured baseline window:
- spring_sale (111, Paid Search): users {1, 2, 3} every day plus one new user a day (101..110);
- spring_retarget (112, Paid Search): users {2, 3, 200} on 1-5 January;
- Spring_upper (113, Paid Search): user 900 (a capital S: `spring*` must not match it);
- direct traffic: user 1 and one new user a day (501..510);
- December: direct users {1..5} on the 15th and {5, 6} on the 20th: 6 distinct users.
"Users of spring* on Paid Search" in January so far: {1, 2, 3, 101..110, 200} = 14 distinct users, while
the daily counts add up to 5 × 5 + 5 × 4 = 45 and the per-campaign counts to 13 + 3 = 16.
All users in January: 3 + 10 + 1 + 10 + 1 = 25. Google signals on from 6 January: reports reaching
that day are thresholded and sampled (500 of 1,000 events read). GA4 flags a report, not a day, so all
ten January days (one 31-day chunk of the first load) count as thresholded; December's chunk does not.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.assets.build import build_definitions
from pipelines.cli.app import app
from pipelines.cli.runner import run_pipeline
from pipelines.lib import db
from pipelines.lib.scoring.explain import explain
from pipelines.lib.scoring.periods import FORECAST_NOTE
from pipelines.lib.spec import load_defs
from pipelines.report.data import load_report
from pipelines.report.render import render_html
from tests.conftest import write_defs
from tests.fakes.ga4_server import FakeGa4Server, FakeProperty

PROPERTY = "412345678"
AS_OF = dt.date(2026, 1, 10)
JANUARY = [dt.date(2026, 1, d) for d in range(1, 11)]
COLUMNS = ["date", "sessionCampaignId", "sessionCampaignName", "sessionDefaultChannelGroup", "sessionSourceMedium"]
METRICS = """
metrics:
  sessions: {agg: sum}
  users: {agg: period, label: Users}
"""
OBJECTIVES = """
objectives:
  - id: reach
    title: Reach more people in January
    period: {start: 2026-01-01, end: 2026-01-31}
    key_results:
      - {id: spring-users, title: Spring search users, metric: users, baseline: 10, target: 30,
         filters: {campaign: "spring*", channel: Paid Search}}
      - {id: all-users, title: All users, metric: users, baseline: {previous_period: true}, target: x2}
      - {id: sessions, title: Sessions, metric: sessions, baseline: 100, target: 500}
"""


def day(d: dt.date) -> str:
    return d.strftime("%Y%m%d")


def users_rows() -> pd.DataFrame:
    rows = []
    for i, d in enumerate(JANUARY, start=1):
        rows.append((day(d), "111", "spring_sale", "Paid Search", "google / cpc", {1, 2, 3, 100 + i}))
        if i <= 5:
            rows.append((day(d), "112", "spring_retarget", "Paid Search", "google / cpc", {2, 3, 200}))
        rows.append((day(d), "(not set)", "(not set)", "Direct", "(direct) / (none)", {1, 500 + i}))
    rows.append((day(JANUARY[2]), "113", "Spring_upper", "Paid Search", "google / cpc", {900}))
    rows.append(("20251215", "(not set)", "(not set)", "Direct", "(direct) / (none)", {1, 2, 3, 4, 5}))
    rows.append(("20251220", "(not set)", "(not set)", "Direct", "(direct) / (none)", {5, 6}))
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "users"])
    frame["users"] = frame["users"].map(frozenset)
    frame["sessions"] = frame["users"].map(len)
    return frame


@pytest.fixture
def fake() -> FakeGa4Server:
    prop = FakeProperty(users_rows(), thresholded=True, sampling=(500, 1_000), flags_from="20260106")
    with FakeGa4Server(properties={PROPERTY: prop}) as server:
        yield server
    assert server.problems == []


@pytest.fixture
def okr_defs(tmp_path: Path, fake: FakeGa4Server) -> Path:
    sources = f"""
sources:
  web:
    type: ga4
    property_id: "{PROPERTY}"
    metrics: {{sessions: sessions, users: totalUsers}}
    endpoint: "{fake.endpoint}"
    credentials: anonymous
"""
    files = {"sources.yaml": sources, "metrics.yaml": METRICS, "objectives/reach.yaml": OBJECTIVES}
    return write_defs(tmp_path / "okr_defs", files)


def period_reports(fake: FakeGa4Server) -> list[dict]:
    """The period queries sent: reports without any dimension (so without a date)."""
    return [r for r in fake.reports_sent() if "dimensions" not in r]


SPRING_FILTER = {
    "andGroup": {
        "expressions": [
            {
                "filter": {
                    "fieldName": "sessionCampaignName",
                    "stringFilter": {"matchType": 5, "value": "spring.*", "caseSensitive": True},
                }
            },
            {
                "filter": {
                    "fieldName": "sessionDefaultChannelGroup",
                    "stringFilter": {"matchType": 1, "value": "Paid Search", "caseSensitive": True},
                }
            },
        ]
    }
}


def test_okr_run_scores_distinct_users_from_one_ga4_query_per_kr_window(
    tmp_path: Path, okr_defs: Path, fake: FakeGa4Server
) -> None:
    database = tmp_path / "okr.duckdb"
    outcome = run_pipeline(okr_defs, database, AS_OF)
    assert outcome.success, outcome.failures
    assert outcome.materialized["marts/period_metrics"]["written"] == 3

    sent = sorted(period_reports(fake), key=lambda r: (r["dateRanges"][0]["startDate"], "dimensionFilter" in r))
    base = {"metrics": [{"name": "totalUsers"}], "limit": "250000", "returnPropertyQuota": True}
    assert sent == [
        base | {"dateRanges": [{"startDate": "2025-12-01", "endDate": "2025-12-31"}]},  # all-users' baseline
        base | {"dateRanges": [{"startDate": "2026-01-01", "endDate": "2026-01-10"}]},  # all-users, to as-of
        base | {"dateRanges": [{"startDate": "2026-01-01", "endDate": "2026-01-10"}], "dimensionFilter": SPRING_FILTER},
    ]
    daily = [r for r in fake.reports_sent() if "dimensions" in r]
    assert all(m["name"] == "sessions" for r in daily for m in r["metrics"])  # users never asked per day

    with db.connect(database, read_only=True) as conn:
        stored = conn.execute(
            "SELECT window_start, window_end, filter_text, value, source_rows, thresholded, sampled, sampling_ratio, "
            "is_settled FROM marts.period_metrics ORDER BY window_start, filter_text"
        ).fetchall()
        scores = conn.execute(
            "SELECT kr_id, actual, baseline, target, progress, score, forecast, forecast_low, forecast_high, status, "
            "note, data_through FROM okr.kr_scores ORDER BY position"
        ).df()
        quality = conn.execute(
            "SELECT kr_key, origin, checked, thresholded, sampled, min_sampling_ratio, other_row FROM okr.kr_quality "
            "ORDER BY kr_key, origin"
        ).fetchall()
    dec, jan = (dt.date(2025, 12, 1), dt.date(2025, 12, 31)), (dt.date(2026, 1, 1), AS_OF)
    spring = "campaign_name GLOB 'spring*' AND channel = 'Paid Search'"
    assert stored == [
        (*dec, "no filter", 6.0, 1, False, False, None, True),  # ended before the look-back: settled
        (*jan, spring, 14.0, 1, True, True, 0.5, False),
        (*jan, "no filter", 25.0, 1, True, True, 0.5, False),
    ]

    kr = scores.set_index("kr_id")
    daily_sum = sum(len(set().union(*[u for u in g["users"]])) for _, g in _spring_rows().groupby("date"))
    per_campaign = sum(len(set().union(*g["users"])) for _, g in _spring_rows().groupby("sessionCampaignId"))
    assert (daily_sum, per_campaign) == (45, 16)
    spring_kr = kr.loc["spring-users"]
    assert (spring_kr["actual"], spring_kr["progress"], spring_kr["score"]) == (14.0, 0.2, 0.2)
    assert spring_kr["forecast"] == 14.0 and pd.isna(spring_kr["forecast_low"]) and pd.isna(spring_kr["forecast_high"])
    assert (spring_kr["status"], spring_kr["note"], spring_kr["data_through"].date()) == (
        "off_track",
        FORECAST_NOTE,
        AS_OF,
    )
    all_kr = kr.loc["all-users"]
    assert (all_kr["actual"], all_kr["baseline"], all_kr["target"]) == (25.0, 6.0, 12.0)
    assert all_kr["progress"] == pytest.approx(19 / 6) and (all_kr["score"], all_kr["status"]) == (1.0, "on_track")
    sessions = kr.loc["sessions"]
    assert (
        sessions["actual"] == users_rows().loc[lambda f: f["date"] >= "20260101", "sessions"].sum() == 40 + 15 + 20 + 1
    )
    assert pd.isna(sessions["note"]) and sessions["forecast_low"] < sessions["forecast"]

    assert quality == [
        ("reach/all-users", "period", 1, 1, 1, 0.5, 0),
        ("reach/all-users#baseline", "period", 1, 0, 0, None, 0),
        ("reach/sessions", "daily", 10, 10, 10, 0.5, 0),
        ("reach/spring-users", "period", 1, 1, 1, 0.5, 0),
    ]


def _spring_rows() -> pd.DataFrame:
    rows = users_rows()
    spring = rows["sessionCampaignName"].str.startswith("spring") & (
        rows["sessionDefaultChannelGroup"] == "Paid Search"
    )
    return rows[spring & (rows["date"] >= "20260101")]


def test_the_next_night_asks_only_for_windows_ga4_may_still_restate(
    tmp_path: Path, okr_defs: Path, fake: FakeGa4Server
) -> None:
    database = tmp_path / "okr.duckdb"
    assert run_pipeline(okr_defs, database, AS_OF).success
    first = len(period_reports(fake))
    assert run_pipeline(okr_defs, database, AS_OF + dt.timedelta(days=1)).success
    second = period_reports(fake)[first:]
    assert first == 3
    assert sorted(r["dateRanges"][0]["endDate"] for r in second) == ["2026-01-11", "2026-01-11"]  # not December
    with db.connect(database, read_only=True) as conn:
        windows = conn.execute("SELECT window_end, count(*) FROM marts.period_metrics GROUP BY 1 ORDER BY 1").fetchall()
    assert windows == [(dt.date(2025, 12, 31), 1), (AS_OF, 2), (AS_OF + dt.timedelta(days=1), 2)]


def test_explain_and_the_report_tell_where_users_came_from_and_what_ga4_flagged(
    tmp_path: Path, okr_defs: Path, fake: FakeGa4Server
) -> None:
    database = tmp_path / "okr.duckdb"
    assert run_pipeline(okr_defs, database, AS_OF).success
    defs = load_defs(okr_defs)

    ex = explain(database, defs, "reach/all-users", AS_OF)
    assert ex.formula.startswith("distinct count users from one GA4 query over the whole window")
    assert [(p["role"], str(p["window_start"])[:10], p["value"], p["thresholded"]) for p in ex.periods] == [
        ("actual", "2026-01-01", 25.0, True),
        ("baseline", "2025-12-01", 6.0, False),
    ]
    # no --as-of: the day of the latest scores (2026-01-10 here), as `okr scores` shows them
    shown = CliRunner().invoke(app, ["explain", "spring-users", "--defs", str(okr_defs), "--db", str(database)])
    assert shown.exit_code == 0, shown.output
    assert "reach/spring-users — Spring search users  (as of 2026-01-10)" in shown.output
    assert "window 2026-01-01 .. 2026-01-10; one GA4 period query, below" in shown.output
    assert (
        "period query (actual) web: totalUsers over 2026-01-01..2026-01-10, no date dimension, filter campaign_name "
        "GLOB 'spring*' AND channel = 'Paid Search' = 14; queried "
    ) in shown.output
    assert "thresholded yes, sampled yes (50.0% of the data read), (other) row no" in shown.output
    sessions = CliRunner().invoke(
        app, ["explain", "sessions", "--defs", str(okr_defs), "--db", str(database), "--as-of", "2026-01-10"]
    )
    assert (
        "GA4 web (actual) 2026-01-01..2026-01-10: 10 days loaded, 10 thresholded, 10 sampled (as little as 50.0% "
        "read), 0 with an (other) row"
    ) in sessions.output

    notes = {n.kind: n for n in load_report(database).quality.notes}
    assert set(notes) == {"thresholding", "sampling"}
    assert notes["thresholding"].text == (
        "GA4 withheld rows under its privacy thresholds: Spring search users: its whole-window query; "
        "All users: its whole-window query; Sessions: 10 of 10 days."
    )
    assert notes["sampling"].share == 0.5
    html = render_html(load_report(database), "en")
    assert "GA4 withheld rows under its privacy thresholds, so these may be below the real totals: " in html
    assert "Sessions: 10 of 10 days" in html and "Sessions: 10 trên 10 ngày" in html


def test_the_nightly_job_queries_periods_between_the_raw_load_and_the_scores(tmp_path: Path, okr_defs: Path) -> None:
    defs = build_definitions(okr_defs, tmp_path / "okr.duckdb", today=AS_OF)
    nightly = {k.to_user_string() for k in defs.resolve_job_def("okr_nightly").asset_layer.selected_asset_keys}
    assert {"raw/web", "marts/period_metrics", "okr/kr_scores"} <= nightly
    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey(["marts", "period_metrics"])).parent_keys == {dg.AssetKey(["raw", "web"])}
    assert dg.AssetKey(["marts", "period_metrics"]) in graph.get(dg.AssetKey(["okr", "kr_scores"])).parent_keys
