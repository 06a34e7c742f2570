"""Turn okr_defs into small tables the scoring query joins against: specs, metric roles and filters.

Everything an analyst wrote reaches SQL only as data in these tables (bound by DuckDB) or as SQL
the project compiled from a checked expression tree, never as text. Measured baselines become extra
"baseline" rows scored by the same pass over their own window.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

import pandas as pd

from pipelines.lib.spec import OkrDefs
from pipelines.lib.spec.expressions import compile_expression, parse_expression
from pipelines.lib.spec.models import (
    FILTER_DIMENSIONS,
    BaseMetric,
    ExpressionMetric,
    Filters,
    KeyResult,
    MeasuredBaseline,
    Objective,
    RatioMetric,
    RelativeTarget,
)

SPEC_COLUMNS = {
    "kr_key": "VARCHAR",
    "kind": "VARCHAR",
    "base_key": "VARCHAR",
    "objective_id": "VARCHAR",
    "kr_id": "VARCHAR",
    "title": "VARCHAR",
    "owner": "VARCHAR",
    "metric": "VARCHAR",
    "unit": "VARCHAR",
    "position": "INTEGER",
    "direction": "VARCHAR",
    "measure": "VARCHAR",
    "num_agg": "VARCHAR",
    "cumulative": "BOOLEAN",
    "has_den": "BOOLEAN",
    "expr_id": "INTEGER",
    "window_start": "DATE",
    "window_end": "DATE",
    "pace_start": "DATE",
    "pace_end": "DATE",
    "baseline": "DOUBLE",
    "baseline_key": "VARCHAR",
    "baseline_kind": "VARCHAR",
    "pace_key": "VARCHAR",
    "target": "DOUBLE",
    "target_factor": "DOUBLE",
    "target_text": "VARCHAR",
    "band_low": "DOUBLE",
    "band_high": "DOUBLE",
    "weight": "DOUBLE",
    "objective_type": "VARCHAR",
    "self_reported": "BOOLEAN",
    "reported_value": "DOUBLE",
    "reported_on": "DATE",
    "definition_hash": "VARCHAR",
}
GLOB_CHARS = set("*?[")
SOURCE_COLUMNS = ["kr_key", "source", "allowed_lag_days"]


@dataclass
class Specs:
    """The three tables plus the SQL compiled from expression metrics (CASE expr_id WHEN n THEN ...)."""

    specs: pd.DataFrame
    metrics: pd.DataFrame
    filters: pd.DataFrame
    sources: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SOURCE_COLUMNS))
    expr_sql: str = "CAST(NULL AS DOUBLE)"
    expr_params: dict[str, str] = field(default_factory=dict)


@dataclass
class _Builder:
    defs: OkrDefs
    as_of: dt.date
    specs: list[dict] = field(default_factory=list)
    roles: list[dict] = field(default_factory=list)
    filters: list[dict] = field(default_factory=list)
    expr_ids: dict[str, int] = field(default_factory=dict)

    def stored(self, name: str) -> str:
        metric = self.defs.metrics[name]
        return (metric.column if isinstance(metric, BaseMetric) else None) or name

    def metric_fields(self, key: str, name: str | None) -> dict:
        """How the KR's metric is aggregated, and its metric roles (num/den/expr) for the join."""
        if name is None:
            return {"num_agg": "none", "cumulative": False, "has_den": False, "expr_id": None, "unit": None}
        metric = self.defs.metrics[name]
        if isinstance(metric, RatioMetric):
            num, den = metric.ratio
            self.roles += [
                {"kr_key": key, "metric": self.stored(num), "role": "num"},
                {"kr_key": key, "metric": self.stored(den), "role": "den"},
            ]
            return {"num_agg": "sum", "cumulative": False, "has_den": True, "expr_id": None, "unit": metric.unit}
        if isinstance(metric, ExpressionMetric):
            expr_id = self.expr_ids.setdefault(name, len(self.expr_ids) + 1)
            base = {n for n, m in self.defs.metrics.items() if isinstance(m, BaseMetric)}
            for part in parse_expression(metric.expr, base).metrics:
                self.roles.append({"kr_key": key, "metric": self.stored(part), "role": "expr"})
            return {"num_agg": "expr", "cumulative": False, "has_den": False, "expr_id": expr_id, "unit": metric.unit}
        self.roles.append({"kr_key": key, "metric": self.stored(name), "role": "num"})
        return {
            "num_agg": metric.agg,
            "cumulative": metric.additive,
            "has_den": False,
            "expr_id": None,
            "unit": metric.unit,
        }

    def add_filters(self, key: str, filters: Filters) -> None:
        for name, values in filters.items():
            for value in values:
                self.filters.append(
                    {
                        "kr_key": key,
                        "dimension": FILTER_DIMENSIONS[name],
                        "pattern": value,
                        "is_glob": any(c in GLOB_CHARS for c in value),
                    }
                )


