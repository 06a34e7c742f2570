"""Seeded, deterministic demo exports for a Ho Chi Minh City marketing team running a Tết campaign.

The demo must look like real exports so that the connectors, the scoring and the dashboards are
exercised the way a customer's data would exercise them: each file keeps its platform's quirks
(GA4 YYYYMMDD dates; Google Ads ISO days and fractional data-driven conversions; a Meta export saved
by Excel in Vietnam with a BOM, semicolons, CRLF and day-first dates). Every number comes from one
calendar of demand (growth, weekdays, mega-sale days and the Tết peak and holiday) so that platforms
and GA4 agree in shape while platforms over-attribute, as they do in practice. Amounts are VND.

All randomness comes from one `numpy.random.default_rng(seed)` drawn in a fixed order, so the same
seed gives byte-identical files whatever the current date, locale or machine.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

DEMO_START: dt.date = dt.date(2024, 8, 23)
DEMO_AS_OF: dt.date = dt.date(2026, 2, 22)  # last day of data, inclusive (18 months)
TET_DAYS: dict[int, dt.date] = {2025: dt.date(2025, 1, 29), 2026: dt.date(2026, 2, 17)}

NOT_SET = "(not set)"
YOY_GROWTH = 0.28  # demand and budgets grow ~28 % a year
BASE_AOV = 580_000  # VND per order outside the Tết season
WEEKLY = np.array([1.00, 0.98, 0.97, 0.98, 0.95, 1.14, 1.20])  # Mon..Sun: VN e-commerce peaks at weekends
MEGA_SALE_LIFT = 1.3  # 9.9, 10.10, 11.11 and 12.12 marketplace sale days
MISSING_REVENUE_ROWS = 4  # GA4 rows whose purchaseRevenue is left empty

GA4_HEADER = [
    "date",
    "sessionCampaignId",
    "sessionCampaignName",
    "sessionDefaultChannelGroup",
    "sessions",
    "keyEvents",
    "purchaseRevenue",
]
GOOGLE_HEADER = [
    "Day",
    "Campaign ID",
    "Campaign",
    "Cost",
    "Impressions",
    "Clicks",
    "Conversions",
    "Conv. value",
]
META_HEADER = [
    "Reporting starts",
    "Campaign ID",
    "Campaign name",
    "Amount spent (VND)",
    "Impressions",
    "Link clicks",
    "Purchases",
    "Purchases conversion value",
]


@dataclass(frozen=True)
class _Calendar:
    """Per-day drivers shared by every series, aligned on `dates` (DEMO_START..DEMO_AS_OF)."""

    dates: pd.DatetimeIndex
    weekly: np.ndarray  # weekday multiplier
    growth: np.ndarray  # year-over-year growth multiplier, 1.0 at DEMO_START
    season: np.ndarray  # Tết ramp/holiday/recovery times mega-sale days
    tet_peak: np.ndarray  # 0..1: how close the day is to the pre-Tết shopping peak
    holiday: np.ndarray  # bool: Tết−1..Tết+4, when shops and couriers stop
    aov: np.ndarray  # VND per order before channel adjustments


@dataclass(frozen=True)
class _Traffic:
    """An unattributed GA4 channel: how many sessions it brings and how they convert."""

    channel: str
    sessions: float  # sessions/day at DEMO_START on an ordinary Monday
    lift: float  # elasticity to the seasonal demand curve
    cvr: float  # purchases per session
    aov_factor: float


@dataclass(frozen=True)
class _Campaign:
    """An ad campaign: its budget drives clicks, which land as GA4 sessions that convert."""

    campaign_id: str
    name: str
    channel: str  # GA4 sessionDefaultChannelGroup of its traffic
    start: dt.date
    end: dt.date
    spend: float  # VND/day at DEMO_START demand
    lift: float  # elasticity of the budget to the seasonal demand curve
    cpc: float  # VND per click at ordinary demand
    ctr: float
    landing: float  # GA4 sessions per click (tracking loss, bounces before the tag fires)
    cvr: float  # GA4 purchases per session
    aov_factor: float
    over_attribution: float  # platform conversions per GA4 purchase


GOOGLE_CAMPAIGNS: tuple[_Campaign, ...] = (
    _Campaign(
        "20481736592",
        "Search - Brand",
        "Paid Search",
        DEMO_START,
        DEMO_AS_OF,
        5_000_000,
        0.6,
        3_000,
        0.058,
        0.87,
        0.034,
        1.00,
        1.12,
    ),
    _Campaign(
        "20481736815",
        "Search - Generic",
        "Paid Search",
        DEMO_START,
        DEMO_AS_OF,
        11_000_000,
        0.6,
        5_500,
        0.031,
        0.87,
        0.028,
        1.00,
        1.18,
    ),
    _Campaign(
        "21957302461",
        "PMax - Tết 2025",
        "Paid Search",
        dt.date(2024, 12, 1),
        dt.date(2025, 2, 15),
        5_000_000,
        1.3,
        3_800,
        0.013,
        0.87,
        0.026,
        1.05,
        1.25,
    ),
    _Campaign(
        "22718840357",
        "PMax - Tết 2026",
        "Paid Search",
        dt.date(2025, 12, 1),
        DEMO_AS_OF,
        5_000_000,
        1.3,
        3_800,
        0.013,
        0.87,
        0.026,
        1.05,
        1.25,
    ),
    _Campaign(
        "9836412075",
        "YouTube - Tết 2026 Awareness",
        "Paid Video",
        dt.date(2026, 1, 5),
        dt.date(2026, 2, 16),
        2_500_000,
        0.5,
        5_500,
        0.005,
        0.80,
        0.010,
        1.10,
        1.30,
    ),
)
META_CAMPAIGNS: tuple[_Campaign, ...] = (
    _Campaign(
        "120208847316550042",
        "Prospecting - Always on",
        "Paid Social",
        DEMO_START,
        DEMO_AS_OF,
        7_000_000,
        0.5,
        3_500,
        0.009,
        0.78,
        0.018,
        0.92,
        1.30,
    ),
    _Campaign(
        "120208847316550187",
        'Retargeting - "Giỏ hàng", Always on',
        "Paid Social",
        DEMO_START,
        DEMO_AS_OF,
        4_000_000,
        0.6,
        4_500,
        0.017,
        0.78,
        0.038,
        0.95,
        1.22,
    ),
    _Campaign(
        "120215093382710356",
        "Tết 2025 - Lì xì Sale",
        "Paid Social",
        dt.date(2024, 12, 10),
        dt.date(2025, 2, 10),
        5_000_000,
        1.3,
        3_200,
        0.014,
        0.78,
        0.024,
        1.00,
        1.25,
    ),
    _Campaign(
        "120236661049820773",
        "Tết 2026 - Lì xì Sale",
        "Paid Social",
        dt.date(2025, 12, 15),
        DEMO_AS_OF,
        5_000_000,
        1.3,
        3_200,
        0.014,
        0.78,
        0.024,
        1.00,
        1.25,
    ),
)
ORGANIC: tuple[_Traffic, ...] = (
    _Traffic("Direct", 2_200, 0.7, 0.026, 1.05),
    _Traffic("Organic Search", 3_000, 0.9, 0.017, 1.00),
    _Traffic("Organic Social", 900, 1.0, 0.009, 0.90),
    _Traffic("Referral", 350, 0.6, 0.020, 0.95),
)
EMAIL_TET = ("email-tet-2026", "Bản tin Tết 2026", dt.date(2026, 1, 5), dt.date(2026, 2, 16))
EMAIL_NEWSLETTER = ("email-newsletter", "Newsletter")


def write_demo_exports(out_dir: Path, seed: int = 2026) -> dict[str, Path]:
    """Write ga4_sessions.csv, google_ads_campaigns.csv, meta_ads_campaigns.csv into out_dir (created if
    missing); return {"ga4": path, "google_ads": path, "meta_ads": path}."""
    rng = np.random.default_rng(seed)
    cal = _calendar()
    google = [_paid_daily(rng, cal, c, fractional=True) for c in GOOGLE_CAMPAIGNS]
    meta = [_paid_daily(rng, cal, c, fractional=False) for c in META_CAMPAIGNS]
    unattributed = [_organic_daily(rng, cal, t) for t in ORGANIC] + [_email_daily(rng, cal)]
    ga4 = _blank_some_revenue(rng, _stack([*google, *meta, *unattributed]))
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "ga4": out_dir / "ga4_sessions.csv",
        "google_ads": out_dir / "google_ads_campaigns.csv",
        "meta_ads": out_dir / "meta_ads_campaigns.csv",
    }
    _write(paths["ga4"], GA4_HEADER, _ga4_cells(ga4))
    _write(paths["google_ads"], GOOGLE_HEADER, _google_cells(_stack(google)))
    _write(
        paths["meta_ads"],
        META_HEADER,
        _meta_cells(_stack(meta)),
        delimiter=";",
        encoding="utf-8-sig",
        lineterminator="\r\n",
    )
    return paths


# --- calendar -------------------------------------------------------------------------------------


def _calendar() -> _Calendar:
    """Build the demand drivers once so every series moves with the same seasons."""
    dates = pd.date_range(DEMO_START, DEMO_AS_OF, freq="D")
    days = (dates - pd.Timestamp(DEMO_START)).days.to_numpy()
    bump, holiday, recovery = _tet_shape(dates)
    mega = (dates.month >= 9) & (dates.month == dates.day)
    season = (1 + 1.2 * bump) * np.where(holiday, 0.35, 1.0) * recovery * np.where(mega, MEGA_SALE_LIFT, 1.0)
    growth = (1 + YOY_GROWTH) ** (days / 365.25)
    aov = BASE_AOV * (1 + 0.04 * days / 365.25) * (1 + 0.45 * bump) * np.where(holiday, 0.95, 1.0)
    return _Calendar(
        dates=dates,
        weekly=WEEKLY[dates.weekday.to_numpy()],
        growth=growth,
        season=season,
        tet_peak=bump,
        holiday=holiday,
        aov=aov,
    )


def _tet_shape(dates: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tết pre-holiday bump (0..1), holiday mask and post-holiday recovery multiplier.

    Shoppers buy gifts, clothes and food over the ~4 weeks before Tết, peaking about 8 days before when
    couriers still guarantee delivery; from Tết−1 to Tết+4 almost nobody buys, then demand comes back
    over about ten days.
    """
    bump = np.zeros(len(dates))
    holiday = np.zeros(len(dates), dtype=bool)
    recovery = np.ones(len(dates))
    for year in sorted(TET_DAYS):
        offset = (dates - pd.Timestamp(TET_DAYS[year])).days.to_numpy()
        width = np.where(offset < -8, 9.0, 3.5)  # slow ramp up, fast fall-off after the delivery cut-off
        bump += np.where(offset <= -2, np.exp(-0.5 * ((offset + 8) / width) ** 2), 0.0)
        holiday |= (offset >= -1) & (offset <= 4)
        back = (offset >= 5) & (offset <= 14)
        recovery = np.where(back, 0.55 + 0.45 * (offset - 5) / 9, recovery)
    return bump, holiday, recovery


