"""Google Ads source: campaign-day metrics via GAQL `SearchStream`, on the official `google-ads` library.

Why SearchStream: one operation per account returns every row of the window (in batches of up to 10,000),
where `Search` would cost a request per page. Days are the account's own (`segments.date` in
`customer.time_zone`), money is `cost_micros / 1e6` in `customer.currency_code`, and conversions are
`metrics.conversions` (actions with include_in_conversions_metric, fractional, attributed to the click date —
so past days keep changing through the conversion window: re-pull `lookback_days`).

Credentials: see `connectors.google_ads_auth`. Tests pass a `GoogleAdsClient` built with
`AnonymousCredentials()` and a fake endpoint.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from google.ads.googleads.client import GoogleAdsClient
from google.ads.googleads.errors import GoogleAdsException
from google.ads.googleads.v26.services.types.google_ads_service import GoogleAdsRow
from google.api_core.exceptions import DeadlineExceeded

from connectors.ads_frame import NOT_SET, campaign_day_frame
from connectors.ads_retry import RetriesExhausted, RetryPolicy, Transient, call_with_retry
from connectors.errors import SourceApiError
from connectors.google_ads_auth import load_google_ads_client
from connectors.google_ads_errors import API_VERSION, api_error, classify

PLATFORM = "google_ads"
CONVERSION_DEFINITION = "gads:metrics.conversions"
FIELDS = (
    "segments.date",
    "customer.id",
    "customer.currency_code",
    "customer.time_zone",
    "campaign.id",
    "campaign.name",
    "campaign.status",
    "metrics.impressions",
    "metrics.clicks",
    "metrics.cost_micros",
    "metrics.conversions",
    "metrics.conversions_value",
)


def _digits(value: str | int) -> str:
    """Customer ids are written 123-456-7890 in the UI; the API wants 1234567890."""
    text = str(value).replace("-", "").strip()
    if not (text.isdigit() and len(text) == 10):
        raise ValueError(f"Google Ads customer id {value!r} must be 10 digits (dashes allowed)")
    return text


@dataclass(frozen=True)
class GoogleAdsConfig:
    """One Google Ads source: which accounts to read. No credentials here (see google_ads_auth)."""

    name: str
    customer_ids: tuple[str, ...]
    login_customer_id: str | None = None
    lookback_days: int = 30
    endpoint: str | None = None
    channel: str = "Paid Search"
    timeout_seconds: float = 600.0
    """Client-side deadline of one SearchStream call (the whole stream, not the gap between batches).

    The library sets none, so a server that stops answering mid-stream would hold the run forever; past the
    deadline the call fails with DEADLINE_EXCEEDED and is retried like any network fault."""

    def __post_init__(self) -> None:
        if not self.customer_ids:
            raise ValueError(f"Google Ads source {self.name!r} lists no customer_ids")
        object.__setattr__(self, "customer_ids", tuple(_digits(c) for c in self.customer_ids))
        if self.login_customer_id is not None:
            object.__setattr__(self, "login_customer_id", _digits(self.login_customer_id))
        if self.lookback_days < 1:
            raise ValueError(f"Google Ads source {self.name!r}: lookback_days must be at least 1")
        if not self.timeout_seconds > 0:
            raise ValueError(f"Google Ads source {self.name!r}: timeout_seconds must be more than 0")


@dataclass
class GoogleAdsLoad:
    """Rows at the grain plus what happened while pulling them (for asset metadata and logs)."""

    frame: pd.DataFrame
    start: dt.date
    end: dt.date
    rows: int
    requests: int
    batches: int
    retries: int
    conversion_definition: str = CONVERSION_DEFINITION
    currencies: dict[str, str] = field(default_factory=dict)
    time_zones: dict[str, str] = field(default_factory=dict)


def gaql(start: dt.date, end: dt.date) -> str:
    """The campaign-day query for an inclusive range of account-local days (dates only; nothing user-typed)."""
    # GAQL, not SQL: the only interpolated values are `date` objects rendered by isoformat().
    between = f"'{start.isoformat()}' AND '{end.isoformat()}'"
    return f"SELECT {', '.join(FIELDS)} FROM campaign WHERE segments.date BETWEEN {between}"  # noqa: S608


def read_google_ads(
    config: GoogleAdsConfig,
    start: dt.date,
    end: dt.date,
    *,
    client: GoogleAdsClient | None = None,
    retry: RetryPolicy | None = None,
) -> GoogleAdsLoad:
    """Pull every configured account for start..end; raise SourceApiError on a rejected query or lasting faults."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    client = client or load_google_ads_client(config.name, config.login_customer_id, config.endpoint)
    service = client.get_service("GoogleAdsService", version=API_VERSION)
    retry = retry or RetryPolicy()
    query = gaql(start, end)
    records: list[dict] = []
    requests = batches = retries = 0
    for customer_id in config.customer_ids:
        stream_batches, tried = _stream_with_retry(config, service, customer_id, query, retry)
        requests += tried + 1
        retries += tried
        batches += len(stream_batches)
        records += [_record(config, customer_id, row) for batch in stream_batches for row in batch]
    frame = campaign_day_frame(records)
    return GoogleAdsLoad(
        frame=frame,
        start=start,
        end=end,
        rows=len(records),
        requests=requests,
        batches=batches,
        retries=retries,
        currencies=_per_account(records, "currency_code"),
        time_zones=_per_account(records, "account_timezone"),
    )


