"""GA4 source: daily campaign metrics at the unified grain, and distinct counts over whole periods.

`fetch_daily` reads additive metrics per property-local day, campaign, channel and source/medium;
`fetch_period` reads metrics that do not add up over days (users) for a whole KR window, and
`fetch_periods` many such windows at once, each with its KR's filters applied by GA4 (batched five to a
call); `pull_window` decides which days a run must (re)read, because GA4 keeps restating the last days.
No dagster here: the pipeline calls these and writes what they return.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import pandas as pd
from google.analytics.data_v1beta import BetaAnalyticsDataClient

from connectors import ga4_filter
from connectors.ga4_client import Ga4Caller, build_client
from connectors.ga4_config import Ga4Config, Ga4Dimensions, Ga4RetryPolicy, check_additive, check_field_names
from connectors.ga4_decode import DecodeError, ReportFacts, decode, join_groups
from connectors.ga4_filter import FilterTerms
from connectors.ga4_frame import PLATFORM, TEXT, daily_frame, period_frame
from connectors.ga4_paging import ReportQuery, RowCountChanged, fetch_all, plan
from connectors.ga4_quota import QuotaMeter

__all__ = [
    "Ga4Config",
    "Ga4Dimensions",
    "Ga4Load",
    "Ga4RetryPolicy",
    "PeriodQuery",
    "RangeFacts",
    "fetch_daily",
    "fetch_period",
    "fetch_period_by",
    "fetch_periods",
    "pull_window",
]

log = logging.getLogger(__name__)
Sleep = Callable[[float], None]
ChunkKey = tuple[dt.date, dt.date, str | None]  # a report's date range and filter: its metric groups join
PERIOD_COLUMNS = [
    "period_start",
    "period_end",
    "platform",
    "account_id",
    "metric",
    "ga4_metric",
    "value",
    "rows",
    "dimension_filter",
    "filter_key",
    "sampled",
    "sampling_ratio",
    "thresholded",
    "data_loss_from_other_row",
    "currency_code",
    "account_timezone",
]


@dataclass(frozen=True)
class RangeFacts:
    """What GA4's metadata said about one date range of a load: a daily chunk, or one period query.

    Kept per range rather than per load, so a two-year first load with one sampled month flags that
    month's days, not two years of them.
    """

    start: dt.date
    end: dt.date
    sampled: bool
    sampling_ratio: float | None
    thresholded: bool
    data_loss_from_other_row: bool

    @classmethod
    def of(cls, start: dt.date, end: dt.date, facts: ReportFacts) -> RangeFacts:
        return cls(start, end, facts.sampled, facts.sampling_ratio, facts.thresholded, facts.data_loss_from_other_row)


@dataclass(frozen=True)
class PeriodQuery:
    """One value per metric over a whole window (no date dimension), counted by GA4 under the filters.

    `metrics` are keys of the config's `period_metrics`; `filters` are canonical terms over grain columns
    (connectors.ga4_filter.terms), sent as the report's dimensionFilter.
    """

    start: dt.date
    end: dt.date
    metrics: tuple[str, ...]
    filters: FilterTerms = ()


@dataclass
class Ga4Load:
    """The rows of one load and what an analyst should know about them.

    `frame` (daily): report_date (property-local `datetime.date`), platform "ga4", account_id (property id),
    campaign_id (`sessionCampaignId`, "(not set)" when empty), campaign_name, channel, source_medium,
    currency_code, account_timezone, source_rows (GA4 rows summed into the grain row), then one float64 column
    per catalogue metric in natural units (money in currency units, 6 decimals at most). GA4 does not return
    a row whose metrics are all zero: a day or campaign missing from the frame means 0, not missing data.
    NaN never stands for 0.

    `frame` (fetch_periods): one row per query and metric, columns PERIOD_COLUMNS; `value` is NaN when GA4
    returned no row at all (nothing matched the filter, or every value was zero: GA4 does not tell which).
    `ranges`: the metadata per daily chunk, or per period query in the order of the frame's queries.
    """

    frame: pd.DataFrame
    property_id: str
    start: dt.date | None  # None only for a period load that had nothing to ask
    end: dt.date | None
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
    ranges: list[RangeFacts]


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
    raw, facts, meter, by_chunk = _run(config, queries, dims, client, sleep)
    try:
        frame = daily_frame(config, raw, facts)
    except DecodeError as exc:
        raise config.error(str(exc)) from None
    ranges = [RangeFacts.of(key[0], key[1], chunk) for key, chunk in sorted(by_chunk.items(), key=_range_order)]
    return _load(config, (start, end), frame, len(raw), facts, meter, ranges)


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
    raw, facts, meter, _ = _run(config, queries, dims, client, sleep)
    frame = period_frame(config, raw, facts, (start, end), by, wanted)
    return _load(config, (start, end), frame, len(raw), facts, meter, [RangeFacts.of(start, end, facts)])


def fetch_periods(
    config: Ga4Config,
    queries: Iterable[PeriodQuery],
    client: BetaAnalyticsDataClient | None = None,
    *,
    sleep: Sleep = time.sleep,
) -> Ga4Load:
    """Many whole-window values at once: one report per (window, filter), five reports per API call.

    Each report has no date dimension and no other dimension either: GA4 counts the distinct users of
    the window under the filter and answers with one row. That is the only exact way: neither daily
    values nor per-campaign values of a distinct count can be added up (connectors.ga4_filter says why).
    Queries with the same window and filter share one report. Metadata (sampling, thresholding, the
    `(other)` row) is kept per query, since each is its own report.
    """
    wanted: dict[ChunkKey, dict[str, str]] = {}
    for query in queries:
        unknown = [m for m in query.metrics if m not in config.period_metrics]
        config.fail_unless(not unknown, f"metrics {unknown} are not mapped as period metrics of this source")
        config.fail_unless(query.start <= query.end, f"period {query.start}..{query.end} ends before it starts")
        expr = ga4_filter.as_json(ga4_filter.expression(config, query.filters))
        key = (query.start, query.end, expr)
        wanted.setdefault(key, {}).update({m: config.period_metrics[m] for m in query.metrics})
    reports = [
        report
        for (start, end, expr), metrics in wanted.items()
        for report in plan(start, end, [], list(dict.fromkeys(metrics.values())), None, expr)
    ]
    if not reports:
        empty = pd.DataFrame(columns=PERIOD_COLUMNS)
        return _load(config, (None, None), empty, 0, ReportFacts(), _meter(config, sleep), [])
    frames, facts, meter, by_key = _fetch(config, reports, [], client, sleep)
    rows, ranges = [], []
    for key, metrics in wanted.items():
        joined, seen = frames[key], by_key[key]
        ranges.append(RangeFacts.of(key[0], key[1], seen))
        for name, ga4 in metrics.items():
            value = float(joined[ga4].iloc[0]) if len(joined) else float("nan")
            if ga4 in seen.currency_metrics:
                value = round(value, 6)
            rows.append(
                {
                    "period_start": key[0],
                    "period_end": key[1],
                    "platform": PLATFORM,
                    "account_id": config.property_id,
                    "metric": name,
                    "ga4_metric": ga4,
                    "value": value,
                    "rows": len(joined),
                    "dimension_filter": key[2],
                    "filter_key": ga4_filter.fingerprint(key[2]),
                    "sampled": seen.sampled,
                    "sampling_ratio": seen.sampling_ratio,
                    "thresholded": seen.thresholded,
                    "data_loss_from_other_row": seen.data_loss_from_other_row,
                    "currency_code": facts.currency_code,
                    "account_timezone": facts.time_zone,
                }
            )
    frame = pd.DataFrame(rows, columns=PERIOD_COLUMNS)
    window = (min(k[0] for k in wanted), max(k[1] for k in wanted))
    received = int(sum(len(f) for f in frames.values()))
    return _load(config, window, frame, received, facts, meter, ranges)


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


def _meter(config: Ga4Config, sleep: Sleep) -> QuotaMeter:
    return QuotaMeter(config.min_hourly_tokens, config.throttle_pause_seconds, sleep)


def _fetch(
    config: Ga4Config,
    queries: list[ReportQuery],
    dims: list[str],
    client: BetaAnalyticsDataClient | None,
    sleep: Sleep,
) -> tuple[dict[ChunkKey, pd.DataFrame], ReportFacts, QuotaMeter, dict[ChunkKey, ReportFacts]]:
    """Send every page, decode it, join the metric groups of each (date range, filter); any inconsistency
    fails the load. Returns the joined frames and the metadata per (date range, filter), and for the load."""
    meter = _meter(config, sleep)
    caller = Ga4Caller(config, client if client is not None else build_client(config), meter)
    facts = ReportFacts()
    by_key: dict[ChunkKey, ReportFacts] = {}
    try:
        reports = fetch_all(queries, config.page_size, caller.run)
        chunks: dict[ChunkKey, list[pd.DataFrame]] = {}
        for report in reports:
            key = (report.query.start, report.query.end, report.query.dimension_filter)
            seen = ReportFacts()
            chunks.setdefault(key, []).append(decode(report, seen))
            by_key.setdefault(key, ReportFacts()).merge(seen)
            facts.merge(seen)
    except (RowCountChanged, DecodeError) as exc:
        raise config.error(str(exc)) from None
    return {key: join_groups(frames, dims) for key, frames in chunks.items()}, facts, meter, by_key


def _run(
    config: Ga4Config,
    queries: list[ReportQuery],
    dims: list[str],
    client: BetaAnalyticsDataClient | None,
    sleep: Sleep,
) -> tuple[pd.DataFrame, ReportFacts, QuotaMeter, dict[ChunkKey, ReportFacts]]:
    """`_fetch` with every chunk's rows in one frame (daily loads and single-window period loads)."""
    frames, facts, meter, by_key = _fetch(config, queries, dims, client, sleep)
    return pd.concat(list(frames.values()), ignore_index=True), facts, meter, by_key


def _range_order(item: tuple[ChunkKey, ReportFacts]) -> tuple[dt.date, dt.date]:
    return item[0][0], item[0][1]


def _load(
    config: Ga4Config,
    window: tuple[dt.date | None, dt.date | None],
    frame: pd.DataFrame,
    rows: int,
    facts: ReportFacts,
    meter: QuotaMeter,
    ranges: list[RangeFacts],
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
        ranges=ranges,
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