def _lognormal(rng: np.random.Generator, sigma: float, n: int) -> np.ndarray:
    """Multiplicative day-to-day noise with mean 1, so noise never shifts the planned totals."""
    return rng.lognormal(-0.5 * sigma**2, sigma, n)


def _conversion_rate(cal: _Calendar, base: float) -> np.ndarray:
    """Purchases per session: higher at weekends and before Tết, low while couriers are on holiday."""
    weekend = np.where(cal.weekly > 1.05, 1.05, 1.0)
    return base * weekend * (1 + 0.2 * cal.tet_peak) * np.where(cal.holiday, 0.6, 1.0)


def _revenue(rng: np.random.Generator, orders: np.ndarray, aov: np.ndarray) -> np.ndarray:
    """Order revenue in whole thousands of VND; the average of k orders varies less than one order."""
    spread = 0.45 / np.sqrt(np.maximum(orders, 1))
    value = orders * aov * np.exp(rng.normal(0.0, 1.0, len(orders)) * spread - 0.5 * spread**2)
    return (np.rint(value / 1000) * 1000).astype(np.int64)


# --- series ---------------------------------------------------------------------------------------


def _paid_daily(rng: np.random.Generator, cal: _Calendar, c: _Campaign, *, fractional: bool) -> pd.DataFrame:
    """One campaign's platform metrics and the GA4 sessions/purchases its clicks produce, per live day.

    Draws cover every calendar day before the live window is cut so that adding a campaign or moving its
    dates never changes another series' numbers.
    """
    n = len(cal.dates)
    spend = c.spend * cal.growth * cal.season**c.lift * cal.weekly**0.5 * _lognormal(rng, 0.10, n)
    cpc = c.cpc * cal.season**0.2 * _lognormal(rng, 0.08, n)  # auctions get dearer when demand is high
    clicks = np.maximum(np.rint(spend / cpc), 1).astype(np.int64)
    ctr = c.ctr * (1 + 0.15 * cal.tet_peak) * _lognormal(rng, 0.07, n)
    sessions = rng.poisson(clicks * c.landing)
    orders = rng.poisson(sessions * _conversion_rate(cal, c.cvr))
    revenue = _revenue(rng, orders, cal.aov * c.aov_factor)
    credit = c.over_attribution * _lognormal(rng, 0.12, n)
    if fractional:  # data-driven attribution hands out fractions of a conversion
        conversions = np.round(np.maximum(orders * credit + rng.normal(0.0, 0.4, n), 0.0), 2)
    else:
        conversions = rng.poisson(orders * credit).astype(float)
    order_value = np.where(orders > 0, revenue / np.maximum(orders, 1), cal.aov * c.aov_factor)
    frame = pd.DataFrame(
        {
            "date": cal.dates,
            "campaign_id": c.campaign_id,
            "campaign": c.name,
            "channel": c.channel,
            "cost": np.rint(spend).astype(np.int64),
            "impressions": np.rint(clicks / ctr).astype(np.int64),
            "clicks": clicks,
            "sessions": sessions,
            "key_events": orders,
            "revenue": revenue,
            "conversions": conversions,
            "conv_value": np.rint(conversions * order_value * _lognormal(rng, 0.05, n)).astype(np.int64),
        }
    )
    live = (cal.dates >= pd.Timestamp(c.start)) & (cal.dates <= pd.Timestamp(c.end))
    return frame[live].reset_index(drop=True)


