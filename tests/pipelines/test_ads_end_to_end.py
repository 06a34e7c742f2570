"""GA4 (REST fake) + Google Ads (gRPC fake) + Meta (Graph fake) through `okr run`: one objective with
cross-platform CPA and ROAS, and a blended ROAS of GA4 revenue over ad spend.

The real google-analytics-data and google-ads libraries and our Graph client talk to fakes on 127.0.0.1;
credentials come the way they do in production (GOOGLE_ADS_* with a service-account key, META_ACCESS_TOKEN),
never from okr_defs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.cli.app import app
from pipelines.cli.runner import run_pipeline
from pipelines.cli.scores_view import read_scores
from pipelines.lib import db
from pipelines.lib.scoring.explain import explain
from pipelines.lib.spec import load_defs
from tests.conftest import write_defs
from tests.connectors.test_ga4 import COLUMNS as GA4_COLUMNS
from tests.connectors.test_google_ads import row
from tests.connectors.test_meta_ads import insight, purchase
from tests.fakes.ga4_server import FakeGa4Server, FakeProperty
from tests.fakes.google_ads_server import (
    FakeGoogleAds,
    FakeTokenEndpoint,
    serve_google_ads,
    serve_oauth_token,
    service_account_key,
    trust_test_certificate,
)
from tests.fakes.meta_server import FakeAdAccount, FakeGraph, serve_graph

trust_test_certificate()  # gRPC reads its trusted roots once per process

CUSTOMER, ACCOUNT, TOKEN = "5550001234", "1029384756", "EAAB-e2e-token-secret"
DAYS = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(10)]
METRICS = """
metrics:
  spend: {agg: sum, unit: currency}
  impressions: {agg: sum}
  clicks: {agg: sum}
  conversions: {agg: sum}
  conversions_value: {agg: sum, unit: currency}
  cpa: {ratio: [spend, conversions], unit: currency}
  roas: {ratio: [conversions_value, spend], unit: ratio}
  revenue: {agg: sum, unit: currency}
  sessions: {agg: sum}
  blended_roas: {ratio: [revenue, spend], unit: ratio}
"""
OBJECTIVES = """
objectives:
  - id: paid-tet
    title: Profitable paid media for Tết
    period: {start: 2026-01-01, end: 2026-01-31}
    key_results:
      - {id: cpa, metric: cpa, baseline: 250000, target: 200000}
      - {id: roas, metric: roas, baseline: 4.0, target: 6.0}
      - {id: meta-only-cpa, metric: cpa, filters: {platform: meta_ads}, baseline: 300000, target: 200000}
      - {id: blended-roas, metric: blended_roas, baseline: 3.0, target: 5.0}
      - {id: unattributed-sessions, metric: sessions, filters: {campaign_id: "(not set)"}, baseline: 0, target: 1000}
"""


def ga4_rows() -> pd.DataFrame:
    rows = []
    for d in DAYS:
        day = d.strftime("%Y%m%d")
        rows += [
            (day, "111", "PMax - Tết 2026", "Paid Search", "google / cpc", 300, 4.0, 5_000_000.0),
            (day, "(not set)", "(not set)", "Direct", "(direct) / (none)", 50, 1.0, 800_000.0),
            (day, "(not set)", "(not set)", "Organic Search", "google / organic", 30, 0.0, 0.0),
        ]
    return pd.DataFrame(rows, columns=GA4_COLUMNS)


@pytest.fixture
def platforms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in [n for n in __import__("os").environ if n.startswith("GOOGLE_ADS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    ads = FakeGoogleAds()
    ads.rows[CUSTOMER] = [
        row(
            d.isoformat(),
            111,
            1_000_000 * 1_000_000,
            clicks=200,
            impressions=10_000,
            conversions=5.0,
            value=6_000_000.0,
            currency="VND",
            tz="Asia/Ho_Chi_Minh",
            name="PMax - Tết 2026",
        )
        for d in DAYS
    ]
    graph = FakeGraph(token=TOKEN, accounts={ACCOUNT: FakeAdAccount("Asia/Ho_Chi_Minh", "VND")})
    graph.accounts[ACCOUNT].rows = [
        insight(
            d.isoformat(),
            "120208847316550042",
            spend="500000.50",
            impressions="20000",
            link_clicks="300",
            actions=[purchase("2", click="2")],
            values=[purchase("2500000", click="2500000")],
            currency="VND",
            name="Tết 2026 - Lì xì Sale",
        )
        for d in DAYS
    ]
    ga4 = FakeGa4Server(properties={"412345678": FakeProperty(ga4_rows(), "VND", "Asia/Ho_Chi_Minh")})
    with (
        serve_google_ads(ads) as endpoint,
        serve_graph(graph),
        serve_oauth_token(FakeTokenEndpoint()) as token_uri,
        ga4,
    ):
        ads.endpoint = endpoint
        key = tmp_path / "sa.json"
        key.write_text(json.dumps(service_account_key(token_uri)))
        monkeypatch.setenv("GOOGLE_ADS_DEVELOPER_TOKEN", "dev-token-e2e")
        monkeypatch.setenv("GOOGLE_ADS_JSON_KEY_FILE_PATH", str(key))
        monkeypatch.setenv("GOOGLE_ADS_USE_PROTO_PLUS", "true")
        monkeypatch.setenv("META_ACCESS_TOKEN", TOKEN)
        sources = f"""
