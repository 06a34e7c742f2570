"""A VND team with a USD Google Ads account: GA4 (REST fake, VND) + Google Ads (gRPC fake, USD) + Meta (Graph
fake, VND) give one cross-platform CPA and ROAS in VND, and one campaign across the three platforms.

`okr run` ingests the three APIs through the real client libraries; the mart is then built the way the mart
asset builds it from okr_defs (`pipelines.lib.mart.build_mart`: rates file, reporting currency, campaign
map) and scored. Every expected value below is worked out by hand.

Rates (1 USD in VND): 1 Jan 25,000 · 2 Jan 25,100 · 5 Jan 25,200 · 8 Jan 25,300; the days between take
the latest earlier rate, so the ten days sum to 25,000 + 3 × 25,100 + 3 × 25,200 + 3 × 25,300 = 251,800.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from pipelines.cli.runner import run_pipeline
from pipelines.cli.scores_view import read_scores
from pipelines.lib import db
from pipelines.lib.campaign_map import unmatched_share
from pipelines.lib.mart import build_mart
from pipelines.lib.scoring import score_all
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

CUSTOMER, ACCOUNT, TOKEN = "5550001234", "1029384756", "EAAB-unified-token"
META_CAMPAIGN = "120208847316550042"
TZ = "Asia/Ho_Chi_Minh"
DAYS = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(10)]
AS_OF = DAYS[-1]
RATES = "date,from,to,rate\n2026-01-01,USD,VND,25000\n2026-01-02,USD,VND,25100\n2026-01-05,USD,VND,25200\n"
RATES += "2026-01-08,USD,VND,25300\n"
RATE_SUM = 251_800
METRICS = """
metrics:
  spend: {agg: sum, unit: currency}
  impressions: {agg: sum}
  clicks: {agg: sum}
  conversions: {agg: sum}
  conversions_value: {agg: sum, unit: currency}
  revenue: {agg: sum, unit: currency}
  sessions: {agg: sum}
  cpa: {ratio: [spend, conversions], unit: currency}
  roas: {ratio: [conversions_value, spend], unit: ratio}
  blended_roas: {ratio: [revenue, spend], unit: ratio}
"""
OBJECTIVES = """
objectives:
  - id: paid-tet
    title: Profitable paid media for Tết, in VND
    period: {start: 2026-01-01, end: 2026-01-31}
    key_results:
      - {id: cpa, metric: cpa, baseline: 450000, target: 350000}
      - {id: roas, metric: roas, baseline: 4.0, target: 6.0}
      - {id: google-cpa, metric: cpa, filters: {platform: google_ads}, baseline: 600000, target: 400000}
      - {id: tet-blended-roas, metric: blended_roas, filters: {unified_campaign: "Tết 2026"}, baseline: 3, target: 6}
"""


def ga4_rows() -> pd.DataFrame:
    rows = []
    for d in DAYS:
        day = d.strftime("%Y%m%d")
        rows += [
            (day, "111", "tet-2026", "Paid Search", "google / cpc", 300, 4.0, 5_000_000.0),
            (day, META_CAMPAIGN, "TET_2026", "Paid Social", "facebook / paid", 200, 2.0, 3_000_000.0),
            (day, "(not set)", "newsletter_jan", "Email", "newsletter / email", 20, 0.0, 0.0),
            (day, "(not set)", "(not set)", "Direct", "(direct) / (none)", 50, 1.0, 800_000.0),
        ]
    return pd.DataFrame(rows, columns=GA4_COLUMNS)


@pytest.fixture
def okr_defs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in [n for n in __import__("os").environ if n.startswith("GOOGLE_ADS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    ads = FakeGoogleAds()
    ads.rows[CUSTOMER] = [  # a USD account: 40.00 USD, 2 purchases worth 200.00 USD a day
        row(d.isoformat(), 111, 40_000_000, clicks=100, impressions=5_000, conversions=2.0, value=200.0, currency="USD",
            tz=TZ, name="Tết 2026 - Search")
        for d in DAYS
    ]  # fmt: skip
    graph = FakeGraph(token=TOKEN, accounts={ACCOUNT: FakeAdAccount(TZ, "VND")})
    graph.accounts[ACCOUNT].rows = [  # a VND account: 500,000.50 VND, 2 purchases worth 2,500,000 VND a day
        insight(d.isoformat(), META_CAMPAIGN, spend="500000.50", impressions="20000", link_clicks="300",
                actions=[purchase("2", click="2")], values=[purchase("2500000", click="2500000")], currency="VND",
                name="Tết 2026 - Lì xì Sale")
        for d in DAYS
    ]  # fmt: skip
    ga4 = FakeGa4Server(properties={"412345678": FakeProperty(ga4_rows(), "VND", TZ)})
    with serve_google_ads(ads) as endpoint, serve_graph(graph), serve_oauth_token(FakeTokenEndpoint()) as token, ga4:
        key = tmp_path / "sa.json"
        key.write_text(json.dumps(service_account_key(token)))
        monkeypatch.setenv("GOOGLE_ADS_DEVELOPER_TOKEN", "dev-token-unified")
        monkeypatch.setenv("GOOGLE_ADS_JSON_KEY_FILE_PATH", str(key))
        monkeypatch.setenv("GOOGLE_ADS_USE_PROTO_PLUS", "true")
        monkeypatch.setenv("META_ACCESS_TOKEN", TOKEN)
        sources = f"""
