"""The report's data as plain frozen dataclasses: what the templates see, nothing DuckDB-shaped.

Keeping the database out of the templates means the page can be tested from these objects alone and
the SQL can change without touching a template.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# Statuses that mean "there is no measured score": shown as a badge, never as 0 % or off track.
BADGE_STATUSES = ("stale", "no_data", "not_started", "invalid")


@dataclass(frozen=True)
class Point:
    day: dt.date
    value: float | None


@dataclass(frozen=True)
class MetricSeries:
    """A KR's metric through its window, in the same terms as its actual (cumulative or running ratio).

    kind: cumulative | running_ratio | running_max | days_counted | daily (the per-day value).
    pace: the expected line (baseline on the first day to target on the last), empty when not linear.
    levels: horizontal reference lines (thresholds, bands, milestones) as (label key, value).
    """

    kind: str
    points: list[Point]
    pace: list[Point] = field(default_factory=list)
    forecast: list[Point] = field(default_factory=list)
    levels: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Mover:
    """One campaign or channel's change over the last 7 days versus the 7 before.

    effect: its share of the KR's own 7-day change, in the metric's unit. For sums that is the change
    of its numerator; for ratios its term of an exact additive split of the ratio's change (the effects
    of all campaigns add up to the KR's change), so a big cheap campaign and a small dear one compare.
    """

    label: str
    detail: str
    last7: float | None
    prev7: float | None
    effect: float
    ratio_last7: float | None = None
    ratio_prev7: float | None = None

    @property
    def delta(self) -> float:
        return (self.last7 or 0.0) - (self.prev7 or 0.0)

    @property
    def ratio_delta(self) -> float | None:
        if self.ratio_last7 is None or self.ratio_prev7 is None:
            return None
        return self.ratio_last7 - self.ratio_prev7


@dataclass(frozen=True)
class Movers:
    total: Mover | None = None
    campaigns: list[Mover] = field(default_factory=list)
    channels: list[Mover] = field(default_factory=list)
    is_ratio: bool = False

    @property
    def empty(self) -> bool:
        return not self.campaigns and not self.channels


@dataclass(frozen=True)
class KeyResult:
    id: str
    objective_id: str
    title: str
    owner: str | None
    metric: str
    unit: str | None
    currency: str | None
    direction: str | None
    actual: float | None
    baseline: float | None
    target: float | None
    baseline_kind: str | None  # measured baselines: same_period_last_year / previous_period
    target_text: str | None  # relative targets as written: +30%, x2
    progress: float | None
    score: float | None
    expected_progress: float | None
    forecast: float | None
    forecast_score: float | None
    forecast_low: float | None  # the forecast's band, when the engine provides one
    forecast_high: float | None
    status: str
    data_through: dt.date | None
    window_start: dt.date
    window_end: dt.date
    note: str | None
    weight: float | None
    self_reported: bool
    history: list[Point]
    series: MetricSeries
    movers: Movers

    @property
    def badges(self) -> list[str]:
        """Status badges shown beside the status; the self_reported hook is filled from the definitions."""
        out = [self.status] if self.status in BADGE_STATUSES else []
        if self.self_reported:
            out.append("self_reported")
        return out


@dataclass(frozen=True)
class Kpi:
    id: str
    title: str
    owner: str | None
    metric: str
    unit: str | None
    currency: str | None
    actual: float | None
    band_low: float | None
    band_high: float | None
    status: str
    data_through: dt.date | None
    window_start: dt.date
    window_end: dt.date
    series: MetricSeries

    @property
    def badges(self) -> list[str]:
        return [self.status] if self.status in BADGE_STATUSES else []


@dataclass(frozen=True)
class Objective:
    id: str
    title: str
    owner: str | None
    parent: str | None
    type: str
    period_start: dt.date | None
    period_end: dt.date | None
    score: float | None
    forecast_score: float | None
    expected_progress: float | None
    status: str
    key_results: list[KeyResult]
    children: list[Objective] = field(default_factory=list)
    depth: int = 0


@dataclass(frozen=True)
class SourceFreshness:
    source: str
    data_through: dt.date | None
    lag_days: int | None


@dataclass(frozen=True)
class MissingValues:
    source: str
    metric: str
    missing: int
    rows: int


@dataclass(frozen=True)
class QualityItem:
    """One KR (or KPI, or a KR's measured baseline) whose data a quality note concerns.

    origin daily: `flagged` of the `checked` days of its window were affected; origin period: the one
    whole-window GA4 query its distinct count came from was.
    """

    title: str
    origin: str
    flagged: int
    checked: int
    window_start: dt.date | None
    window_end: dt.date | None
    baseline: bool = False


@dataclass(frozen=True)
class QualityNote:
    """A plain-words note from a source check (sampling, thresholding, the (other) row, unmatched).

    `text` is the English sentence (logs, plain output); the page builds both languages from `items`
    and `share` (the lowest share of the data GA4 read, for sampling) when there are items.
    """

    kind: str
    source: str
    text: str
    items: tuple[QualityItem, ...] = ()
    share: float | None = None


@dataclass(frozen=True)
class DataQuality:
    freshness: list[SourceFreshness]
    missing: list[MissingValues]
    no_data: list[KeyResult | Kpi]
    notes: list[QualityNote] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    as_of: dt.date
    computed_at: dt.datetime | None
    roots: list[Objective]
    kpis: list[Kpi]
    quality: DataQuality

    def walk(self) -> list[Objective]:
        """Every objective, parents before their children (the alignment order)."""
        out: list[Objective] = []
        stack = list(reversed(self.roots))
        while stack:
            obj = stack.pop()
            out.append(obj)
            stack.extend(reversed(obj.children))
        return out

    @property
    def key_results(self) -> list[KeyResult]:
        return [kr for obj in self.walk() for kr in obj.key_results]
