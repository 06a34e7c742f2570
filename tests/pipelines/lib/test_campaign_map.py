"""marts.campaign_map on a real DuckDB file: id match, name fallback, manual links, unified keys, unmatched share.

One day of three file sources (GA4, Google Ads, Meta), all in VND, with known pairs:
- GA4 (111, spring_sale)         = Google Ads 111 "Spring Sale - Search"      by id
- GA4 "Tết 2026" (no id)         = Meta 555 " TẾT_2026 "                       by name (accents, case, _)
- GA4 "Summer Launch v2" (no id) = Meta 777 "Summer launch - Prospecting"     by the manual link
- GA4 newsletter_jan (no id) unmatched; GA4 (not set)/(not set) is no campaign at all
A GA4 campaign without an id (utm_campaign without utm_id) is keyed by its name in the raw layer, so
the three of them on Paid Social/Email stay three campaigns.
- Google Ads 222 "Brand Always On" unmatched; Meta 888 "Spring-Sale" unmatched: its name equals GA4's
  spring_sale, but that GA4 campaign already has an id pair, and the name rule is only a fallback.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from pipelines.lib import db
from pipelines.lib.campaign_map import KEY_FUNCTION, register_key_function, unmatched_share
from pipelines.lib.scoring import score_all
from tests.pipelines.lib.unify_data import build_warehouse

SOURCES = """
sources:
  ga4_web:
    type: file
    path: data/ga4.csv
    platform: ga4
    account_id: "412345678"
    currency: VND
    date: {column: date}
    campaign_id: campaign_id
    campaign_name: campaign
    channel: {column: channel}
    metrics: {sessions: sessions, revenue: revenue}
  google_ads:
    type: file
    path: data/google.csv
    platform: google_ads
    account_id: "5550001234"
    currency: VND
    date: {column: date}
    campaign_id: campaign_id
    campaign_name: campaign
    channel: Paid Search
    metrics: {spend: cost, conversions: conversions}
  meta:
    type: file
    path: data/meta.csv
    platform: meta_ads
    account_id: "1029384756"
    currency: VND
    date: {column: date}
    campaign_id: campaign_id
    campaign_name: campaign
    channel: Paid Social
    metrics: {spend: cost, conversions: conversions}
"""
METRICS = """
metrics:
  sessions: {agg: sum}
  revenue: {agg: sum, unit: currency}
  spend: {agg: sum, unit: currency}
  conversions: {agg: sum}
  blended_roas: {ratio: [revenue, spend], unit: ratio}
"""
OBJECTIVES = """
objectives:
  - id: unified
    title: One campaign across platforms
    period: {start: 2026-01-01, end: 2026-01-31}
    key_results:
      - {id: spring-spend, metric: spend, filters: {unified_campaign: "Spring Sale"}, baseline: 0, target: 1000}
      - {id: spring-glob, metric: spend, filters: {unified_campaign: "SPRING*"}, baseline: 0, target: 1000}
      - {id: tet-roas, metric: blended_roas, filters: {unified_campaign: "TẾT-2026"}, baseline: 1, target: 3}
"""
CAMPAIGN_MAP = """
campaign_map:
  - ga4: {campaign_name: "Summer Launch V2"}
    ads: {source: meta, campaign_id: "777"}
    note: utm_campaign typed by hand
  - ga4: {campaign_name: Black Friday}
    ads: {campaign_id: "999"}
