"""Shape decoded GA4 rows into the unified grain (daily) or a per-period table (distinct counts).

GA4 answers with one row per combination of *requested* dimension values, campaign name included, so a
campaign renamed during a day comes back as two rows; the grain keys on the campaign id, so those rows are
summed into one and `source_rows` says how many GA4 rows each grain row holds.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from connectors.campaign_key import is_placeholder
from connectors.ga4_config import Ga4Config
from connectors.ga4_decode import DecodeError, ReportFacts

PLATFORM = "ga4"
NOT_SET = "(not set)"
TEXT = ["campaign_id", "campaign_name", "channel", "source_medium"]
KEY = ["report_date", "platform", "account_id", "campaign_id", "channel", "source_medium"]
LEADING = [*KEY[:4], "campaign_name", "channel", "source_medium", "currency_code", "account_timezone", "source_rows"]


def daily_frame(config: Ga4Config, raw: pd.DataFrame, facts: ReportFacts) -> pd.DataFrame:
    """One row per (report_date, platform, account_id, campaign_id, channel, source_medium).

    `(not set)` and `(other)` stay rows of their own, apart by channel and source/medium: they are real
    traffic (direct, organic, rolled-up long tail), and dropping them would understate every total.
    """
    dims = config.dimensions.by_column()
    rows = pd.DataFrame({column: _text(raw[ga4]) for column, ga4 in dims.items() if column != "report_date"})
    rows.insert(0, "report_date", _dates(raw[dims["report_date"]]))
    rows["platform"] = PLATFORM
    rows["account_id"] = config.property_id
    rows["source_rows"] = 1
    key_by_name(rows)
    for metric, ga4 in config.metrics.items():
        rows[metric] = raw[ga4].astype("float64")
    metrics = list(config.metrics)
    # campaign_name: GA4 sorted the rows by name, so 'first' is the alphabetically first name of the day.
    grouped = rows.groupby(KEY, sort=True, dropna=False)
    frame = grouped[[*metrics, "source_rows"]].sum()
    frame["campaign_name"] = grouped["campaign_name"].first()
    frame = frame.reset_index()
    _round_money(frame, config, facts)
    frame["currency_code"] = facts.currency_code
    frame["account_timezone"] = facts.time_zone
    frame["source_rows"] = frame["source_rows"].astype("int64")
    return frame[[*LEADING, *metrics]]


def key_by_name(rows: pd.DataFrame) -> None:
    """A campaign without an id (utm_campaign without utm_id: sessionCampaignId is (not set)) is keyed by its
    name, so two such campaigns on one channel stay two campaigns and can be matched to ad campaigns by
    name; only traffic with no campaign at all ((not set), (direct), ...) keeps the (not set) id."""
    no_id = rows["campaign_id"].map(is_placeholder) & ~rows["campaign_name"].map(is_placeholder)
    rows.loc[no_id, "campaign_id"] = rows.loc[no_id, "campaign_name"]


def period_frame(
    config: Ga4Config,
    raw: pd.DataFrame,
    facts: ReportFacts,
    window: tuple[dt.date, dt.date],
    by: list[str],
    metrics: dict[str, str],
) -> pd.DataFrame:
    """One row per combination of `by` values over the whole window; no date, so distinct counts stay distinct."""
    dims = config.dimensions.by_column()
    frame = pd.DataFrame({column: _text(raw[dims[column]]) for column in by}, index=raw.index)
    frame.insert(0, "period_start", window[0])
    frame.insert(1, "period_end", window[1])
    frame.insert(2, "platform", PLATFORM)
    frame.insert(3, "account_id", config.property_id)
    frame["currency_code"] = facts.currency_code
    frame["account_timezone"] = facts.time_zone
    for metric, ga4 in metrics.items():
        frame[metric] = raw[ga4].astype("float64")
    _round_money(frame, config, facts, metrics)
    return frame.sort_values(by, kind="stable").reset_index(drop=True) if by else frame.reset_index(drop=True)


def _text(values: pd.Series) -> pd.Series:
    """Dimension values as strings; an empty value is GA4's `(not set)` under another spelling."""
    text = values.astype(object).fillna("").astype(str)
    return text.mask(text == "", NOT_SET)


def _dates(values: pd.Series) -> pd.Series:
    """GA4 sends the property-local day as YYYYMMDD; kept as that day, never shifted to another zone."""
    parsed = pd.to_datetime(values, format="%Y%m%d", errors="coerce")
    if parsed.isna().any():
        bad = values[parsed.isna()].iloc[0]
        raise DecodeError(f"date {bad!r} is not YYYYMMDD")
    return pd.Series(parsed.dt.date, index=values.index, dtype=object)


def _round_money(
    frame: pd.DataFrame, config: Ga4Config, facts: ReportFacts, metrics: dict[str, str] | None = None
) -> None:
    """Sums of currency values drift in the last float digits; keep them at micros, like the API sends them."""
    for metric, ga4 in (metrics or config.metrics).items():
        if ga4 in facts.currency_metrics:
            frame[metric] = frame[metric].round(6)
