"""Currency conversion in the mart, on a real DuckDB file: a USD Google Ads account and a VND Meta account.

Rates (1 USD in VND): 1 Jan 25,000 · 2 Jan 25,100 · (3 Jan missing: the 2 Jan rate applies) · 4 Jan 25,300.
Google Ads spends 10.00 USD a day, Meta 250,000 VND a day, one purchase each per day, 1-4 January.
In VND: Google 250,000 + 251,000 + 251,000 + 253,000 = 1,005,000; Meta 1,000,000; CPA 2,005,000 / 8.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from pipelines.lib import db, storage
from pipelines.lib.fx import FxError
from pipelines.lib.mart import build_mart
from pipelines.lib.scoring import score_all
from tests.pipelines.lib.unify_data import build_warehouse, make_defs

D = dt.date
REPORTING = """
reporting_currency: VND
fx_rates:
  path: data/rates.csv
"""
SOURCES = """
sources:
  google_ads:
    type: file
    path: data/google.csv
    platform: google_ads
    account_id: "5550001234"
    currency: USD
    date: {column: date}
    campaign_id: campaign_id
    campaign_name: campaign
    channel: Paid Search
    metrics: {spend: cost, conversions: conversions, clicks: clicks}
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
    metrics: {spend: cost, conversions: conversions, clicks: clicks}
"""
METRICS = """
metrics:
  spend: {agg: sum, unit: currency}
  conversions: {agg: sum}
  clicks: {agg: sum}
  cpa: {ratio: [spend, conversions], unit: currency}
"""
OBJECTIVES = """
objectives:
  - id: paid
    title: One CPA across currencies
    period: {start: 2026-01-01, end: 2026-01-31}
    key_results:
      - {id: cpa, metric: cpa, baseline: 300000, target: 200000}
      - {id: google-cpa, metric: cpa, filters: {platform: google_ads}, baseline: 300000, target: 200000}
      - {id: meta-cpa, metric: cpa, filters: {platform: meta_ads}, baseline: 300000, target: 200000}
