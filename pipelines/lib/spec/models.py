"""pydantic models of the okr_defs files.

`extra="forbid"` everywhere: a misspelt key is an error with a line number, not a silently ignored
setting. Cross-file rules (a KR's metric exists, a parent objective exists) live in `checks.py`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$", max_length=80)]
MetricName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=63)]

# Dimensions of marts.campaign_daily a filter may name, mapped to the mart column they compare.
FILTER_DIMENSIONS: dict[str, str] = {
    "platform": "platform",
    "account": "account_id",
    "channel": "channel",
    "campaign": "campaign_name",
    "campaign_id": "campaign_id",
    "source": "source",
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


# ---------------------------------------------------------------- sources.yaml


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
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    timezone: str = "UTC"
    format: Literal["csv", "parquet"] | None = None
    delimiter: Annotated[str, StringConstraints(min_length=1, max_length=1)] | None = None
    encoding: str = "utf-8-sig"
    thousands: Annotated[str, StringConstraints(min_length=1, max_length=1)] | None = None
    decimal: Annotated[str, StringConstraints(min_length=1, max_length=1)] = "."
    date: DateColumn
    campaign_id: str | None = None
    campaign_name: str | None = None
    channel: str | ColumnRef = "(not set)"
    metrics: dict[MetricName, str | ColumnRef | CountRows]
    drop_duplicates: bool = False
    allowed_lag_days: int = Field(default=2, ge=0)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _needs_campaign(self) -> FileSource:
        if self.campaign_id is None and self.campaign_name is None:
            raise ValueError("give campaign_id or campaign_name (the column holding the campaign)")
        if not self.metrics:
            raise ValueError("map at least one catalogue metric under metrics")
        return self


Source = Annotated[FileSource, Field(discriminator="type")]


class SourcesFile(Strict):
    sources: dict[Identifier, Source]


# ---------------------------------------------------------------- metrics.yaml

Unit = Literal["count", "currency", "percent", "ratio", "number"]


class BaseMetric(Strict):
    """A measure stored in the mart, aggregated over a KR window.

    `column` names the stored measure when it differs from the metric's own name, so one measure can
    back several metrics (e.g. clicks summed, and peak daily clicks with agg: max).
    """

    column: MetricName | None = None
    agg: Literal["sum", "count", "max", "last"] = "sum"
    unit: Unit = "count"
    label: str | None = None


class RatioMetric(Strict):
    """numerator / denominator, each summed over the window first (ratio of sums, never mean of ratios)."""

    ratio: tuple[MetricName, MetricName]
    unit: Unit = "ratio"
    label: str | None = None


class MetricsFile(Strict):
    metrics: dict[MetricName, BaseMetric | RatioMetric]


# ---------------------------------------------------------------- objectives/*.yaml

FilterValue = str | list[str]


class Filters(Strict):
    platform: FilterValue | None = None
    account: FilterValue | None = None
    channel: FilterValue | None = None
    campaign: FilterValue | None = None
    campaign_id: FilterValue | None = None
    source: FilterValue | None = None

    def items(self) -> list[tuple[str, list[str]]]:
        """(dimension, values) pairs that are set, values always as a list."""
        out = []
        for name in FILTER_DIMENSIONS:
            value = getattr(self, name)
            if value is not None:
                out.append((name, [value] if isinstance(value, str) else list(value)))
        return out


_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_HALF = re.compile(r"^(\d{4})-H([12])$")


class Period(Strict):
    start: dt.date
    end: dt.date

    @model_validator(mode="before")
    @classmethod
    def _from_label(cls, value: object) -> object:
        """Accept `2026-Q1` and `2026-H1` as well as {start, end}."""
        if isinstance(value, str):
            if m := _QUARTER.match(value):
                year, q = int(m[1]), int(m[2])
                return {"start": dt.date(year, 3 * q - 2, 1), "end": _month_end(year, 3 * q)}
            if m := _HALF.match(value):
                year, h = int(m[1]), int(m[2])
                return {"start": dt.date(year, 6 * h - 5, 1), "end": _month_end(year, 6 * h)}
            raise ValueError("period must be {start, end}, a quarter like 2026-Q1 or a half like 2026-H1")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")
        return self

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


class KeyResult(Strict):
    id: Identifier
    title: str | None = None
    metric: MetricName
    filters: Filters = Filters()
    direction: Literal["increase", "decrease"] | None = None
    baseline: float
    target: float
    weight: float = Field(default=1.0, gt=0)
    owner: str | None = None

    @model_validator(mode="after")
    def _target_moves(self) -> KeyResult:
        if self.target == self.baseline:
            raise ValueError("target equals baseline: progress would divide by zero")
        if self.direction == "increase" and self.target < self.baseline:
            raise ValueError("direction is increase but target is below baseline")
        if self.direction == "decrease" and self.target > self.baseline:
            raise ValueError("direction is decrease but target is above baseline")
        return self

    @property
    def effective_direction(self) -> str:
        return self.direction or ("increase" if self.target > self.baseline else "decrease")


class Objective(Strict):
    id: Identifier
    title: str
    owner: str | None = None
    period: Period
    type: Literal["committed", "aspirational"] = "aspirational"
    parent: Identifier | None = None
    weight: float = Field(default=1.0, gt=0)
    description: str | None = None
    key_results: list[KeyResult] = Field(default_factory=list)


class Band(Strict):
    stay_above: float | None = None
    stay_below: float | None = None

    @model_validator(mode="after")
    def _one_side(self) -> Band:
        if self.stay_above is None and self.stay_below is None:
            raise ValueError("a KPI band needs stay_above, stay_below or both")
        if self.stay_above is not None and self.stay_below is not None and self.stay_above > self.stay_below:
            raise ValueError("stay_above is greater than stay_below: the band is empty")
        return self


class Kpi(Strict):
    """A health metric monitored against a band over a trailing window; not an OKR, never rolled up."""

    id: Identifier
    title: str
    metric: MetricName
    filters: Filters = Filters()
    band: Band
    trailing_days: int = Field(default=28, ge=1, le=366)
    owner: str | None = None


class ObjectivesFile(Strict):
    objectives: list[Objective] = Field(default_factory=list)
    kpis: list[Kpi] = Field(default_factory=list)
