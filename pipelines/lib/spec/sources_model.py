"""sources.yaml: where the numbers come from. Credentials are never written here."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from pipelines.lib.spec.base import Identifier, MetricName, Strict

Char = Annotated[str, StringConstraints(min_length=1, max_length=1)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
LookbackDays = Annotated[int, Field(ge=1, le=400)]


def known_timezone(value: str | None) -> str | None:
    """An IANA zone name: it sets the source's daily partitions and what "yesterday" means for it."""
    if value is None:
        return value
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:  # `Australia` is a folder of zones
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


class DateColumn(Strict):
    column: str
    format: str | None = Field(default=None, description="strftime format, e.g. %d.%m.%Y; ISO dates if omitted")


class ColumnRef(Strict):
    column: str


class CountRows(Strict):
    count: Literal[True]


class FileSource(Strict):
    """A CSV or Parquet export of any platform, read from a glob relative to sources.yaml."""

    type: Literal["file"]
    path: str
    platform: Identifier
    account_id: str
    currency: CurrencyCode | None = None
    timezone: str = "UTC"
    format: Literal["csv", "parquet"] | None = None
    delimiter: Char | None = None
    encoding: str = "utf-8-sig"
    thousands: Char | None = None
    decimal: Char = "."
    date: DateColumn
    campaign_id: str | None = None
    campaign_name: str | None = None
    channel: str | ColumnRef = "(not set)"
    source_medium: ColumnRef | None = None
    metrics: dict[MetricName, str | ColumnRef | CountRows]
    drop_duplicates: bool = False
    allowed_lag_days: int = Field(default=2, ge=0)
    lookback_days: LookbackDays | None = Field(default=None, description="days re-read nightly (default 7)")
    restatement_days: LookbackDays | None = Field(default=None, description="days re-read weekly (default 28)")

    _known_timezone = field_validator("timezone")(known_timezone)

    @model_validator(mode="after")
    def _needs_campaign(self) -> FileSource:
        if self.campaign_id is None and self.campaign_name is None:
            raise ValueError("give campaign_id or campaign_name (the column holding the campaign)")
        if not self.metrics:
            raise ValueError("map at least one catalogue metric under metrics")
        return self

    def accounts(self) -> set[str]:
        return {self.account_id}

    def reported_dimensions(self) -> set[str]:
        """Filter dimensions whose values this source actually reports (not a constant placeholder)."""
        dims = {"platform", "account", "campaign", "campaign_id", "unified_campaign", "source", "channel"}
        if self.source_medium is not None:
            dims.add("source_medium")
        return dims


class ApiSource(Strict):
    """What every platform API source shares: how far back the first run starts and how much is re-pulled."""

    start_date: dt.date | None = None
    lookback_days: LookbackDays | None = Field(default=None, description="days re-pulled nightly")
    restatement_days: LookbackDays | None = Field(default=None, description="days re-pulled weekly")
    timezone: str | None = Field(default=None, description="the account's reporting time zone (partitions)")
    allowed_lag_days: int = Field(default=2, ge=0)
    endpoint: str | None = None
    channel: str | None = None

    _known_timezone = field_validator("timezone")(known_timezone)

    def reported_dimensions(self) -> set[str]:
        return {"platform", "account", "campaign", "campaign_id", "unified_campaign", "source", "channel"}


class GoogleAdsSource(ApiSource):
    """Google Ads accounts read with GAQL; credentials from google-ads.yaml or GOOGLE_ADS_* (never here)."""

    type: Literal["google_ads"]
    customer_ids: list[str] = Field(min_length=1)
    login_customer_id: str | None = None

    @property
    def platform(self) -> str:
        return "google_ads"

    @property
    def metrics(self) -> dict[str, str]:
        return {m: m for m in ADS_METRICS}

    def accounts(self) -> set[str]:
        return {c.replace("-", "") for c in self.customer_ids}