def _organic_daily(rng: np.random.Generator, cal: _Calendar, t: _Traffic) -> pd.DataFrame:
    """GA4 rows for a channel no campaign claims, so GA4 reports its campaign as (not set)."""
    n = len(cal.dates)
    expected = t.sessions * cal.growth * cal.weekly * cal.season**t.lift * _lognormal(rng, 0.06, n)
    sessions = rng.poisson(expected)
    orders = rng.poisson(sessions * _conversion_rate(cal, t.cvr))
    return pd.DataFrame(
        {
            "date": cal.dates,
            "campaign_id": NOT_SET,
            "campaign": NOT_SET,
            "channel": t.channel,
            "sessions": sessions,
            "key_events": orders,
            "revenue": _revenue(rng, orders, cal.aov * t.aov_factor),
        }
    )


def _email_daily(rng: np.random.Generator, cal: _Calendar) -> pd.DataFrame:
    """Email sessions spike on send days: Tue/Fri newsletters, Mon/Wed/Fri during the Tết 2026 sends."""
    tet_id, tet_name, tet_start, tet_end = EMAIL_TET
    in_tet = (cal.dates >= pd.Timestamp(tet_start)) & (cal.dates <= pd.Timestamp(tet_end))
    weekday = cal.dates.weekday.to_numpy()
    sent = np.where(in_tet, np.isin(weekday, [0, 2, 4]), np.isin(weekday, [1, 4]))
    blast = sent * np.where(in_tet, 1_300 * (1 + 0.5 * cal.tet_peak), 1_000.0)
    late_opens = np.concatenate([[0.0], blast[:-1]]) * 0.25
    expected = cal.growth * (110 + blast + late_opens) * _lognormal(rng, 0.10, len(cal.dates))
    sessions = rng.poisson(expected)
    orders = rng.poisson(sessions * _conversion_rate(cal, 0.032))
    return pd.DataFrame(
        {
            "date": cal.dates,
            "campaign_id": np.where(in_tet, tet_id, EMAIL_NEWSLETTER[0]),
            "campaign": np.where(in_tet, tet_name, EMAIL_NEWSLETTER[1]),
            "channel": "Email",
            "sessions": sessions,
            "key_events": orders,
            "revenue": _revenue(rng, orders, cal.aov * 1.08),
        }
    )


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate series in date order, keeping the series' listing order within a day."""
    ranked = [f.assign(_rank=i) for i, f in enumerate(frames)]
    stacked = pd.concat(ranked, ignore_index=True)
    ordered = stacked.sort_values(["date", "_rank"], kind="mergesort")
    return ordered.drop(columns="_rank").reset_index(drop=True)


