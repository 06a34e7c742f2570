"""GA4 source: daily campaign metrics at the unified grain, and distinct counts over whole periods.

`fetch_daily` reads additive metrics per property-local day, campaign, channel and source/medium;
`fetch_period` reads metrics that do not add up over days (users) for a whole KR window; `pull_window`
decides which days a run must (re)read, because GA4 keeps restating the last days. No dagster here: the
pipeline calls these and writes what they return.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import pandas as pd
from google.analytics.data_v1beta import BetaAnalyticsDataClient

from connectors.ga4_client import Ga4Caller, build_client
from connectors.ga4_config import Ga4Config, Ga4Dimensions, Ga4RetryPolicy, check_additive, check_field_names
from connectors.ga4_decode import DecodeError, ReportFacts, decode, join_groups
from connectors.ga4_frame import TEXT, daily_frame, period_frame
from connectors.ga4_paging import ReportQuery, RowCountChanged, fetch_all, plan
from connectors.ga4_quota import QuotaMeter

__all__ = [
    "Ga4Config",
    "Ga4Dimensions",
    "Ga4Load",
    "Ga4RetryPolicy",
    "fetch_daily",
    "fetch_period",
    "fetch_period_by",
    "pull_window",
]

log = logging.getLogger(__name__)
Sleep = Callable[[float], None]


@dataclass
class Ga4Load:
    """The rows of one load and what an analyst should know about them.

    `frame` (daily): report_date (property-local `datetime.date`), platform "ga4", account_id (property id),
    campaign_id (`sessionCampaignId`, "(not set)" when empty), campaign_name, channel, source_medium,
    currency_code, account_timezone, source_rows (GA4 rows summed into the grain row), then one float64 column
    per catalogue metric in natural units (money in currency units, 6 decimals at most). GA4 does not return
    a row whose metrics are all zero: a day or campaign missing from the frame means 0, not missing data.
    NaN never stands for 0.
    """

    frame: pd.DataFrame
    property_id: str
    start: dt.date
    end: dt.date
    rows: int  # GA4 rows received (after joining metric groups), = frame.source_rows.sum() for daily loads
    requests: int  # API calls that answered (a batch of up to five reports is one call)
    reports: int  # report pages received
    retries: int  # attempts that failed with a retryable fault and were retried
    tokens_consumed: int
    tokens_remaining_hour: int | None
    tokens_remaining_project_hour: int | None
    tokens_remaining_day: int | None
    throttle_pauses: int
    throttle_seconds: float
    sampled: bool
    sampling_ratio: float | None  # lowest samplesReadCount / samplingSpaceSize; None when nothing was sampled
    thresholded: bool
    data_loss_from_other_row: bool
    currency_code: str | None
    time_zone: str | None


def fetch_daily(
    config: Ga4Config,
    start: dt.date,
    end: dt.date,
    client: BetaAnalyticsDataClient | None = None,
    *,
    sleep: Sleep = time.sleep,
) -> Ga4Load:
    """Every mapped metric per day, campaign, channel and source/medium for start..end (property-local days).

    Refuses distinct counts and ratios (they cannot be summed over days) before sending anything.
    """
    check_additive(config, config.metrics)
    dims = list(config.dimensions.by_column().values())
    queries = plan(start, end, dims, list(config.metrics.values()), config.chunk_days)
    raw, facts, meter = _run(config, queries, dims, client, sleep)
    try:
        frame = daily_frame(config, raw, facts)
    except DecodeError as exc:
        raise config.error(str(exc)) from None
    return _load(config, (start, end), frame, len(raw), facts, meter)


def fetch_period_by(
    config: Ga4Config,
    start: dt.date,
    end: dt.date,
    metrics: Mapping[str, str] | Iterable[str],
    by: Iterable[str] = (),
    client: BetaAnalyticsDataClient | None = None,
    *,
    sleep: Sleep = time.sleep,
) -> Ga4Load:
    """Metrics over the whole window with no date dimension, one row per combination of `by`.

    `metrics` maps catalogue name → GA4 metric (or lists GA4 names); `by` takes grain columns (campaign_id,
    campaign_name, channel, source_medium). Its frame has period_start, period_end, platform, account_id, the
    `by` columns, currency_code, account_timezone and one float64 column per metric.
    """
    wanted = _metric_map(metrics)
    by = list(by)
    config.fail_unless(bool(wanted), "fetch_period needs at least one metric")
    check_field_names(config, list(wanted.values()))
    unknown = [column for column in by if column not in TEXT]
    config.fail_unless(not unknown, f"cannot break a period down by {unknown}; use some of {TEXT}", "by")
    dims = [config.dimensions.by_column()[column] for column in by]
    queries = plan(start, end, dims, list(wanted.values()), None)
    raw, facts, meter = _run(config, queries, dims, client, sleep)
    frame = period_frame(config, raw, facts, (start, end), by, wanted)
    return _load(config, (start, end), frame, len(raw), facts, meter)


def fetch_period(
    config: Ga4Config,
    start: dt.date,
    end: dt.date,
    metrics: Mapping[str, str] | Iterable[str],
    client: BetaAnalyticsDataClient | None = None,
    *,
    sleep: Sleep = time.sleep,
) -> dict[str, float]:
    """{metric: value} for the whole window, e.g. distinct users in a KR period (not a sum of daily users).

    GA4 returns no row when every value is zero, so that case is 0.0 for each metric.
    """
    wanted = _metric_map(metrics)
    frame = fetch_period_by(config, start, end, wanted, (), client, sleep=sleep).frame
    return {name: float(frame[name].iloc[0]) if len(frame) else 0.0 for name in wanted}


def _metric_map(metrics: Mapping[str, str] | Iterable[str]) -> dict[str, str]:
    """{catalogue name: GA4 metric}; a plain list of GA4 names keeps each name as its own key."""
    return dict(metrics) if isinstance(metrics, Mapping) else {name: name for name in metrics}


def pull_window(
    last_loaded: dt.date | None, as_of: dt.date, lookback_days: int, first_day: dt.date
) -> tuple[dt.date, dt.date]:
    """Days a run must (re)read: everything from `first_day` on a first run; later, what is missing plus the
    last `lookback_days` days through `as_of`, because GA4 restates recent days. Never starts before `first_day`.
    """
    if lookback_days < 1:
        raise ValueError(f"lookback_days must be at least 1, not {lookback_days}")
    if as_of < first_day:
        raise ValueError(f"as_of {as_of} is before the first day {first_day}")
    if last_loaded is None:
        return first_day, as_of
    start = min(last_loaded + dt.timedelta(days=1), as_of - dt.timedelta(days=lookback_days - 1))
    return max(start, first_day), as_of


def _run(
    config: Ga4Config,
    queries: list[ReportQuery],
    dims: list[str],
    client: BetaAnalyticsDataClient | None,
    sleep: Sleep,
) -> tuple[pd.DataFrame, ReportFacts, QuotaMeter]:
    """Send every page, decode it, join metric groups per date chunk; any inconsistency fails the load."""
    meter = QuotaMeter(config.min_hourly_tokens, config.throttle_pause_seconds, sleep)
    caller = Ga4Caller(config, client if client is not None else build_client(config), meter)
    facts = ReportFacts()
    try:
        reports = fetch_all(queries, config.page_size, caller.run)
        chunks: dict[tuple[dt.date, dt.date], list[pd.DataFrame]] = {}
        for report in reports:
            chunks.setdefault((report.query.start, report.query.end), []).append(decode(report, facts))
    except (RowCountChanged, DecodeError) as exc:
        raise config.error(str(exc)) from None
    raw = pd.concat([join_groups(frames, dims) for frames in chunks.values()], ignore_index=True)
    return raw, facts, meter


def _load(
    config: Ga4Config,
    window: tuple[dt.date, dt.date],
    frame: pd.DataFrame,
    rows: int,
    facts: ReportFacts,
    meter: QuotaMeter,
) -> Ga4Load:
    load = Ga4Load(
        frame=frame,
        property_id=config.property_id,
        start=window[0],
        end=window[1],
        rows=rows,
        requests=meter.requests,
        reports=meter.reports,
        retries=meter.retries,
        tokens_consumed=meter.tokens_consumed,
        tokens_remaining_hour=meter.tokens_remaining_hour,
        tokens_remaining_project_hour=meter.tokens_remaining_project_hour,
        tokens_remaining_day=meter.tokens_remaining_day,
        throttle_pauses=len(meter.pauses),
        throttle_seconds=float(sum(meter.pauses)),
        sampled=facts.sampled,
        sampling_ratio=facts.sampling_ratio,
        thresholded=facts.thresholded,
        data_loss_from_other_row=facts.data_loss_from_other_row,
        currency_code=facts.currency_code,
        time_zone=facts.time_zone,
    )
    log.info(
        "GA4 %s property %s %s..%s: %d rows, %d calls, %d retries, %d tokens",
        config.name,
        config.property_id,
        window[0],
        window[1],
        rows,
        load.requests,
        load.retries,
        load.tokens_consumed,
    )
    return load
