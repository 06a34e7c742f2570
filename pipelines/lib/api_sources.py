"""Pull a platform API source for the window it needs: the first run from what the definitions need,
later runs what is missing plus the restatement look-back (connectors.windows.pull_window)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from connectors.google_ads import GoogleAdsConfig, read_google_ads
from connectors.meta_ads import MetaAdsConfig, read_meta_ads
from connectors.windows import pull_window
from pipelines.lib import storage
from pipelines.lib.scoring.specs import build_specs
from pipelines.lib.spec import OkrDefs
from pipelines.lib.spec.models import DEFAULT_LOOKBACK, GoogleAdsSource, MetaAdsSource

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


def first_day_needed(defs: OkrDefs, as_of: dt.date) -> dt.date:
    """The earliest day any KR window or measured baseline reads (as_of when nothing is defined)."""
    specs = build_specs(defs, as_of).specs
    starts = pd.to_datetime(specs["window_start"]).dropna()
    return starts.min().date() if len(starts) else as_of


def lookback(defs: OkrDefs, name: str) -> int:
    src = defs.sources[name]
    return src.lookback_days or DEFAULT_LOOKBACK[src.type]


def plan_window(conn: duckdb.DuckDBPyConnection, defs: OkrDefs, name: str, as_of: dt.date) -> tuple | None:
    """(start, end) to pull, or None when the definitions need nothing up to as_of."""
    src = defs.sources[name]
    first = src.start_date or first_day_needed(defs, as_of)
    if first > as_of:
        return None
    window = pull_window(storage.last_loaded(conn, src.type, name), as_of, lookback(defs, name), first)
    return (window.start, window.end)


def pull(defs: OkrDefs, name: str, window: tuple[dt.date, dt.date], as_of: dt.date) -> ApiPull:
    """Call the platform (outside any database transaction: the network must not hold the DuckDB lock)."""
    src = defs.sources[name]
    settled_before = as_of - dt.timedelta(days=lookback(defs, name) - 1)
    if isinstance(src, GoogleAdsSource):
        config = GoogleAdsConfig(
            name,
            tuple(src.customer_ids),
            src.login_customer_id,
            lookback(defs, name),
            src.endpoint,
            src.channel or "Paid Search",
        )
        load = read_google_ads(config, *window)
        meta = {"requests": load.requests, "stream_batches": load.batches, "retries": load.retries}
    elif isinstance(src, MetaAdsSource):
        extra = {"base_url": src.endpoint} if src.endpoint else {}
        extra |= {"api_version": src.api_version} if src.api_version else {}
        config = MetaAdsConfig(
            name,
            tuple(src.account_ids),
            src.conversion_action_type,
            tuple(src.attribution_windows),
            src.clicks_field,
            lookback(defs, name),
            channel=src.channel or "Paid Social",
            **extra,
        )
        load = read_meta_ads(config, *window)
        meta = {"requests": load.requests, "pages": load.pages, "retries": load.retries, "async_jobs": load.async_jobs}
    else:
        raise TypeError(f"source {name!r} of type {src.type!r} is not an API source")
    meta |= {
        "rows": load.rows,
        "currencies": load.currencies,
        "time_zones": load.time_zones,
        "conversion_definition": load.conversion_definition,
    }
    metrics = [m for m in ADS_METRICS if m in load.frame.columns]
    return ApiPull(load.frame, window, metrics, settled_before, load.conversion_definition, meta)
