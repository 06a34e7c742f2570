"""metrics.yaml: the metric catalogue — base measures, ratios of sums and restricted expressions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from pipelines.lib.spec.base import MetricName, Strict

Unit = Literal["count", "currency", "percent", "ratio", "number"]


class BaseMetric(Strict):
    """A measure stored in the mart, aggregated over a KR window.

    `column` names the stored measure when it differs from the metric's own name, so one measure can
    back several metrics (e.g. clicks summed, and peak daily clicks with agg: max). Only `sum` and
    `count` are additive: a ratio or a cumulative KR over a `max`/`last` metric would be meaningless.

    `period` is a distinct count (GA4 totalUsers, activeUsers): a user who came on ten days is one user
    in the quarter, so its value is never a sum of days (or campaigns). A source that can answer for a
    whole window (GA4) is asked once per KR window with the KR's filters; the value is stored in
    marts.period_metrics and read from there as the KR's actual.
    """

    column: MetricName | None = None
    agg: Literal["sum", "count", "max", "last", "period"] = Field(
        default="sum",
        description="sum | count (days with a value) | max | last | period (a distinct count such as users, "
        "queried for each KR's whole window, never summed over days)",
    )
    unit: Unit = "count"
    label: str | None = None

    @property
    def additive(self) -> bool:
        return self.agg in {"sum", "count"}

    @property
    def per_period(self) -> bool:
        """Queried per KR window from the source (never stored per day)."""
        return self.agg == "period"


class RatioMetric(Strict):
    """numerator / denominator, each summed over the window first (ratio of sums, never mean of ratios)."""

    ratio: tuple[MetricName, MetricName]
    unit: Unit = "ratio"
    label: str | None = None


class ExpressionMetric(Strict):
    """An expression over aggregates of base metrics, e.g. `(sum(revenue) - sum(spend)) / nullif(sum(spend), 0)`.

    It is parsed and checked against an allow-list (see spec/expressions.py) and compiled by the
    project; the YAML text itself never reaches SQL.
    """

    expr: str = Field(min_length=1, max_length=2000)
    unit: Unit = "number"
    label: str | None = None


def _metric_kind(value: Any) -> str:
    """Pick the model by its telling key, so a typo yields one precise error rather than three."""
    if isinstance(value, dict):
        if "ratio" in value:
            return "ratio_metric"
        if "expr" in value:
            return "expression_metric"
    elif isinstance(value, RatioMetric | ExpressionMetric):
        return "ratio_metric" if isinstance(value, RatioMetric) else "expression_metric"
    return "base_metric"


Metric = Annotated[
    Annotated[BaseMetric, Tag("base_metric")]
    | Annotated[RatioMetric, Tag("ratio_metric")]
    | Annotated[ExpressionMetric, Tag("expression_metric")],
    Discriminator(_metric_kind),
]
UNION_TAGS = {
    "base_metric",
    "ratio_metric",
    "expression_metric",
    "number",
    "measured",
    "file",
    "google_ads",
    "meta_ads",
    "ga4",
}


class MetricsFile(Strict):
    metrics: dict[MetricName, Metric]
