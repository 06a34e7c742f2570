"""Rules for distinct-count metrics (`agg: period`), which are queried per KR window, never summed.

A user who visits on ten days is one user of the quarter but ten "daily users"; a user who came through
two campaigns is one user but two "campaign users". So a period metric can only be asked of a source
that counts distinct users over any window under any filter (GA4), once per KR window, and its value
can take part in nothing that adds values up: a ratio of sums, an expression, a share of days.
A file export's column named like a distinct count (Reach, totalUsers) that feeds a summed metric is
warned about too: nothing else would show that its window totals count people once per day.
Each rule reports at the key the analyst has to change.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from connectors.ga4_config import NON_ADDITIVE
from pipelines.lib.spec.errors import DefsError
from pipelines.lib.spec.expressions import ExpressionError, parse_expression
from pipelines.lib.spec.models import (
    BaseMetric,
    ColumnRef,
    ExpressionMetric,
    FileSource,
    Filters,
    Ga4Source,
    KeyResult,
    Kpi,
    RatioMetric,
    Source,
)

if TYPE_CHECKING:
    from pipelines.lib.spec.loader import Anchor, OkrDefs

# Filters that choose which source answers; the others become the GA4 query's dimensionFilter.
SOURCE_FILTERS = ("platform", "source", "account")
# Export columns that hold a distinct count (Meta "Reach", "Unique link clicks", "Frequency"; GA4 "totalUsers",
# "Active users"): matched anywhere in the name, whatever the case, since every platform spells them its own way.
DISTINCT_COUNT_COLUMN = re.compile(r"reach|users|unique|frequency", re.IGNORECASE)


def period_columns(defs: OkrDefs) -> set[str]:
    """Stored names of the period metrics (a metric's `column`, else its name)."""
    return {m.column or n for n, m in defs.metrics.items() if isinstance(m, BaseMetric) and m.per_period}


def period_metric(defs: OkrDefs, name: str | None) -> BaseMetric | None:
    """The catalogue metric `name` when it is a period metric."""
    metric = defs.metrics.get(name) if name else None
    return metric if isinstance(metric, BaseMetric) and metric.per_period else None


def value_matches(value: str, patterns: list[str]) -> bool:
    """A filter's values match as they do on daily rows: exactly, or as a glob when they hold * ? [."""
    return any(fnmatchcase(value, p) if any(c in p for c in "*?[") else value == p for p in patterns)


def source_selected(name: str, src: Source, filters: Filters) -> bool:
    """Whether a KR's platform, source and account filters (exact or glob, as on daily rows) leave the source
    in. The other filters (campaign, channel, ...) match values only the data knows, so they exclude nothing here.
    """
    chosen = dict(filters.items())
    if "platform" in chosen and not value_matches(src.platform, chosen["platform"]):
        return False
    if "source" in chosen and not value_matches(name, chosen["source"]):
        return False
    return "account" not in chosen or any(value_matches(a, chosen["account"]) for a in src.accounts())


def period_sources(defs: OkrDefs, column: str, filters: Filters) -> list[str]:
    """The GA4 sources that answer a period query for a KR: they map the column, and the KR's platform,
    source and account filters do not exclude them."""
    return [
        name
        for name, src in sorted(defs.sources.items())
        if isinstance(src, Ga4Source) and column in src.metrics and source_selected(name, src, filters)
    ]


def check_periods(defs: OkrDefs) -> list[DefsError]:
    if not defs.metrics:
        return []
    errors = _check_catalogue(defs) + _check_sources(defs) + _check_summed_distinct_columns(defs)
    for item, anchor, who in defs.measured():
        errors += _check_reader(defs, item, anchor, who)
    return errors


def _check_catalogue(defs: OkrDefs) -> list[DefsError]:
    errors = []
    base = {n for n, m in defs.metrics.items() if isinstance(m, BaseMetric)}
    daily_columns = {m.column or n for n, m in defs.metrics.items() if isinstance(m, BaseMetric) and not m.per_period}
    for name, metric in defs.metrics.items():
        anchor = defs.where[f"metric:{name}"]
        if isinstance(metric, RatioMetric):
            for part in metric.ratio:
                if period_metric(defs, part):
                    errors.append(
                        anchor.error(
                            f"metric {name}: {part!r} is a distinct count (agg: period) and cannot be part of a "
                            "ratio of sums: its values cannot be added over days or campaigns",
                            "ratio",
                        )
                    )
        elif isinstance(metric, ExpressionMetric):
            try:
                used = parse_expression(metric.expr, base).metrics
            except ExpressionError:
                continue  # reported by the catalogue check
            for part in sorted(p for p in used if period_metric(defs, p)):
                errors.append(
                    anchor.error(
                        f"metric {name}: {part!r} is a distinct count (agg: period) and cannot be used in an "
                        "expression, which aggregates daily rows",
                        "expr",
                    )
                )
        elif isinstance(metric, BaseMetric) and metric.per_period:
            column = metric.column or name
            if metric.unit == "currency":
                errors.append(
                    anchor.error(
                        f"metric {name}: money adds up over days; give it agg: sum (agg: period is for "
                        "distinct counts such as users)",
                        "agg",
                    )
                )
            if column in daily_columns:
                errors.append(
                    anchor.error(
                        f"metric {name}: measure {column!r} is read per period here and per day by another "
                        "metric; a measure is one or the other",
                        "agg",
                    )
                )
    return errors


def _check_sources(defs: OkrDefs) -> list[DefsError]:
    errors = []
    periods = period_columns(defs)
    for key, src in defs.sources.items():
        anchor = defs.where[f"source:{key}"]
        if isinstance(src, Ga4Source):
            for column, ga4 in src.metrics.items():
                if ga4 in NON_ADDITIVE and column not in periods:
                    errors.append(
                        anchor.error(
                            f"source {key}: GA4 {ga4!r} counts distinct users; summed over days it counts a "
                            f"returning user once per day. Declare {column}: {{agg: period}} in metrics.yaml so "
                            "each KR window is queried whole",
                            "metrics",
                            column,
                        )
                    )
            continue
        for column in sorted(periods & set(src.metrics)):
            why = "a file of daily rows" if isinstance(src, FileSource) else f"the {src.platform} daily report"
            errors.append(
                anchor.error(
                    f"source {key}: {column!r} is a distinct count (agg: period) and {why} cannot give it for a "
                    "KR window (days do not add up); only a GA4 source can be asked for a whole window",
                    *(("metrics", column) if isinstance(src, FileSource) else ()),
                )
            )
    return errors


def _summed_by(defs: OkrDefs, measure: str) -> list[str]:
    """The catalogue metrics that add up the stored measure `measure` over days (agg: sum)."""
    return sorted(
        name
        for name, m in defs.metrics.items()
        if isinstance(m, BaseMetric) and m.agg == "sum" and (m.column or name) == measure
    )


def _check_summed_distinct_columns(defs: OkrDefs) -> list[DefsError]:
    """Warn where a file export's distinct-count column (reach, users, ...) feeds a metric summed over days.

    A warning, not an error: the column name is only a hint (an export may be cumulative, or "users" may
    mean something else), but when it is what it looks like, every window total is too high with no sign of
    it; Meta's API is never asked for reach for the same reason (see connectors/meta_ads.py).
    """
    out = []
    for key, src in defs.sources.items():
        if not isinstance(src, FileSource):
            continue
        anchor = defs.where[f"source:{key}"]
        for measure, mapping in src.metrics.items():
            column = mapping.column if isinstance(mapping, ColumnRef) else mapping
            if not isinstance(column, str) or not DISTINCT_COUNT_COLUMN.search(column):
                continue
            summed = _summed_by(defs, measure)
            if not summed:
                continue
            out.append(
                anchor.error(
                    f"source {key}: column {column!r} looks like a distinct count (reach, users, unique ..., "
                    f"frequency), but metric {summed[0]!r} adds it up over days (agg: sum). Distinct counts do not "
                    "add up: a person reached on ten days is one person, not ten, and a frequency is an average. "
                    "Only a GA4 API source can answer for a whole period (agg: period); if this export is "
                    f"cumulative (each day holds the total to date), give {summed[0]} agg: max or agg: last in "
                    "metrics.yaml, otherwise leave the column out",
                    "metrics",
                    measure,
                    warning=True,
                )
            )
    return out


def _check_reader(defs: OkrDefs, item: KeyResult | Kpi, anchor: Anchor, who: str) -> list[DefsError]:
    metric = period_metric(defs, item.metric)
    if metric is None:
        return []
    errors = []
    column = metric.column or item.metric
    if isinstance(item, KeyResult) and item.kind in ("stay_above", "stay_below") and item.measure == "share_of_days":
        errors.append(
            anchor.error(
                f"{who}: {item.metric!r} is a distinct count with no daily values, so the share of days it held "
                "cannot be measured; use measure: at_end (the value over the window at its end)",
                "measure" if "measure" in item.model_fields_set else "direction",
            )
        )
    if item.filters.unified_campaign is not None:
        errors.append(
            anchor.error(
                f"{who}: a period query cannot filter on unified_campaign (a link the mart makes between platforms); "
                "filter GA4 on campaign or campaign_id",
                "filters",
                "unified_campaign",
            )
        )
    found = period_sources(defs, column, item.filters)
    if not found:
        errors.append(
            anchor.error(
                f"{who}: no GA4 source maps {column!r} (agg: period) under this KR's platform/source/account "
                "filters; map it in a GA4 source's metrics, e.g. users: totalUsers",
                "metric",
            )
        )
    elif len(found) > 1:
        errors.append(
            anchor.error(
                f"{who}: {column!r} comes from {len(found)} GA4 sources ({', '.join(found)}); users of different "
                f"properties cannot be de-duplicated, so choose one with filters: {{source: {found[0]}}}",
                "filters" if item.filters.items() else "metric",
            )
        )
    return errors