"""
RATES = "date,from,to,rate\n2026-01-01,USD,VND,25000\n2026-01-02,USD,VND,25100\n2026-01-04,usd,vnd,25300\n"
DAYS = [f"2026-01-0{d}" for d in range(1, 5)]
GOOGLE = "date,campaign_id,campaign,cost,conversions,clicks\n" + "".join(
    f"{d},111,Tết Search,10.00,1,5\n" for d in DAYS
)
META = "date,campaign_id,campaign,cost,conversions,clicks\n" + "".join(f"{d},555,Tết Lì xì,250000,1,40\n" for d in DAYS)


def files(reporting: str = REPORTING, rates: str = RATES) -> dict[str, str]:
    return {
        "sources.yaml": reporting + SOURCES,
        "metrics.yaml": METRICS,
        "objectives/o.yaml": OBJECTIVES,
        "data/google.csv": GOOGLE,
        "data/meta.csv": META,
        "data/rates.csv": rates,
    }


def test_money_takes_the_days_rate_or_the_latest_earlier_one(tmp_path: Path) -> None:
    _defs, path = build_warehouse(tmp_path, files())
    with db.connect(path, read_only=True) as conn:
        google = conn.execute(
            "SELECT report_date, currency_code, value, original_currency_code, original_value, fx_rate, fx_rate_date "
            "FROM marts.campaign_daily_metrics WHERE source = 'google_ads' AND metric = 'spend' ORDER BY report_date"
        ).fetchall()
        clicks = conn.execute(
            "SELECT DISTINCT currency_code, value, original_currency_code, fx_rate FROM marts.campaign_daily_metrics "
            "WHERE source = 'google_ads' AND metric = 'clicks'"
        ).fetchall()
        meta = conn.execute(
            "SELECT DISTINCT currency_code, value, original_value, fx_rate, fx_rate_date FROM marts.campaign_daily_metrics "
            "WHERE source = 'meta' AND metric = 'spend'"
        ).fetchall()
        raw = conn.execute(
            "SELECT DISTINCT currency_code, value FROM raw.file_exports WHERE source = 'google_ads' AND metric = 'spend'"
        ).fetchall()
        rates = conn.execute("SELECT count(*), min(line), max(line) FROM raw.fx_rates").fetchone()
        wide = conn.execute(
            "SELECT sum(spend_micros), any_value(currency_code), any_value(original_currency_code) "
            "FROM marts.campaign_daily WHERE source = 'google_ads'"
        ).fetchone()
    d = Decimal
    assert google == [
        (D(2026, 1, 1), "VND", d("250000.000000"), "USD", d("10.000000"), 25000.0, D(2026, 1, 1)),
        (D(2026, 1, 2), "VND", d("251000.000000"), "USD", d("10.000000"), 25100.0, D(2026, 1, 2)),
        (D(2026, 1, 3), "VND", d("251000.000000"), "USD", d("10.000000"), 25100.0, D(2026, 1, 2)),  # no 3 Jan rate
        (D(2026, 1, 4), "VND", d("253000.000000"), "USD", d("10.000000"), 25300.0, D(2026, 1, 4)),
    ]
    assert clicks == [("VND", d("5.000000"), "USD", None)]  # a count is not converted, its grain is relabelled
    assert meta == [("VND", d("250000.000000"), d("250000.000000"), 1.0, None)]
    assert raw == [("USD", d("10.000000"))]  # the raw layer keeps what the platform reported
    assert rates == (3, 2, 4)
    assert wide == (1_005_000 * 1_000_000, "VND", "USD")


def test_one_cpa_in_the_reporting_currency(tmp_path: Path) -> None:
    defs, path = build_warehouse(tmp_path, files())
    with db.connect(path) as conn:
        krs = score_all(conn, defs, D(2026, 1, 4)).kr_scores.set_index("kr_id")
    assert krs.loc["cpa", "actual"] == 2_005_000 / 8
    assert krs.loc["google-cpa", "actual"] == 1_005_000 / 4
    assert krs.loc["meta-cpa", "actual"] == 250_000.0
    assert set(krs["currency_code"]) == {"VND"} and "invalid" not in set(krs["status"])


def test_without_a_reporting_currency_a_kr_mixing_currencies_is_invalid(tmp_path: Path) -> None:
    defs, path = build_warehouse(tmp_path, files(reporting=""))
    with db.connect(path) as conn:
        krs = score_all(conn, defs, D(2026, 1, 4)).kr_scores.set_index("kr_id")
        kept = conn.execute(
            "SELECT DISTINCT source, currency_code, fx_rate FROM marts.campaign_daily_metrics ORDER BY source"
        ).fetchall()
    assert (krs.loc["cpa", "status"], krs.loc["cpa", "note"]) == ("invalid", "rows in several currencies: USD, VND")
    assert (krs.loc["google-cpa", "actual"], krs.loc["google-cpa", "currency_code"]) == (10.0, "USD")
    assert kept == [("google_ads", "USD", None), ("meta", "VND", None)]


def test_rates_quoted_the_other_way_round_are_inverted(tmp_path: Path) -> None:
    defs, path = build_warehouse(tmp_path, files(reporting=REPORTING.replace("VND", "USD")))
    with db.connect(path) as conn:
        meta = conn.execute(
            "SELECT report_date, value, fx_rate, fx_rate_date FROM marts.campaign_daily_metrics "
            "WHERE source = 'meta' AND metric = 'spend' ORDER BY report_date"
        ).df()
        krs = score_all(conn, defs, D(2026, 1, 4)).kr_scores.set_index("kr_id")
    assert meta["fx_rate"].tolist() == [1 / 25000, 1 / 25100, 1 / 25100, 1 / 25300]
    assert [float(v) for v in meta["value"]] == [10.0, 9.960159, 9.960159, 9.881423]  # rounded to micros
    assert krs.loc["google-cpa", "actual"] == 10.0 and krs.loc["google-cpa", "currency_code"] == "USD"
    assert krs.loc["cpa", "actual"] == pytest.approx((40 + 10.0 + 2 * 9.960159 + 9.881423) / 8, abs=1e-9)


def test_a_day_without_any_rate_fails_naming_source_currency_and_dates(tmp_path: Path) -> None:
    _defs, path = build_warehouse(tmp_path, files())
    late = files(rates="date,from,to,rate\n2026-01-03,USD,VND,25100\n")
    broken = make_defs(tmp_path / "okr_defs", {"data/rates.csv": late["data/rates.csv"]})
    with db.connect(path) as conn:
        before = conn.execute("SELECT sum(value), count(*) FROM marts.campaign_daily_metrics").fetchone()
        with pytest.raises(FxError) as caught:
            build_mart(conn, broken)
        after = conn.execute("SELECT sum(value), count(*) FROM marts.campaign_daily_metrics").fetchone()
        rates = conn.execute("SELECT count(*) FROM raw.fx_rates").fetchone()[0]
    assert str(caught.value) == (
        "cannot convert money into the reporting currency VND (rates from fx_rates data/rates.csv):\n"
        "source 'google_ads': no USD->VND rate on or before 2026-01-02 in fx_rates data/rates.csv "
        "(2 day(s) of USD money: 2026-01-01..2026-01-02)"
    )
    assert after == before and rates == 3  # one transaction: the previous mart and rates are intact


def test_a_rate_older_than_max_age_days_is_an_error(tmp_path: Path) -> None:
    reporting = REPORTING + "  max_age_days: 2\n"
    with pytest.raises(FxError) as caught:
        build_warehouse(tmp_path, files(reporting=reporting, rates="date,from,to,rate\n2026-01-01,USD,VND,25000\n"))
    assert caught.value.problems == [
        "source 'google_ads': the latest USD->VND rate for 2026-01-04 is from 2026-01-01, 3 days earlier "
        "(max_age_days: 2; 1 day(s) affected)"
    ]


def test_money_without_a_currency_is_never_relabelled(tmp_path: Path) -> None:
    """A source that reports no currency (here written straight to the raw layer) cannot be converted."""
    frame = pd.DataFrame(
        {
            "platform": ["tiktok_ads"],
            "account_id": ["7"],
            "campaign_id": ["1"],
            "campaign_name": ["c"],
            "channel": ["Paid Social"],
            "source_medium": ["(not set)"],
            "report_date": [D(2026, 1, 1)],
            "currency_code": [None],
            "account_timezone": ["UTC"],
            "source_rows": [1],
            "spend": [5.0],
        }
    )
    with db.connect(tmp_path / "w.duckdb") as conn:
        storage.ensure_schema(conn)
        storage.replace_source_window(
            conn, "file", "tiktok", storage.to_long(frame, "tiktok", ["spend"]), (D(2026, 1, 1),) * 2
        )
        with pytest.raises(FxError) as caught:
            storage.rebuild_mart(conn, ["tiktok"], storage.MartSettings(reporting_currency="VND"))
    assert caught.value.problems == [
        "source 'tiktok': money rows from 2026-01-01 have no currency (1 day(s)); "
        "set the source's currency so they can be converted"
    ]