"""
GA4 = """
date,campaign_id,campaign,channel,sessions,revenue
2026-01-01,111,spring_sale,Paid Search,100,1000
2026-01-01,(not set),Tết 2026,Paid Social,50,500
2026-01-01,(not set),Summer Launch v2,Paid Social,30,300
2026-01-01,(not set),newsletter_jan,Email,20,0
2026-01-01,(not set),(not set),Direct,40,400
"""
GOOGLE = """
date,campaign_id,campaign,cost,conversions
2026-01-01,111,Spring Sale - Search,300,3
2026-01-01,222,Brand Always On,100,1
"""
META = """
date,campaign_id,campaign,cost,conversions
2026-01-01,555, TẾT_2026 ,200,2
2026-01-01,777,Summer launch - Prospecting,50,1
2026-01-01,888,Spring-Sale,40,0
"""
FILES = {
    "sources.yaml": SOURCES,
    "metrics.yaml": METRICS,
    "objectives/o.yaml": OBJECTIVES,
    "campaign_map.yaml": CAMPAIGN_MAP,
    "data/ga4.csv": GA4,
    "data/google.csv": GOOGLE,
    "data/meta.csv": META,
}


@pytest.fixture
def warehouse(tmp_path: Path):
    return build_warehouse(tmp_path, FILES)


def test_pairs_by_id_then_manual_link_then_normalized_name(warehouse) -> None:
    _defs, path = warehouse
    with db.connect(path, read_only=True) as conn:
        pairs = conn.execute(
            "SELECT ga4_source, ga4_campaign_id, ga4_campaign_name, ads_source, ads_platform, ads_account_id, "
            "ads_campaign_id, ads_campaign_name, match_method, link_no, unified_campaign_id "
            "FROM marts.campaign_map ORDER BY ads_campaign_id"
        ).fetchall()
    assert pairs == [
        (
            "ga4_web",
            "111",
            "spring_sale",
            "google_ads",
            "google_ads",
            "5550001234",
            "111",
            "Spring Sale - Search",
            "id",
            None,
            "spring sale",
        ),
        (
            "ga4_web",
            "Tết 2026",
            "Tết 2026",
            "meta",
            "meta_ads",
            "1029384756",
            "555",
            "TẾT_2026",
            "name",
            None,
            "tet 2026",
        ),
        (
            "ga4_web",
            "Summer Launch v2",
            "Summer Launch v2",
            "meta",
            "meta_ads",
            "1029384756",
            "777",
            "Summer launch - Prospecting",
            "manual",
            1,
            "summer launch v2",
        ),
    ]


def test_every_mart_row_carries_its_unified_campaign(warehouse) -> None:
    _defs, path = warehouse
    with db.connect(path, read_only=True) as conn:
        keys = conn.execute(
            "SELECT DISTINCT source, campaign_id, campaign_name, unified_campaign_id "
            "FROM marts.campaign_daily_metrics ORDER BY source, campaign_id, campaign_name"
        ).fetchall()
        wide = conn.execute(
            "SELECT unified_campaign_id, sum(spend_micros) FROM marts.campaign_daily "
            "WHERE unified_campaign_id = 'spring sale' GROUP BY ALL"
        ).fetchall()
    assert keys == [
        ("ga4_web", "(not set)", "(not set)", None),  # direct traffic: no campaign, stays unattributed
        ("ga4_web", "111", "spring_sale", "spring sale"),
        ("ga4_web", "Summer Launch v2", "Summer Launch v2", "summer launch v2"),
        ("ga4_web", "Tết 2026", "Tết 2026", "tet 2026"),
        ("ga4_web", "newsletter_jan", "newsletter_jan", "newsletter jan"),
        ("google_ads", "111", "Spring Sale - Search", "spring sale"),  # the key of its GA4 pair
        ("google_ads", "222", "Brand Always On", "brand always on"),  # unpaired: its own name
        ("meta", "555", "TẾT_2026", "tet 2026"),
        ("meta", "777", "Summer launch - Prospecting", "summer launch v2"),  # the manual link's GA4 name
        ("meta", "888", "Spring-Sale", "spring sale"),
    ]
    assert wide == [("spring sale", (300 + 40) * 1_000_000)]


def test_unmatched_share_figures(warehouse) -> None:
    _defs, path = warehouse
    with db.connect(path, read_only=True) as conn:
        share = unmatched_share(conn)
        later = unmatched_share(conn, start=dt.date(2026, 1, 2))
    assert share == {
        "ga4_campaigns": 4,
        "ga4_campaigns_unmatched": 1,
        "ga4_rows": 4,
        "ga4_rows_unmatched": 1,
        "ga4_rows_unmatched_share": 0.25,
        "ga4_sessions": 200.0,
        "ga4_sessions_unmatched": 20.0,
        "ga4_sessions_unmatched_share": 0.1,
        "ads_campaigns": 5,
        "ads_campaigns_unmatched": 2,
        "ads_spend": 690.0,
        "ads_spend_unmatched": 140.0,
        "ads_spend_unmatched_share": 140 / 690,
        "ads_spend_currency": "VND",
        "ads_spend_unmatched_share_by_currency": {"VND": 140 / 690},
        "unused_manual_links": ["campaign_map.yaml:5"],
    }
    assert later["ga4_rows"] == 0 and later["ga4_sessions_unmatched_share"] is None and later["ads_spend"] is None


def test_a_kr_filters_one_campaign_across_platforms(warehouse) -> None:
    defs, path = warehouse
    with db.connect(path) as conn:
        krs = score_all(conn, defs, dt.date(2026, 1, 1)).kr_scores.set_index("kr_id")
    assert krs.loc["spring-spend", "actual"] == 340.0  # Google Ads 111 + Meta 888, both "spring sale"
    assert krs.loc["spring-glob", "actual"] == 340.0
    assert krs.loc["tet-roas", "actual"] == 500 / 200  # GA4 revenue of "Tết 2026" over Meta's " TẾT_2026 " spend


def test_rebuilding_is_idempotent_and_follows_the_links_file(tmp_path: Path, warehouse) -> None:
    from pipelines.lib.mart import build_mart
    from tests.pipelines.lib.unify_data import make_defs

    defs, path = warehouse
    with db.connect(path) as conn:
        before = conn.execute("SELECT * FROM marts.campaign_map ORDER BY ALL").fetchall()
        build_mart(conn, defs)
        assert conn.execute("SELECT * FROM marts.campaign_map ORDER BY ALL").fetchall() == before
        without_links = make_defs(tmp_path / "okr_defs", {"campaign_map.yaml": "campaign_map: []\n"})
        build_mart(conn, without_links)
        methods = conn.execute(
            "SELECT match_method, count(*) FROM marts.campaign_map GROUP BY ALL ORDER BY 1"
        ).fetchall()
        summer = conn.execute(
            "SELECT DISTINCT unified_campaign_id FROM marts.campaign_daily_metrics WHERE campaign_id = '777'"
        ).fetchall()
    assert methods == [("id", 1), ("name", 1)]
    assert summer == [("summer launch prospecting",)]


def test_the_sql_function_is_the_python_function() -> None:
    conn = duckdb.connect()
    register_key_function(conn)
    register_key_function(conn)  # a second registration on the same connection is harmless
    rows = conn.execute(
        f"SELECT {KEY_FUNCTION}(n) FROM (VALUES ('Tết 2026'), ('(not set)'), (NULL), ('Lì_xì-SALE')) t(n)"  # noqa: S608
    ).fetchall()
    assert rows == [("tet 2026",), (None,), (None,), ("li xi sale",)]
