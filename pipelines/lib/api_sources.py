"""Pull a platform API source for the days a run covers (its partition range), outside any transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from connectors.ga4 import Ga4Config, Ga4Dimensions, fetch_daily
from connectors.google_ads import GoogleAdsConfig, read_google_ads
from connectors.meta_ads import MetaAdsConfig, read_meta_ads
from pipelines.lib.scoring.specs import build_specs
from pipelines.lib.spec import OkrDefs
from pipelines.lib.spec.conversion_checks import DEFAULT_CHANNEL
from pipelines.lib.spec.models import DEFAULT_LOOKBACK, DEFAULT_RESTATEMENT, Ga4Source, GoogleAdsSource, MetaAdsSource
from pipelines.lib.spec.period_checks import period_columns

ADS_METRICS = ["spend", "impressions", "clicks", "conversions", "conversions_value"]


@dataclass
class ApiPull:
    """What one pull returned, the window it replaces, and what an on-call analyst should see."""

    frame: pd.DataFrame
    window: tuple[dt.date, dt.date] | None
    metrics: list[str]
    settled_before: dt.date
    conversion_definition: str | None
    metadata: dict = field(default_factory=dict)
    ranges: list = field(default_factory=list)  # GA4: connectors.ga4.RangeFacts per loaded date chunk


def first_day_needed(defs: OkrDefs, as_of: dt.date) -> dt.date:
    """The earliest day any KR window or measured baseline reads (as_of when nothing is defined)."""
    specs = build_specs(defs, as_of).specs
    starts = pd.to_datetime(specs["window_start"]).dropna()
    return starts.min().date() if len(starts) else as_of


def lookback(defs: OkrDefs, name: str) -> int:
    """Days every nightly run re-pulls, because the platform may still restate them."""
    src = defs.sources[name]
    return src.lookback_days or DEFAULT_LOOKBACK[src.type]


def restatement(defs: OkrDefs, name: str) -> int:
    """Days the weekly run re-pulls: the platform's full restatement window (never less than the look-back)."""
    src = defs.sources[name]
    return max(src.restatement_days or DEFAULT_RESTATEMENT[src.type], lookback(defs, name))


def _ga4_config(name: str, src: Ga4Source, lookback_days: int, period_columns: set[str]) -> Ga4Config:
    """The connector config; mapped measures that are distinct counts (agg: period) are read per KR window
    (pipelines.lib.period), every other one per day."""
    dims = {
        "date": "date",
        "campaign_id": "campaign_id",
        "campaign_name": "campaign_name",
        "channel": "channel",
        "source_medium": "source_medium",
    }
    overrides = {dims[k]: v for k, v in src.dimensions.items()}
    extra = {"endpoint": src.endpoint} if src.endpoint else {}
    return Ga4Config(
        name,
        src.property_id,
        {k: v for k, v in src.metrics.items() if k not in period_columns},
        period_metrics={k: v for k, v in src.metrics.items() if k in period_columns},
        dimensions=Ga4Dimensions(**overrides),
        lookback_days=lookback_days,
        credentials=src.credentials,
        **extra,
    )


def connector_config(defs: OkrDefs, name: str) -> GoogleAdsConfig | MetaAdsConfig | Ga4Config:
    """The connector's own configuration for an API source (raises its configuration error)."""
    src = defs.sources[name]
    days = lookback(defs, name)
    if isinstance(src, GoogleAdsSource):
        return GoogleAdsConfig(
            name,
            tuple(src.customer_ids),
            src.login_customer_id,
            days,
            src.endpoint,
            src.channel or DEFAULT_CHANNEL["google_ads"],
        )
    if isinstance(src, MetaAdsSource):
        extra = {"base_url": src.endpoint} if src.endpoint else {}
        extra |= {"api_version": src.api_version} if src.api_version else {}
        return MetaAdsConfig(
            name,
            tuple(src.account_ids),
            src.conversion_action_type,
            tuple(src.attribution_windows),
            src.clicks_field,
            days,
            channel=src.channel or DEFAULT_CHANNEL["meta_ads"],
            **extra,
        )
    if isinstance(src, Ga4Source):
        return _ga4_config(name, src, days, period_columns(defs))
    raise TypeError(f"source {name!r} of type {src.type!r} is not an API source")


def pull(defs: OkrDefs, name: str, window: tuple[dt.date, dt.date], as_of: dt.date) -> ApiPull:
    """Call the platform (outside any database transaction: the network must not hold the DuckDB lock)."""
    settled_before = as_of - dt.timedelta(days=lookback(defs, name) - 1)
    config = connector_config(defs, name)
    if isinstance(config, Ga4Config):
        return _pull_ga4(config, window, settled_before)
    if isinstance(config, GoogleAdsConfig):
        load = read_google_ads(config, *window)
        meta = {"requests": load.requests, "stream_batches": load.batches, "retries": load.retries}
    else:
        load = read_meta_ads(config, *window)
        meta = {"requests": load.requests, "pages": load.pages, "retries": load.retries, "async_jobs": load.async_jobs}
    meta |= {
        "rows": load.rows,
        "currencies": load.currencies,
        "time_zones": load.time_zones,
        "conversion_definition": load.conversion_definition,
    }
    metrics = [m for m in ADS_METRICS if m in load.frame.columns]
    return ApiPull(load.frame, window, metrics, settled_before, load.conversion_definition, meta)


def _pull_ga4(config: Ga4Config, window: tuple[dt.date, dt.date], settled_before: dt.date) -> ApiPull:
    load = fetch_daily(config, *window)
    meta = {
        "rows": load.rows,
        "requests": load.requests,
        "reports": load.reports,
        "retries": load.retries,
        "tokens_consumed": load.tokens_consumed,
        "tokens_remaining_hour": load.tokens_remaining_hour,
        "tokens_remaining_day": load.tokens_remaining_day,
        "sampled": load.sampled,
        "sampling_ratio": load.sampling_ratio,
        "thresholded": load.thresholded,
        "data_loss_from_other_row": load.data_loss_from_other_row,
        "currencies": {load.property_id: load.currency_code},
        "time_zones": {load.property_id: load.time_zone},
    }
    metrics = [m for m in config.metrics if m in load.frame.columns]
    definition = "ga4:" + ",".join(config.metrics.values())
    return ApiPull(load.frame, window, metrics, settled_before, definition, meta, load.ranges)
