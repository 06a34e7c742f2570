"""Turn okr_defs into two small tables the scoring query joins against: specs and filters.

Everything an analyst wrote reaches SQL only as data in these tables (bound by DuckDB), never as text.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.lib.spec import OkrDefs
from pipelines.lib.spec.models import FILTER_DIMENSIONS, BaseMetric, Filters, RatioMetric

SPEC_COLUMNS = [
    "kr_key",
    "kind",
    "objective_id",
    "kr_id",
    "title",
    "owner",
    "metric",
    "num_metric",
    "den_metric",
    "num_agg",
    "cumulative",
    "window_start",
    "window_end",
    "baseline",
    "target",
    "direction",
    "band_low",
    "band_high",
    "weight",
    "objective_type",
    "unit",
    "position",
]
GLOB_CHARS = set("*?[")


def _metric_parts(defs: OkrDefs, name: str) -> tuple[str, str | None, str, bool]:
    """(numerator, denominator, aggregation, cumulative) of a catalogue metric."""
    metric = defs.metrics[name]
    if isinstance(metric, RatioMetric):
        num, den = (_stored(defs, part) for part in metric.ratio)
        return num, den, "sum", False
    assert isinstance(metric, BaseMetric)
    return metric.column or name, None, metric.agg, metric.agg in {"sum", "count"}


def _stored(defs: OkrDefs, name: str) -> str:
    metric = defs.metrics[name]
    return (metric.column if isinstance(metric, BaseMetric) else None) or name


def build_specs(defs: OkrDefs, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One spec row per KR and KPI, one filter row per (KR, dimension, value)."""
    specs: list[dict] = []
    filters: list[dict] = []
    for obj in defs.objectives:
        for kr in obj.key_results:
            key = f"{obj.id}/{kr.id}"
            num, den, agg, cumulative = _metric_parts(defs, kr.metric)
            specs.append(
                {
                    "kr_key": key,
                    "kind": "kr",
                    "objective_id": obj.id,
                    "kr_id": kr.id,
                    "title": kr.title or kr.id,
                    "owner": kr.owner or obj.owner,
                    "metric": kr.metric,
                    "num_metric": num,
                    "den_metric": den,
                    "num_agg": agg,
                    "cumulative": cumulative,
                    "window_start": obj.period.start,
                    "window_end": obj.period.end,
                    "baseline": kr.baseline,
                    "target": kr.target,
                    "direction": kr.effective_direction,
                    "band_low": None,
                    "band_high": None,
                    "weight": kr.weight,
                    "objective_type": obj.type,
                    "unit": defs.metrics[kr.metric].unit,
                    "position": len(specs),
                }
            )
            filters += _filter_rows(key, kr.filters)
    for kpi in defs.kpis:
        key = f"kpi/{kpi.id}"
        num, den, agg, cumulative = _metric_parts(defs, kpi.metric)
        specs.append(
            {
                "kr_key": key,
                "kind": "kpi",
                "objective_id": None,
                "kr_id": kpi.id,
                "title": kpi.title,
                "owner": kpi.owner,
                "metric": kpi.metric,
                "num_metric": num,
                "den_metric": den,
                "num_agg": agg,
                "cumulative": cumulative,
                "window_start": as_of - dt.timedelta(days=kpi.trailing_days - 1),
                "window_end": as_of,
                "baseline": None,
                "target": None,
                "direction": None,
                "band_low": kpi.band.stay_above,
                "band_high": kpi.band.stay_below,
                "weight": None,
                "objective_type": None,
                "unit": defs.metrics[kpi.metric].unit,
                "position": len(specs),
            }
        )
        filters += _filter_rows(key, kpi.filters)
    spec_frame = pd.DataFrame(specs, columns=SPEC_COLUMNS)
    for col in ("baseline", "target", "band_low", "band_high", "weight"):
        spec_frame[col] = spec_frame[col].astype("float64")
    filter_frame = pd.DataFrame(filters, columns=["kr_key", "dimension", "pattern", "is_glob"])
    return spec_frame, filter_frame


def _filter_rows(key: str, filters: Filters) -> list[dict]:
    rows = []
    for name, values in filters.items():
        for value in values:
            rows.append(
                {
                    "kr_key": key,
                    "dimension": FILTER_DIMENSIONS[name],
                    "pattern": value,
                    "is_glob": any(c in GLOB_CHARS for c in value),
                }
            )
    return rows
