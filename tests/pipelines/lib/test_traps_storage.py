"""The raw layer and the mart against the correctness traps of the source-API reference (docs/platform-traps.md).

Connector loads from the platform fakes are written with the write path the raw assets use
(`storage.to_long` + `storage.replace_source_window`) into a real DuckDB file, then the mart is rebuilt:
ids must come out as the exact strings the platforms sent, money as exact micros, every row with its
conversion definition, its account's time zone and a settled flag counted in the account's own days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from connectors.ads_retry import RetryPolicy
from connectors.ga4 import fetch_daily, pull_window
from connectors.google_ads import GoogleAdsConfig, GoogleAdsLoad, read_google_ads
from connectors.meta_ads import MetaAdsConfig, MetaAdsLoad, read_meta_ads
from pipelines.assets.automation import last_complete_day
from pipelines.lib import api_sources, db, storage
from pipelines.lib.spec import load_defs
from tests.conftest import write_defs
from tests.connectors.test_ga4 import PROPERTY, config, table
from tests.connectors.test_google_ads import USD_ID, client_for, row
from tests.connectors.test_meta_ads import ACCOUNT, TOKEN, insight, purchase
from tests.fakes.ga4_server import FakeGa4Server, FakeProperty
from tests.fakes.google_ads_server import FakeGoogleAds, serve_google_ads, trust_test_certificate
from tests.fakes.meta_server import FakeAdAccount, FakeGraph, serve_graph

trust_test_certificate()  # gRPC reads its trusted roots once per process

D = dt.date
META_ID = "120210000000000001"  # > 2**53: float("120210000000000001") is 120210000000000000
GOOGLE_ID = 2**63 - 1  # the largest int64 campaign id
ID_COLUMNS = {"account_id", "campaign_id", "ga4_account_id", "ga4_campaign_id", "ads_account_id", "ads_campaign_id"}


@pytest.fixture
def platforms(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[FakeGoogleAds, FakeGraph]]:
    for name in [n for n in __import__("os").environ if n.startswith("GOOGLE_ADS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("META_ACCESS_TOKEN", TOKEN)
    ads = FakeGoogleAds()
    graph = FakeGraph(token=TOKEN, accounts={ACCOUNT: FakeAdAccount("Asia/Ho_Chi_Minh", "VND")})
    with serve_google_ads(ads) as endpoint, serve_graph(graph):
        ads.endpoint = endpoint
        yield ads, graph


def store(
    conn: duckdb.DuckDBPyConnection,
    kind: str,
    name: str,
    load: GoogleAdsLoad | MetaAdsLoad,
    window: tuple[dt.date, dt.date],
    settled_before: dt.date | None = None,
) -> None:
    """Write a connector load the way the raw asset does (one transaction replacing the window)."""
    metrics = ["spend", "impressions", "clicks", "conversions", "conversions_value"]
    long = storage.to_long(load.frame, name, metrics)
    storage.replace_source_window(conn, kind, name, long, window, settled_before, load.conversion_definition)


def test_every_stored_id_column_is_varchar(tmp_path: Path) -> None:
    """Ads ids are int64 and Meta ids exceed 2**53: no table may hold an id as a number."""
    with db.connect(tmp_path / "okr.duckdb") as conn:
        storage.ensure_schema(conn)
        types = conn.execute(
            "SELECT table_schema || '.' || table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND column_name IN (SELECT unnest(?)) ORDER BY ALL",
            [sorted(ID_COLUMNS)],
        ).fetchall()
    tables = {t for t, _, _ in types}
    assert {*storage.RAW_TABLES.values(), "marts.campaign_daily_metrics", "marts.campaign_map"} <= tables
    assert {kind for _, _, kind in types} == {"VARCHAR"}


def test_ids_money_and_conversion_definitions_reach_the_mart_exactly(
    tmp_path: Path, platforms: tuple[FakeGoogleAds, FakeGraph]
) -> None:
    """Google Ads: campaign 2**63 - 1 spends 1,234,567,891 micros with 1.35 conversions; Meta: campaign
    120210000000000001 spends "250000.07" VND with 3 purchases worth "0.1" + "0.2" VND by window."""
    ads, graph = platforms
    ads.rows[USD_ID] = [row("2024-03-01", GOOGLE_ID, 1_234_567_891, conversions=1.35, value=40.25)]
    graph.accounts[ACCOUNT].rows = [
        insight(
            "2024-03-01",
            META_ID,
            spend="250000.07",
            actions=[purchase("3", click="2", view="1")],
            values=[purchase("0.3", click="0.1", view="0.2")],
            currency="VND",
        )
    ]
    window = (D(2024, 3, 1), D(2024, 3, 1))
    google = read_google_ads(GoogleAdsConfig("gads", (USD_ID,)), *window, client=client_for(ads), retry=RetryPolicy())
    meta_config = MetaAdsConfig("meta", (ACCOUNT,), base_url=graph.base_url)
    meta = read_meta_ads(meta_config, *window, retry=RetryPolicy())

    with db.connect(tmp_path / "okr.duckdb") as conn:
        storage.ensure_schema(conn)
        store(conn, "google_ads", "gads", google, window)
        store(conn, "meta_ads", "meta", meta, window)
        storage.rebuild_mart(conn, ["gads", "meta"])
        raw = conn.execute(
            "SELECT source, account_id, campaign_id, metric, value, currency_code, conversion_definition "
            "FROM raw.google_ads_campaign_daily UNION ALL "
            "SELECT source, account_id, campaign_id, metric, value, currency_code, conversion_definition "
            "FROM raw.meta_ads_insights WHERE metric IN ('spend', 'conversions', 'conversions_value') ORDER BY ALL"
        ).fetchall()
        wide = conn.execute(
            "SELECT campaign_id, spend_micros, conversions_value_micros, conversions, currency_code "
            "FROM marts.campaign_daily ORDER BY campaign_id"
        ).fetchall()
        definitions = conn.execute(
            "SELECT DISTINCT platform, conversion_definition FROM marts.campaign_daily_metrics ORDER BY ALL"
        ).fetchall()

    d = Decimal
    gads = ("gads", USD_ID, "9223372036854775807")
    google_rows = {(m, v) for s, a, c, m, v, _, _ in raw if (s, a, c) == gads}
    assert google_rows == {
        ("spend", d("1234.567891")),
        ("impressions", d("0")),
        ("clicks", d("0")),
        ("conversions", d("1.35")),
        ("conversions_value", d("40.25")),
    }
    meta_rows = [r for r in raw if r[0] == "meta"]
    assert meta_rows == [
        ("meta", ACCOUNT, META_ID, "conversions", d("3"), "VND", "meta:offsite_conversion.fb_pixel_purchase@7d_click,1d_view"),
        ("meta", ACCOUNT, META_ID, "conversions_value", d("0.3"), "VND", "meta:offsite_conversion.fb_pixel_purchase@7d_click,1d_view"),
        ("meta", ACCOUNT, META_ID, "spend", d("250000.07"), "VND", "meta:offsite_conversion.fb_pixel_purchase@7d_click,1d_view"),
    ]  # fmt: skip
    assert wide == [
        (META_ID, 250_000_070_000, 300_000, d("3"), "VND"),
        ("9223372036854775807", 1_234_567_891, 40_250_000, d("1.35"), "USD"),
    ]
    assert definitions == [
        ("google_ads", "gads:metrics.conversions"),
        ("meta_ads", "meta:offsite_conversion.fb_pixel_purchase@7d_click,1d_view"),
    ]


def test_is_settled_counts_in_each_accounts_own_days(
    tmp_path: Path, platforms: tuple[FakeGoogleAds, FakeGraph]
) -> None:
    """At 20:00 UTC on 10 January it is already 11 January in Ho Chi Minh City, still 10 January in Los
    Angeles. The nightly run of each account's zone counts yesterday in that zone (10 and 9 January), and a
    3-day look-back leaves the last 3 of those days unsettled: Meta may still restate them."""
    _ads, graph = platforms
    graph.accounts[ACCOUNT].rows = [insight(f"2026-01-{d:02d}", META_ID, spend=f"{d}.00") for d in range(1, 11)]
    defs = load_defs(
        write_defs(
            tmp_path / "okr_defs",
            {
                "sources.yaml": f"""