def _blank_some_revenue(rng: np.random.Generator, ga4: pd.DataFrame) -> pd.DataFrame:
    """Empty a few purchaseRevenue cells of rows with purchases, as GA4 exports occasionally do."""
    candidates = np.flatnonzero(ga4["key_events"].to_numpy() > 0)
    blank = np.sort(rng.choice(candidates, size=MISSING_REVENUE_ROWS, replace=False))
    revenue = ga4["revenue"].astype("Int64")
    revenue.iloc[blank] = pd.NA
    return ga4.assign(revenue=revenue)


# --- export formats -------------------------------------------------------------------------------


def _ga4_cells(ga4: pd.DataFrame) -> list[list[str]]:
    """GA4 Data API style: YYYYMMDD dates, integer VND revenue, empty cell for a missing value."""
    revenue = ["" if pd.isna(v) else str(int(v)) for v in ga4["revenue"]]
    columns = [
        ga4["date"].dt.strftime("%Y%m%d"),
        ga4["campaign_id"],
        ga4["campaign"],
        ga4["channel"],
        ga4["sessions"].astype(str),
        ga4["key_events"].astype(str),
        revenue,
    ]
    return [list(row) for row in zip(*columns, strict=True)]


def _google_cells(google: pd.DataFrame) -> list[list[str]]:
    """Google Ads report style: ISO days, integer VND cost/value, conversions with two decimals."""
    columns = [
        google["date"].dt.strftime("%Y-%m-%d"),
        google["campaign_id"],
        google["campaign"],
        google["cost"].astype(str),
        google["impressions"].astype(str),
        google["clicks"].astype(str),
        [f"{v:.2f}" for v in google["conversions"]],
        google["conv_value"].astype(str),
    ]
    return [list(row) for row in zip(*columns, strict=True)]


def _meta_cells(meta: pd.DataFrame) -> list[list[str]]:
    """Meta Ads Manager style: day-first dates, ids kept as text (they exceed 2**53), whole purchases."""
    columns = [
        meta["date"].dt.strftime("%d/%m/%Y"),
        meta["campaign_id"],
        meta["campaign"],
        meta["cost"].astype(str),
        meta["impressions"].astype(str),
        meta["clicks"].astype(str),
        meta["conversions"].astype(np.int64).astype(str),
        meta["conv_value"].astype(str),
    ]
    return [list(row) for row in zip(*columns, strict=True)]


def _write(
    path: Path,
    header: list[str],
    rows: list[list[str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    lineterminator: str = "\n",
) -> None:
    """Write with the csv module so names holding commas or quotes are quoted the way Excel expects."""
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter, lineterminator=lineterminator)
        writer.writerow(header)
        writer.writerows(rows)