def kr_key(objective_id: str, kr_id: str) -> str:
    """The key of a KR in the scoring tables (okr.kr_daily, okr.kr_contributions): `objective/kr`."""
    return f"{objective_id}/{kr_id}"


def kpi_key(kpi_id: str) -> str:
    """The key of a KPI: `kpi:id`. Ids cannot hold `:` or `/` and a KR key always holds one `/`, so no KR
    key can equal it (`kpi/x` could: the KR `x` of an objective named `kpi`)."""
    return f"kpi:{kpi_id}"


def kr_window(obj: Objective, kr: KeyResult, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The KR's own window, the trailing N days to as-of, or the objective's period.

    Only a self-reported milestone may have neither (the load-time check exempts it: its value is
    typed, not measured over a window); it gets the span its objective's measured KRs cover.
    """
    if kr.window is not None and kr.window.trailing_days:
        return as_of - dt.timedelta(days=kr.window.trailing_days - 1), as_of
    if kr.window is not None and kr.window.start is not None and kr.window.end is not None:
        return kr.window.start, kr.window.end
    if obj.period is not None:
        return obj.period.start, obj.period.end
    if kr.self_reported and kr.reported_on is not None:
        return _objective_span(obj, kr.reported_on)
    raise ValueError(f"key result {obj.id}/{kr.id} has no window and its objective no period")  # checked at load


def _objective_span(obj: Objective, reported_on: dt.date) -> tuple[dt.date, dt.date]:
    """From the earliest start to the latest end of the objective's fixed KR windows and the report day:
    the dates the objective actually covers when it names no period."""
    starts, ends = [reported_on], [reported_on]
    for window in (kr.window for kr in obj.key_results):
        if window is not None and window.start is not None and window.end is not None:
            starts.append(window.start)
            ends.append(window.end)
    return min(starts), max(ends)


def baseline_window(kind: str, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The equal-length window just before, or the same dates a year earlier (29 Feb → 28 Feb)."""
    if kind == "previous_period":
        length = (end - start).days + 1
        return start - dt.timedelta(days=length), start - dt.timedelta(days=1)
    return _year_earlier(start), _year_earlier(end)


def _year_earlier(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _kr_row(b: _Builder, obj: Objective, kr: KeyResult, key: str) -> dict:
    start, end = kr_window(obj, kr, b.as_of)
    pace = (
        (start, end)
        if not (kr.window and kr.window.trailing) or obj.period is None
        else (obj.period.start, obj.period.end)
    )
    target = kr.target
    row = {
        "kr_key": key,
        "kind": "kr",
        "objective_id": obj.id,
        "kr_id": kr.id,
        "title": kr.title or kr.id,
        "owner": kr.owner or obj.owner,
        "metric": kr.metric,
        "position": len(b.specs),
        "direction": kr.kind,
        "measure": kr.measure,
        "window_start": start,
        "window_end": end,
        "pace_start": pace[0],
        "pace_end": pace[1],
        "baseline": kr.baseline if isinstance(kr.baseline, float) else None,
        "target": target if isinstance(target, float) else None,
        "target_factor": target.factor if isinstance(target, RelativeTarget) else None,
        "target_text": target.text if isinstance(target, RelativeTarget) else None,
        "weight": kr.weight,
        "objective_type": obj.type,
        "self_reported": kr.self_reported,
        "reported_value": kr.value,
        "reported_on": kr.reported_on,
    }
    row |= b.metric_fields(key, kr.metric)
    if kr.pacing == "seasonal" and row["cumulative"]:
        _add_shadow(b, row, kr, "pace", baseline_window("same_period_last_year", start, end))
    if isinstance(kr.baseline, MeasuredBaseline):
        row |= {"baseline_key": f"{key}#baseline", "baseline_kind": kr.baseline.kind}
        b_start, b_end = baseline_window(kr.baseline.kind, start, end)
        base_row = {
            **row,
            "kr_key": f"{key}#baseline",
            "kind": "baseline",
            "base_key": key,
            "window_start": b_start,
            "window_end": b_end,
            "baseline_key": None,
            "position": None,
        }
        b.specs.append(base_row)
        b.metric_fields(base_row["kr_key"], kr.metric)
        b.add_filters(base_row["kr_key"], kr.filters)
    return row


def _add_shadow(b: _Builder, row: dict, kr: KeyResult, kind: str, window: tuple[dt.date, dt.date]) -> None:
    """A copy of the KR over another window (seasonal pace: the same dates a year earlier)."""
    key = f"{row['kr_key']}#{kind}"
    row[f"{kind}_key"] = key
    shadow = {
        **row,
        "kr_key": key,
        "kind": kind,
        "base_key": row["kr_key"],
        "window_start": window[0],
        "window_end": window[1],
        "baseline_key": None,
        "pace_key": None,
        "position": None,
    }
    b.specs.append(shadow)
    b.metric_fields(key, kr.metric)
    b.add_filters(key, kr.filters)


def build_specs(defs: OkrDefs, as_of: dt.date) -> Specs:
    """One spec row per KR, KPI and measured baseline; metric roles; one filter row per value."""
    b = _Builder(defs, as_of)
    for obj in defs.objectives:
        for kr in obj.key_results:
            key = kr_key(obj.id, kr.id)
            b.specs.append(_kr_row(b, obj, kr, key) | {"definition_hash": _hash(defs, kr.metric, obj, kr)})
            b.add_filters(key, kr.filters)
    for kpi in defs.kpis:
        key = kpi_key(kpi.id)
        row = {
            "kr_key": key,
            "kind": "kpi",
            "kr_id": kpi.id,
            "title": kpi.title,
            "owner": kpi.owner,
            "metric": kpi.metric,
            "position": len(b.specs),
            "direction": "band",
            "measure": "at_end",
            "window_start": as_of - dt.timedelta(days=kpi.trailing_days - 1),
            "window_end": as_of,
            "pace_start": as_of,
            "pace_end": as_of,
            "band_low": kpi.band.low,
            "band_high": kpi.band.high,
            "self_reported": False,
        }
        b.specs.append(row | b.metric_fields(key, kpi.metric) | {"definition_hash": _hash(defs, kpi.metric, kpi)})
        b.add_filters(key, kpi.filters)
    return _finish(b)


def _hash(defs: OkrDefs, metric: str | None, *parts: object) -> str:
    """What the score was computed from: the KR (or KPI), its objective and its metric's definition."""
    text = json.dumps(
        [p.model_dump(mode="json") for p in parts if hasattr(p, "model_dump")]
        + [defs.metrics[metric].model_dump(mode="json") if metric else None],
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def behind(defs: OkrDefs, specs: pd.DataFrame, metrics: pd.DataFrame, filters: pd.DataFrame) -> pd.DataFrame:
    """(kr_key, source, allowed_lag_days): the sources whose freshness a KR depends on.

    A source is behind a KR when it delivers one of the KR's measures and is not excluded by the KR's
    exact `platform` or `source` filters (globs are kept: they may match).
    """
    rows = []
    measures_of: dict[str, set[str]] = {}
    for key, metric in zip(metrics["kr_key"], metrics["metric"], strict=True):
        measures_of.setdefault(key, set()).add(metric)
    exact: dict[tuple[str, str], set[str]] = {}
    for key, dim, pattern, glob in filters.itertuples(index=False):
        if not glob:
            exact.setdefault((key, dim), set()).add(pattern)
    provided = {name: set(src.metrics) for name, src in defs.sources.items()}
    for key in specs["kr_key"]:
        measures = measures_of.get(key, set())
        platforms, names = exact.get((key, "platform"), set()), exact.get((key, "source"), set())
        for name, src in defs.sources.items():
            if not measures & provided[name] or (platforms and src.platform not in platforms):
                continue
            if names and name not in names:
                continue
            rows.append({"kr_key": key, "source": name, "allowed_lag_days": src.allowed_lag_days})
    return pd.DataFrame(rows, columns=SOURCE_COLUMNS)


def _finish(b: _Builder) -> Specs:
    specs = pd.DataFrame(b.specs, columns=list(SPEC_COLUMNS))
    metrics = pd.DataFrame(b.roles, columns=["kr_key", "metric", "role"]).drop_duplicates()
    filters = pd.DataFrame(b.filters, columns=["kr_key", "dimension", "pattern", "is_glob"])
    result = Specs(specs=specs, metrics=metrics, filters=filters, sources=behind(b.defs, specs, metrics, filters))
    if b.expr_ids:
        base = {n for n, m in b.defs.metrics.items() if isinstance(m, BaseMetric)}
        stored = {n: b.stored(n) for n in base}
        cases = []
        for name, expr_id in b.expr_ids.items():
            metric = b.defs.metrics[name]
            sql, params = compile_expression(parse_expression(metric.expr, base), f"e{expr_id}", stored)
            cases.append(f"WHEN {int(expr_id)} THEN {sql}")
            result.expr_params |= params
        result.expr_sql = "CASE any_value(expr_id) " + " ".join(cases) + " END"
    return result