sources:
  meta:
    type: meta_ads
    account_ids: [act_{ACCOUNT}]
    endpoint: "{graph.base_url}"
    timezone: Asia/Ho_Chi_Minh
    lookback_days: 3
""",
                "metrics.yaml": "metrics:\n  spend: {agg: sum, unit: currency}\n",
                "objectives/o.yaml": """
objectives:
  - id: o
    title: Spend
    period: {start: 2026-01-01, end: 2026-01-31}
    key_results:
      - {id: spend, metric: spend, baseline: 0, target: 100}
""",
            },
        )
    )
    tick = dt.datetime(2026, 1, 10, 20, 0, tzinfo=dt.UTC)
    as_of = last_complete_day(tick, "Asia/Ho_Chi_Minh")
    assert (as_of, last_complete_day(tick, "America/Los_Angeles")) == (D(2026, 1, 10), D(2026, 1, 9))

    window = (D(2026, 1, 1), as_of)
    pulled = api_sources.pull(defs, "meta", window, as_of)
    with db.connect(tmp_path / "okr.duckdb") as conn:
        storage.ensure_schema(conn)
        long = storage.to_long(pulled.frame, "meta", pulled.metrics)
        storage.replace_source_window(
            conn, "meta_ads", "meta", long, window, pulled.settled_before, pulled.conversion_definition
        )
        flags = conn.execute(
            "SELECT report_date, account_timezone, is_settled FROM raw.meta_ads_insights WHERE metric = 'spend' "
            "ORDER BY report_date"
        ).fetchall()
    assert pulled.settled_before == D(2026, 1, 8)
    assert flags == [(D(2026, 1, d), "Asia/Ho_Chi_Minh", d < 8) for d in range(1, 11)]


def test_days_stored_under_an_older_time_zone_are_not_rebased(tmp_path: Path) -> None:
    """GA4 reports in the property's current zone and never re-buckets history. After the zone changes from
    Los Angeles to Ho Chi Minh City, the nightly re-pull replaces only its look-back window: the days before
    keep their values and their old zone, the re-pulled ones carry the new zone."""
    rows = [(f"202603{d:02d}", "111", "A", "Paid Search", "google / cpc", 100 + d, 0.0, 0.0) for d in range(1, 11)]
    metrics = ["sessions", "key_events", "revenue"]
    with FakeGa4Server() as fake, db.connect(tmp_path / "okr.duckdb") as conn:
        storage.ensure_schema(conn)
        fake.properties[PROPERTY] = FakeProperty(table(rows), time_zone="America/Los_Angeles")
        cfg = config(fake)
        first = pull_window(None, D(2026, 3, 10), cfg.lookback_days, D(2026, 3, 1))
        storage.replace_source_window(
            conn, "ga4", "web", storage.to_long(fetch_daily(cfg, *first).frame, "web", metrics), first
        )

        later = [(*r[:5], r[5] + 1000, *r[6:]) for r in rows]  # the same days as counted in the new zone
        fake.properties[PROPERTY] = FakeProperty(table(later), time_zone="Asia/Ho_Chi_Minh")
        nightly = pull_window(D(2026, 3, 10), D(2026, 3, 10), cfg.lookback_days, D(2026, 3, 1))
        storage.replace_source_window(
            conn, "ga4", "web", storage.to_long(fetch_daily(cfg, *nightly).frame, "web", metrics), nightly
        )
        stored = conn.execute(
            "SELECT report_date, account_timezone, value FROM raw.ga4_reports WHERE metric = 'sessions' ORDER BY 1"
        ).fetchall()
    assert nightly == (D(2026, 3, 4), D(2026, 3, 10))
    old, new = "America/Los_Angeles", "Asia/Ho_Chi_Minh"
    assert [(d.day, tz, int(v)) for d, tz, v in stored] == [
        *[(d, old, 100 + d) for d in range(1, 4)],
        *[(d, new, 1100 + d) for d in range(4, 11)],
    ]