def _stream_with_retry(
    config: GoogleAdsConfig, service: Any, customer_id: str, query: str, retry: RetryPolicy
) -> tuple[list[list[GoogleAdsRow]], int]:
    """The whole stream of one account and the retries it took; restarted from scratch on a transient fault,
    so rows of a stream that broke halfway are never counted twice."""

    def pull() -> list[list[GoogleAdsRow]]:
        stream = service.search_stream(customer_id=customer_id, query=query, timeout=config.timeout_seconds)
        return [list(batch.results) for batch in stream]

    def classify_with_deadline(exc: Exception) -> Transient | None:
        """As `classify`, but a DEADLINE_EXCEEDED states our own deadline: a stalled stream and a server-side
        deadline look alike on the wire, and the deadline is what a person reading the failure can change."""
        transient = classify(exc)
        if transient is not None and isinstance(exc, DeadlineExceeded):
            return Transient(
                f"Google Ads call ran out of time (DEADLINE_EXCEEDED; client deadline {config.timeout_seconds:g} s "
                "per call)",
                transient.wait_hint,
            )
        return transient

    try:
        return call_with_retry(pull, classify_with_deadline, retry)
    except GoogleAdsException as exc:
        raise api_error(config.name, customer_id, exc) from None
    except RetriesExhausted as exc:
        code = "DEADLINE_EXCEEDED" if isinstance(exc.__cause__, DeadlineExceeded) else "RESOURCE_EXHAUSTED"
        raise SourceApiError(
            config.name, f"Google Ads customer {customer_id}: {exc}", code=code, transient=True
        ) from exc


def _record(config: GoogleAdsConfig, customer_id: str, row: GoogleAdsRow) -> dict:
    """One API row in the frame's vocabulary; reads the raw protobuf (proto-plus access is slow on 10k+ rows)."""
    pb = GoogleAdsRow.pb(row)
    metrics = pb.metrics
    return {
        "report_date": dt.date.fromisoformat(pb.segments.date),
        "platform": PLATFORM,
        "account_id": customer_id,
        "campaign_id": str(pb.campaign.id),
        "campaign_name": pb.campaign.name,
        "channel": config.channel,
        "source_medium": NOT_SET,
        "currency_code": pb.customer.currency_code,
        "account_timezone": pb.customer.time_zone,
        "spend": metrics.cost_micros / 1_000_000,
        "impressions": float(metrics.impressions),
        "clicks": float(metrics.clicks),
        "conversions": metrics.conversions,
        "conversions_value": metrics.conversions_value,
    }


def _per_account(records: list[dict], column: str) -> dict[str, str]:
    return {r["account_id"]: r[column] for r in records}