class MetaAdsSource(ApiSource):
    """Meta ad accounts read from the Insights API; the access token comes from META_ACCESS_TOKEN (never here)."""

    type: Literal["meta_ads"]
    account_ids: list[str] = Field(min_length=1)
    conversion_action_type: str = "offsite_conversion.fb_pixel_purchase"
    attribution_windows: list[str] = Field(default_factory=lambda: ["7d_click", "1d_view"])
    clicks_field: Literal["inline_link_clicks", "clicks"] = "inline_link_clicks"
    api_version: str | None = None

    @property
    def platform(self) -> str:
        return "meta_ads"

    @property
    def metrics(self) -> dict[str, str]:
        return {m: m for m in ADS_METRICS}

    def accounts(self) -> set[str]:
        return {a.removeprefix("act_") for a in self.account_ids}


class Ga4Source(ApiSource):
    """A GA4 property read with the Data API; credentials from Google's standard chain (never here)."""

    type: Literal["ga4"]
    property_id: str
    metrics: dict[MetricName, str] = Field(min_length=1, description="catalogue metric: GA4 metric, e.g. keyEvents")
    dimensions: dict[Literal["date", "campaign_id", "campaign_name", "channel", "source_medium"], str] = Field(
        default_factory=dict, description="override the GA4 dimension behind a grain column"
    )
    credentials: Literal["default", "anonymous"] = "default"

    @property
    def platform(self) -> str:
        return "ga4"

    def accounts(self) -> set[str]:
        return {self.property_id.removeprefix("properties/")}

    def reported_dimensions(self) -> set[str]:
        return super().reported_dimensions() | {"source_medium"}


ADS_METRICS = ("spend", "impressions", "clicks", "conversions", "conversions_value")
# Nightly re-pull depth per source type, and the full restatement window the weekly job re-pulls:
# Google Ads restates conversions by click date for up to 90 days, Meta up to 28, GA4 a few days
# (attributed key events longer), and an export may be re-issued for the last weeks.
DEFAULT_LOOKBACK = {"google_ads": 30, "meta_ads": 28, "ga4": 7, "file": 7}
DEFAULT_RESTATEMENT = {"google_ads": 90, "meta_ads": 28, "ga4": 30, "file": 28}

Source = Annotated[FileSource | GoogleAdsSource | MetaAdsSource | Ga4Source, Field(discriminator="type")]


class Refresh(Strict):
    """When the schedules run, in each source's own time zone (after the platforms' day has closed)."""

    hour: int = Field(default=6, ge=0, le=23, description="hour of the nightly refresh")
    restatement_weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = (
        "sunday"
    )


class FxRates(Strict):
    """Daily exchange rates read from a CSV or Parquet file: on `date`, 1 `from` is worth `rate` `to`.

    The mart converts money into `reporting_currency` with the rate of each row's report date, or the
    latest earlier one; a rate older than `max_age_days` is an error, so a feed that stopped updating
    cannot quietly price this month's spend at last quarter's rate.
    """

    path: str = Field(description="a glob relative to sources.yaml, e.g. fx/daily_rates.csv")
    format: Literal["csv", "parquet"] | None = None
    delimiter: Char | None = None
    encoding: str = "utf-8-sig"
    thousands: Char | None = None
    decimal: Char = "."
    date: DateColumn = Field(default_factory=lambda: DateColumn(column="date"))
    from_currency: str = Field(default="from", description="column of the ISO 4217 code converted from")
    to_currency: str = Field(default="to", description="column of the ISO 4217 code converted to")
    rate: str = Field(default="rate", description="column of the rate: units of `to` for 1 unit of `from`")
    max_age_days: int | None = Field(
        default=7, ge=0, description="the oldest usable rate, in days before a report date; null: no limit"
    )


class SourcesFile(Strict):
    reporting_currency: CurrencyCode | None = Field(
        default=None, description="ISO 4217 code every money metric is converted into (with fx_rates)"
    )
    fx_rates: FxRates | None = None
    sources: dict[Identifier, Source]
    refresh: Refresh = Field(default_factory=Refresh)
