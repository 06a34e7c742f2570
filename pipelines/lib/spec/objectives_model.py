"""objectives/*.yaml: objectives with key results (the OKRs) and KPIs (health metrics, apart)."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, ValidationInfo, WithJsonSchema, field_validator, model_validator

from connectors.campaign_key import campaign_key_pattern
from pipelines.lib.spec.base import Identifier, MetricName, Strict, field_error

# Dimensions a filter may name, mapped to the mart column they compare (project-owned identifiers).
FILTER_DIMENSIONS: dict[str, str] = {
    "platform": "platform",
    "account": "account_id",
    "channel": "channel",
    "campaign": "campaign_name",
    "campaign_id": "campaign_id",
    "unified_campaign": "unified_campaign_id",
    "source": "source",
    "source_medium": "source_medium",
}

FilterValue = str | list[str]
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_HALF = re.compile(r"^(\d{4})-H([12])$")
_TRAILING = re.compile(r"^([1-9]\d{0,2})d$")
_RELATIVE = re.compile(r"^(?:x(?P<times>\d+(?:\.\d+)?)|(?P<pct>[+-]\d+(?:\.\d+)?)%)$")


class Filters(Strict):
    platform: FilterValue | None = None
    account: FilterValue | None = None
    channel: FilterValue | None = None
    campaign: FilterValue | None = None
    campaign_id: FilterValue | None = None
    unified_campaign: FilterValue | None = None
    source: FilterValue | None = None
    source_medium: FilterValue | None = None

    @field_validator("unified_campaign")
    @classmethod
    def _campaign_keys(cls, value: FilterValue | None) -> FilterValue | None:
        """Compared with the mart's normalized key, so `Tết 2026` and `tet-2026` select the same campaign."""
        if value is None:
            return None
        keys = [campaign_key_pattern(v) for v in ([value] if isinstance(value, str) else value)]
        if None in keys:
            raise ValueError("a unified_campaign filter names a campaign; rows without one have no unified campaign")
        return keys[0] if isinstance(value, str) else keys

    @field_validator("*")
    @classmethod
    def _not_empty(cls, value: FilterValue | None, info: ValidationInfo) -> FilterValue | None:
        """`campaign: []` (a template emptied out) would otherwise filter nothing and count every campaign."""
        if value == []:
            raise ValueError(
                f"an empty list matches no {info.field_name}; list at least one value or remove the filter"
            )
        return value

    def items(self) -> list[tuple[str, list[str]]]:
        """(dimension, values) pairs that are set, values always as a list."""
        out = []
        for name in FILTER_DIMENSIONS:
            value = getattr(self, name)
            if value is not None:
                out.append((name, [value] if isinstance(value, str) else list(value)))
        return out


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)


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


class Window(Strict):
    """A KR's own window: fixed dates inside the objective's period, or the trailing N days to as-of."""

    start: dt.date | None = None
    end: dt.date | None = None
    trailing: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Window:
        fixed = self.start is not None or self.end is not None
        if fixed == (self.trailing is not None):
            raise ValueError("a window is either {start, end} or {trailing: 28d}")
        if fixed and (self.start is None or self.end is None):
            raise ValueError("a fixed window needs both start and end")
        if fixed and self.end < self.start:
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start})")
        if self.trailing is not None and not _TRAILING.match(self.trailing):
            raise ValueError(f"trailing must look like 28d (1-999 days), not {self.trailing!r}")
        return self

    @property
    def trailing_days(self) -> int | None:
        return int(self.trailing[:-1]) if self.trailing else None


class MeasuredBaseline(Strict):
    """The baseline measured from data over the equal-length window before, or a year before."""

    previous_period: Literal[True] | None = None
    same_period_last_year: Literal[True] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> MeasuredBaseline:
        if (self.previous_period is None) == (self.same_period_last_year is None):
            raise ValueError("say exactly one of previous_period: true or same_period_last_year: true")
        return self

    @property
    def kind(self) -> str:
        return "previous_period" if self.previous_period else "same_period_last_year"


class RelativeTarget(Strict):
    """`x2` (double), `+30%`, `-15%`: a target relative to the (given or measured) baseline."""

    text: str
    factor: float

    def apply(self, baseline: float) -> float:
        return baseline * self.factor


BaselineValue = Annotated[
    Annotated[float, Tag("number")] | Annotated[MeasuredBaseline, Tag("measured")],
    Discriminator(lambda v: "measured" if isinstance(v, dict | MeasuredBaseline) else "number"),
]

# What an editor should accept as typed (the validators turn these strings into models).
TARGET_SCHEMA = WithJsonSchema(
    {
        "anyOf": [
            {"type": "number"},
            {"type": "string", "pattern": _RELATIVE.pattern, "description": "relative to the baseline: x2, +30%, -15%"},
            {"type": "null"},
        ]
    }
)
PERIOD_SCHEMA = WithJsonSchema(
    {
        "anyOf": [
            {
                "type": "object",
                "properties": {
                    "start": {"type": "string", "format": "date"},
                    "end": {"type": "string", "format": "date"},
                },
                "required": ["start", "end"],
                "additionalProperties": False,
            },
            {
                "type": "string",
                "pattern": r"^\d{4}-(Q[1-4]|H[12])$",
                "description": "a quarter (2026-Q1) or half (2026-H1)",
            },
            {"type": "null"},
        ]
    }
)

Direction = Literal["increase", "decrease", "stay_above", "stay_below", "milestone"]