sources:
  google_ads:
    type: google_ads
    customer_ids: ["555-000-1234"]
    endpoint: "{endpoint}"
  meta_ads:
    type: meta_ads
    account_ids: [act_{ACCOUNT}]
    endpoint: "{graph.base_url}"
  ga4_web:
    type: ga4
    property_id: "412345678"
    metrics: {{sessions: sessions, revenue: purchaseRevenue}}
    endpoint: "{ga4.endpoint}"
    credentials: anonymous
"""
        defs = write_defs(
            tmp_path / "okr_defs",
            {"sources.yaml": sources, "metrics.yaml": METRICS, "objectives/paid.yaml": OBJECTIVES},
        )
        yield defs, ads, graph, ga4


def kr_values(database: Path) -> dict[str, dict]:
    data = read_scores(database)
    return {kr["id"]: kr for kr in data["objectives"][0]["key_results"]}


def test_cross_platform_cpa_and_roas_then_a_restated_day(tmp_path: Path, platforms) -> None:
    defs, ads, graph, ga4 = platforms
    database = tmp_path / "okr.duckdb"
    outcome = run_pipeline(defs, database, dt.date(2026, 1, 10))
    assert outcome.success, outcome.failures
    spend = 10 * 1_000_000 + 10 * 500_000.50
    krs = kr_values(database)
    assert krs["cpa"]["actual"] == pytest.approx(spend / (10 * 5 + 10 * 2), rel=1e-12)
    assert krs["roas"]["actual"] == pytest.approx((10 * 6_000_000 + 10 * 2_500_000) / spend, rel=1e-12)
    assert krs["meta-only-cpa"]["actual"] == pytest.approx(10 * 500_000.50 / 20, rel=1e-12)
    assert krs["cpa"]["currency_code"] == "VND" and krs["cpa"]["data_through"] == "2026-01-10"
    google_requests = ads.requests
    assert len(google_requests) == 1 and "'2026-01-01' AND '2026-01-10'" in google_requests[0].query
    assert "access_token" not in json.dumps([r.params for r in graph.received])  # the token rides in a header
    assert krs["blended-roas"]["actual"] == pytest.approx(10 * 5_800_000 / spend, rel=1e-12)
    assert krs["unattributed-sessions"]["actual"] == 10 * (50 + 30)  # (not set) kept apart by channel, not lost
    ga4_bodies = [r.body for r in ga4.received]
    assert ga4_bodies and ga4_bodies[0]["dateRanges"] == [{"startDate": "2026-01-01", "endDate": "2026-01-10"}]
    assert ga4.problems == []

    # Meta restates 9 January (2 → 6 purchases); the next run re-pulls its look-back and the score moves.
    restated = graph.accounts[ACCOUNT].rows[8]
    restated["actions"] = [purchase("6", click="6")]
    outcome = run_pipeline(defs, database, dt.date(2026, 1, 10))
    assert outcome.success, outcome.failures
    krs = kr_values(database)
    assert krs["cpa"]["actual"] == pytest.approx(spend / (10 * 5 + 9 * 2 + 6), rel=1e-12)
    with db.connect(database, read_only=True) as conn:
        history = conn.execute("SELECT kr_id, count(*) FROM okr.score_history GROUP BY kr_id ORDER BY kr_id").fetchall()
        raw = conn.execute(
            "SELECT count(*), count(DISTINCT conversion_definition), bool_and(NOT is_settled) "
            "FROM raw.meta_ads_insights"
        ).fetchone()
    assert history == [("blended-roas", 2), ("cpa", 2), ("meta-only-cpa", 2), ("roas", 2), ("unattributed-sessions", 2)]
    assert raw == (10 * 5, 1, True)  # 10 days × 5 metrics, one conversion definition, all inside the look-back


def test_explain_lists_the_conversion_definitions_behind_a_cross_platform_cpa(tmp_path: Path, platforms) -> None:
    """The unfiltered CPA adds 50 Google Ads primary conversions and 20 Meta purchases: `okr explain` says
    which definitions its conversions come from, and how many of each, from the stored rows."""
    defs, _ads, _graph, _ga4 = platforms
    database = tmp_path / "okr.duckdb"
    assert run_pipeline(defs, database, DAYS[-1]).success
    loaded = load_defs(defs)

    cpa = explain(database, loaded, "paid-tet/cpa", DAYS[-1])
    google = ("google_ads", "google_ads", "gads:metrics.conversions", 50.0, None, 10, 10)
    meta = ("meta_ads", "meta_ads", "meta:offsite_conversion.fb_pixel_purchase@7d_click,1d_view", 20.0, None, 10, 10)
    fields = ["source", "platform", "definition", "conversions", "conversions_value", "days", "rows"]
    assert [tuple(c[f] for f in fields) for c in cpa.conversions] == [google, meta]
    assert cpa.score["denominator"] == 70.0  # the two definitions are exactly what the CPA divides by
    roas = explain(database, loaded, "paid-tet/roas", DAYS[-1])
    assert [(c["source"], c["conversions"], c["conversions_value"]) for c in roas.conversions] == [
        ("google_ads", None, 60_000_000.0),
        ("meta_ads", None, 25_000_000.0),
    ]
    only_meta = explain(database, loaded, "paid-tet/meta-only-cpa", DAYS[-1])
    assert [c["definition"] for c in only_meta.conversions] == [meta[2]]
    assert explain(database, loaded, "paid-tet/blended-roas", DAYS[-1]).conversions == []  # GA4 revenue / spend

    shown = CliRunner().invoke(
        app, ["explain", "cpa", "--defs", str(defs), "--db", str(database), "--as-of", "2026-01-10"]
    )
    assert shown.exit_code == 0, shown.output
    assert (
        "conversions of 2 definitions are added up in this value:\n"
        "  google_ads (google_ads): gads:metrics.conversions; conversions 50.00 over 10 days\n"
        "  meta_ads (meta_ads): meta:offsite_conversion.fb_pixel_purchase@7d_click,1d_view; conversions 20.00 over "
        "10 days\n"
    ) in shown.output
    shown = CliRunner().invoke(
        app, ["explain", "meta-only-cpa", "--defs", str(defs), "--db", str(database), "--as-of", "2026-01-10"]
    )
    assert "conversion definition of the rows behind the value:\n  meta_ads (meta_ads): meta:" in shown.output
    shown = CliRunner().invoke(
        app, ["explain", "blended-roas", "--defs", str(defs), "--db", str(database), "--as-of", "2026-01-10"]
    )
    assert shown.exit_code == 0 and "conversion" not in shown.output


def _declare_zone(defs: Path, zone: str) -> int:
    """Declare `timezone: zone` for every source; returns the line of the meta_ads one in sources.yaml."""
    path = defs / "sources.yaml"
    text = path.read_text(encoding="utf-8").replace("    endpoint:", f"    timezone: {zone}\n    endpoint:")
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    meta = lines.index("  meta_ads:")
    return next(i for i, line in enumerate(lines[meta:], meta + 1) if line.strip().startswith("timezone:"))


def test_a_platform_reporting_another_time_zone_than_declared_rejects_the_load(tmp_path: Path, platforms) -> None:
    """sources.yaml says Ho Chi Minh City; the Meta account now reports Los Angeles time. `okr run` rejects
    Meta's load through its blocking schema check, names source, account, both zones and the line to write,
    and the database keeps its Meta rows and its scores."""
    defs, _ads, graph, _ga4 = platforms
    line = _declare_zone(defs, "Asia/Ho_Chi_Minh")
    database = tmp_path / "okr.duckdb"
    run = ["run", "--defs", str(defs), "--db", str(database), "--as-of", "2026-01-10"]
    first = CliRunner().invoke(app, run)
    assert first.exit_code == 0, first.output
    assert "time zone" not in first.output  # declared, and every platform agrees
    before = kr_values(database)

    graph.accounts[ACCOUNT].timezone_name = "America/Los_Angeles"
    graph.accounts[ACCOUNT].rows[8]["actions"] = [purchase("6", click="6")]  # a restatement that must not land
    second = CliRunner().invoke(app, run)

    assert second.exit_code == 1
    assert (
        "raw/meta_ads check schema: source meta_ads: sources.yaml declares timezone Asia/Ho_Chi_Minh, but the Meta "
        "API reports America/Los_Angeles (ad account 1029384756); its days, partitions, 'yesterday' and is_settled "
        "would be counted in the wrong zone, so nothing was loaded. If the account's zone is right, write "
        f"`timezone: America/Los_Angeles` for source meta_ads (sources.yaml line {line}) and run again\n"
    ) in second.output
    assert "run failed: the database keeps its previous scores" in second.output
    with db.connect(database, read_only=True) as conn:
        stored = conn.execute(
            "SELECT sum(value), count(*), any_value(account_timezone) FROM raw.meta_ads_insights "
            "WHERE metric = 'conversions'"
        ).fetchone()
    assert stored == (20, 10, "Asia/Ho_Chi_Minh")  # not 24: the restated day was not written
    assert kr_values(database)["cpa"]["actual"] == before["cpa"]["actual"]


def test_an_undeclared_time_zone_loads_and_says_which_one_to_declare(
    tmp_path: Path, platforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No `timezone` in sources.yaml: the partitions count UTC days while the platforms report Ho Chi Minh
    City time. The load goes ahead; the asset records both zones, and the run's Dagster event log and
    `okr run` say which zone to declare, and where."""
    defs, _ads, _graph, _ga4 = platforms
    line = (defs / "sources.yaml").read_text(encoding="utf-8").splitlines().index("  meta_ads:") + 1
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # a persistent instance: the run's event log stays readable
    outcome = run_pipeline(defs, tmp_path / "okr.duckdb", DAYS[-1])
    assert outcome.success, outcome.failures
    meta = outcome.materialized["raw/meta_ads"]
    assert (meta["declared_time_zone"], meta["reported_time_zone"]) == ("(none: UTC)", "Asia/Ho_Chi_Minh")
    assert meta["time_zones"] == {ACCOUNT: "Asia/Ho_Chi_Minh"}
    advice = (
        "source meta_ads declares no timezone in sources.yaml, so its partitions, 'yesterday' and is_settled are "
        "counted in UTC while the Meta API reports Asia/Ho_Chi_Minh (ad account 1029384756): every day is off by "
        f"the difference. Write `timezone: Asia/Ho_Chi_Minh` for source meta_ads (sources.yaml line {line}) so "
        "that the platform's zone is checked on every load"
    )
    assert f"raw/meta_ads time zone: {advice}" in outcome.warnings
    assert {w.split(" time zone: ")[0] for w in outcome.warnings if " time zone: " in w} == {
        "raw/google_ads",
        "raw/meta_ads",
        "raw/ga4_web",
    }
    with dg.DagsterInstance.get() as instance:
        (run,) = instance.get_runs()
        logged = [(e.step_key, e.user_message) for e in instance.all_logs(run.run_id) if e.level == logging.WARNING]
    assert ("raw__meta_ads", f"meta_ads: {advice}") in logged