reporting_currency: VND
fx_rates:
  path: fx/rates.csv
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
        yield write_defs(
            tmp_path / "okr_defs",
            {
                "sources.yaml": sources,
                "metrics.yaml": METRICS,
                "objectives/paid.yaml": OBJECTIVES,
                "fx/rates.csv": RATES,
            },
        )


def test_usd_google_ads_and_vnd_meta_give_one_cpa_and_roas_in_vnd(tmp_path: Path, okr_defs: Path) -> None:
    database = tmp_path / "okr.duckdb"
    outcome = run_pipeline(okr_defs, database, AS_OF)
    assert outcome.success, outcome.failures
    defs = load_defs(okr_defs)
    with db.connect(database) as conn:
        build_mart(conn, defs)
        score_all(conn, defs, AS_OF)
        third = conn.execute(
            "SELECT value, currency_code, original_value, original_currency_code, fx_rate, fx_rate_date "
            "FROM marts.campaign_daily_metrics WHERE source = 'google_ads' AND metric = 'spend' "
            "AND report_date = DATE '2026-01-03'"
        ).fetchone()
        pairs = conn.execute(
            "SELECT ga4_campaign_name, ads_source, ads_campaign_id, match_method, unified_campaign_id "
            "FROM marts.campaign_map ORDER BY ads_source"
        ).fetchall()
        share = unmatched_share(conn)
    krs = {kr["id"]: kr for kr in read_scores(database)["objectives"][0]["key_results"]}

    google_spend, google_value = 40 * RATE_SUM, 200 * RATE_SUM  # 10,072,000 and 50,360,000 VND
    meta_spend, meta_value = 10 * 500_000.50, 10 * 2_500_000  # 5,000,005 and 25,000,000 VND
    spend = google_spend + meta_spend
    assert krs["cpa"]["actual"] == pytest.approx(spend / (20 + 20), rel=1e-12)  # 376,800.125 VND
    assert krs["cpa"]["actual"] == pytest.approx(376_800.125, rel=1e-12)
    assert krs["roas"]["actual"] == pytest.approx((google_value + meta_value) / spend, rel=1e-12)
    assert krs["google-cpa"]["actual"] == pytest.approx(503_600.0, rel=1e-12)
    assert krs["tet-blended-roas"]["actual"] == pytest.approx(10 * (5_000_000 + 3_000_000) / spend, rel=1e-12)
    assert {kr["currency_code"] for kr in krs.values()} == {"VND"}
    assert "invalid" not in {kr["status"] for kr in krs.values()}

    d = Decimal
    assert third == (d("1004000.000000"), "VND", d("40.000000"), "USD", 25100.0, dt.date(2026, 1, 2))
    assert pairs == [
        ("tet-2026", "google_ads", "111", "id", "tet 2026"),
        ("TET_2026", "meta_ads", META_CAMPAIGN, "id", "tet 2026"),
    ]
    assert (share["ga4_rows"], share["ga4_rows_unmatched"]) == (30, 10)  # newsletter_jan has no ad campaign
    assert share["ga4_sessions_unmatched_share"] == pytest.approx(200 / 5_200, rel=1e-12)
    assert (share["ads_spend"], share["ads_spend_unmatched_share"], share["ads_spend_currency"]) == (
        pytest.approx(spend, rel=1e-12),
        0.0,
        "VND",
    )
