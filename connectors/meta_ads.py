"""Meta Ads source: campaign-day Insights (`act_<id>/insights`, level=campaign, time_increment=1) over Graph API.

Why these choices:
- Days are the ad account's own (`timezone_name` read from `act_<id>`), money is in `account_currency`.
- Clicks default to `inline_link_clicks` (clicks that lead to the advertiser's destination), the analogue
  of a Google Ads click; Meta's `clicks` also counts likes, profile and "see more" clicks, which would inflate
  CTR and deflate CPC against other platforms. Set `clicks_field="clicks"` to get all clicks.
- Conversions come from one `action_type` under explicit attribution windows and are recorded as
  `meta:<action_type>@<windows>` (see connectors.meta_rows for the missing-data rules).
- Long ranges use an async report job (POST, poll `async_status`, read the run's insights), which Meta
  recommends over a synchronous call that may time out; the threshold is configurable.
- Conversions keep landing for the attribution window: re-pull `lookback_days` (28) every run.
The access token comes only from META_ACCESS_TOKEN.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

import pandas as pd

from connectors.ads_frame import campaign_day_frame
from connectors.ads_retry import RetriesExhausted, RetryPolicy
from connectors.errors import SourceApiError
from connectors.meta_graph import GRAPH_VERSION, GraphClient, GraphError
from connectors.meta_jobs import JobFailed, run_async_report
from connectors.meta_rows import RowError, RowRules, insight_record

PLATFORM = "meta_ads"
TOKEN_ENV = "META_ACCESS_TOKEN"
INSIGHT_FIELDS = ("campaign_id", "campaign_name", "date_start", "date_stop", "spend", "impressions")
ACTION_FIELDS = ("actions", "action_values", "account_currency")


@dataclass(frozen=True)
class MetaAdsConfig:
    """One Meta source: which ad accounts, which conversion. No credentials here (META_ACCESS_TOKEN)."""

    name: str
    account_ids: tuple[str, ...]
    conversion_action_type: str = "offsite_conversion.fb_pixel_purchase"
    attribution_windows: tuple[str, ...] = ("7d_click", "1d_view")
    clicks_field: str = "inline_link_clicks"
    lookback_days: int = 28
    async_threshold_days: int = 31
    base_url: str = "https://graph.facebook.com"
    api_version: str = GRAPH_VERSION
    channel: str = "Paid Social"
    page_size: int = 500
    poll_interval_seconds: float = 10.0
    max_polls: int = 360
    absent_actions_as_zero: bool = False

    def __post_init__(self) -> None:
        if not self.account_ids:
            raise ValueError(f"Meta source {self.name!r} lists no account_ids")
        ids = tuple(str(a).strip().removeprefix("act_") for a in self.account_ids)
        if not all(i.isdigit() for i in ids):
            raise ValueError(f"Meta source {self.name!r}: ad account ids must be digits (act_ prefix allowed): {ids}")
        object.__setattr__(self, "account_ids", ids)
        if self.clicks_field not in ("inline_link_clicks", "clicks"):
            raise ValueError(f"Meta source {self.name!r}: clicks_field must be inline_link_clicks or clicks")
        if self.lookback_days < 1 or self.async_threshold_days < 1:
            raise ValueError(f"Meta source {self.name!r}: lookback_days and async_threshold_days must be >= 1")

    @property
    def conversion_definition(self) -> str:
        return f"meta:{self.conversion_action_type}@{','.join(self.attribution_windows)}"


@dataclass
class MetaAdsLoad:
    """Rows at the grain plus what happened while pulling them (for asset metadata and logs)."""

    frame: pd.DataFrame
    start: dt.date
    end: dt.date
    rows: int
    requests: int
    pages: int
    retries: int
    async_jobs: int
    conversion_definition: str
    currencies: dict[str, str] = field(default_factory=dict)
    time_zones: dict[str, str] = field(default_factory=dict)


def read_meta_ads(
    config: MetaAdsConfig,
    start: dt.date,
    end: dt.date,
    *,
    retry: RetryPolicy | None = None,
) -> MetaAdsLoad:
    """Pull every configured ad account for start..end; raise SourceApiError on API errors or lasting faults."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise SourceApiError(config.name, f"{TOKEN_ENV} is not set: the Meta access token comes from the environment")
    graph = GraphClient(token, config.base_url, config.api_version, retry or RetryPolicy())
    load = MetaAdsLoad(
        frame=pd.DataFrame(),
        start=start,
        end=end,
        rows=0,
        requests=0,
        pages=0,
        retries=0,
        async_jobs=0,
        conversion_definition=config.conversion_definition,
    )
    records: list[dict] = []
    with graph.session:
        for account_id in config.account_ids:
            try:
                records += _read_account(config, graph, account_id, start, end, load)
            except GraphError as exc:
                raise _api_error(config, account_id, exc) from None
            except RetriesExhausted as exc:
                raise SourceApiError(config.name, f"ad account act_{account_id}: {exc}", transient=True) from None
            except (JobFailed, RowError) as exc:
                raise SourceApiError(config.name, f"ad account act_{account_id}: {exc}") from None
    load.frame = campaign_day_frame(records)
    load.rows, load.requests, load.retries = len(records), graph.requests_made, graph.retries
    return load


def _read_account(
    config: MetaAdsConfig, graph: GraphClient, account_id: str, start: dt.date, end: dt.date, load: MetaAdsLoad
) -> list[dict]:
    account = graph.get(f"act_{account_id}", {"fields": "account_id,name,currency,timezone_name"})
    timezone, currency = str(account.get("timezone_name") or ""), str(account.get("currency") or "")
    if not timezone:
        raise RowError("the ad account did not report its timezone_name")
    load.time_zones[account_id], load.currencies[account_id] = timezone, currency
    rules = RowRules(
        PLATFORM,
        config.channel,
        config.clicks_field,
        config.conversion_action_type,
        config.attribution_windows,
        config.absent_actions_as_zero,
    )
    params = _insights_params(config, start, end)
    if (end - start).days + 1 > config.async_threshold_days:
        run_id = run_async_report(
            graph, f"act_{account_id}/insights", params, config.poll_interval_seconds, config.max_polls
        )
        load.async_jobs += 1
        pages = graph.pages(f"{run_id}/insights", {"limit": config.page_size})
    else:
        pages = graph.pages(f"act_{account_id}/insights", params)
    records = []
    for page in pages:
        load.pages += 1
        records += [insight_record(rules, account_id, timezone, currency, row) for row in page]
    if records:
        load.currencies[account_id] = records[-1]["currency_code"]
    return records


def _insights_params(config: MetaAdsConfig, start: dt.date, end: dt.date) -> dict[str, object]:
    fields = (*INSIGHT_FIELDS, config.clicks_field, *ACTION_FIELDS)
    return {
        "level": "campaign",
        "time_increment": "1",
        "time_range": {"since": start.isoformat(), "until": end.isoformat()},
        "fields": ",".join(fields),
        "action_attribution_windows": list(config.attribution_windows),
        "limit": str(config.page_size),
    }


def _api_error(config: MetaAdsConfig, account_id: str, exc: GraphError) -> SourceApiError:
    hint = f"; check that {TOKEN_ENV} holds a valid, unexpired token with ads_read" if exc.code == 190 else ""
    return SourceApiError(
        config.name,
        f"ad account act_{account_id}: {exc}{hint}",
        code=str(exc.code) if exc.code is not None else None,
        request_id=exc.fbtrace_id,
    )