class KeyResult(Strict):
    id: Identifier
    title: str | None = None
    metric: MetricName | None = None
    filters: Filters = Filters()
    window: Window | None = None
    direction: Direction | None = None
    baseline: BaselineValue | None = None
    target: Annotated[float | RelativeTarget | None, TARGET_SCHEMA] = None
    measure: Literal["share_of_days", "at_end"] = "share_of_days"
    pacing: Literal["linear", "seasonal"] = "linear"
    weight: float = Field(default=1.0, gt=0)
    owner: str | None = None
    self_reported: bool = False
    value: float | None = None
    reported_on: dt.date | None = None

    @field_validator("target", mode="before")
    @classmethod
    def _relative_text(cls, value: Any) -> Any:
        """`x2`, `+30%`, `-15%` become a RelativeTarget here, so a bad string yields one clear error."""
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"target must be a finite number, not {value}")  # one error, not one per member
        if not isinstance(value, str):
            return value
        m = _RELATIVE.match(value.strip())
        if not m:
            raise ValueError(f"target {value!r} is neither a number nor relative like x2, +30% or -15%")
        factor = float(m["times"]) if m["times"] else 1 + float(m["pct"]) / 100
        return RelativeTarget(text=value.strip(), factor=factor)

    @model_validator(mode="after")
    def _consistent(self) -> KeyResult:
        if self.self_reported:
            return self._check_self_reported()
        if self.metric is None:
            raise field_error(
                "metric", "a key result needs a measurable metric (or self_reported: true for a manual milestone)"
            )
        if self.target is None:
            raise field_error("target", "target is required")
        if self.direction in {"stay_above", "stay_below", "milestone"}:
            if isinstance(self.target, RelativeTarget) and self.baseline is None:
                raise field_error("target", "a relative target needs a baseline")
            return self
        if self.baseline is None:
            raise field_error("baseline", "baseline is required (a number, or {previous_period: true})")
        if isinstance(self.baseline, float) and isinstance(self.target, float):
            self._check_numbers(self.baseline, self.target)
        elif isinstance(self.target, RelativeTarget) and self.target.factor == 1:
            raise field_error("target", f"target {self.target.text} equals the baseline: progress would divide by zero")
        elif isinstance(self.target, RelativeTarget) and isinstance(self.baseline, float) and self.baseline == 0:
            # any multiple of 0 is 0: the target would equal the baseline (a measured one is checked when scored)
            raise field_error(
                "target",
                f"target {self.target.text} of a baseline of 0 is 0 again: progress would divide by zero; "
                "give the target as a number",
            )
        return self

    def _check_numbers(self, baseline: float, target: float) -> None:
        if target == baseline:
            raise field_error("target", "target equals baseline: progress would divide by zero")
        if self.direction == "increase" and target < baseline:
            raise field_error("target", "direction is increase but target is below baseline")
        if self.direction == "decrease" and target > baseline:
            raise field_error("target", "direction is decrease but target is above baseline")

    def _check_self_reported(self) -> KeyResult:
        if self.direction not in {None, "milestone"}:
            raise field_error(
                "self_reported", "only milestones may be self-reported; measured KRs take their value from data"
            )
        if self.value is None or self.reported_on is None:
            raise field_error(
                "self_reported", "a self-reported milestone needs a dated value: value (0-1) and reported_on"
            )
        if not 0 <= self.value <= 1:
            raise field_error("value", "a self-reported milestone's value is the share done, between 0 and 1")
        return self

    @property
    def kind(self) -> str:
        """increase | decrease | stay_above | stay_below | milestone (direction inferred when omitted)."""
        if self.self_reported:
            return "milestone"
        if self.direction is not None:
            return self.direction
        if isinstance(self.target, RelativeTarget):
            return "increase" if self.target.factor > 1 else "decrease"
        if isinstance(self.baseline, float) and isinstance(self.target, float):
            return "increase" if self.target > self.baseline else "decrease"
        return "increase"

    @property
    def effective_direction(self) -> str:
        return self.kind


class Objective(Strict):
    id: Identifier
    title: str
    owner: str | None = None
    period: Annotated[Period | None, PERIOD_SCHEMA] = None
    type: Literal["committed", "aspirational"] = "aspirational"
    parent: Identifier | None = None
    weight: float = Field(default=1.0, gt=0)
    description: str | None = None
    key_results: list[KeyResult] = Field(default_factory=list)


class Band(Strict):
    stay_above: float | None = None
    stay_below: float | None = None
    between: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _one_side(self) -> Band:
        if self.between is not None:
            if self.stay_above is not None or self.stay_below is not None:
                raise ValueError("use between alone, or stay_above / stay_below")
            if self.between[0] > self.between[1]:
                raise ValueError("between [low, high]: low is greater than high")
        elif self.stay_above is None and self.stay_below is None:
            raise ValueError("a KPI band needs stay_above, stay_below, both, or between: [low, high]")
        if self.stay_above is not None and self.stay_below is not None and self.stay_above > self.stay_below:
            raise ValueError("stay_above is greater than stay_below: the band is empty")
        return self

    @property
    def low(self) -> float | None:
        return self.between[0] if self.between else self.stay_above

    @property
    def high(self) -> float | None:
        return self.between[1] if self.between else self.stay_below


class Kpi(Strict):
    """A health metric monitored against a band over a trailing window; not an OKR, never rolled up."""

    id: Identifier
    title: str
    metric: MetricName
    filters: Filters = Filters()
    band: Band
    trailing_days: Annotated[int, Field(ge=1, le=366)] = 28
    owner: str | None = None


class ObjectivesFile(Strict):
    objectives: list[Objective] = Field(default_factory=list)
    kpis: list[Kpi] = Field(default_factory=list)
