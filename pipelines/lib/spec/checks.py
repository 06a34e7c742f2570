"""Rules that span files: references between sources, the metric catalogue and objectives.

Each rule reports at the key where the analyst wrote the reference, so the fix is one jump away;
method advice (3-4 KRs per objective, ...) comes back as warnings, never as errors.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from pipelines.lib.spec.errors import DefsError
from pipelines.lib.spec.expressions import ExpressionError, parse_expression
from pipelines.lib.spec.models import (
    BaseMetric,
    ExpressionMetric,
    FileSource,
    KeyResult,
    Objective,
    RatioMetric,
    RelativeTarget,
)

if TYPE_CHECKING:
    from pipelines.lib.spec.loader import OkrDefs


def suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def cross_check(defs: OkrDefs) -> list[DefsError]:
    from pipelines.lib.spec.conversion_checks import check_conversions
    from pipelines.lib.spec.credentials import check_credentials
    from pipelines.lib.spec.period_checks import check_periods

    return [
        *_check_metrics(defs),
        *_check_sources(defs),
        *_check_objectives(defs),
        *_check_kpis(defs),
        *check_periods(defs),
        *_lint(defs),
        *check_conversions(defs),
        *check_credentials(defs.root),
    ]


def _check_metrics(defs: OkrDefs) -> list[DefsError]:
    errors = []
    base = {n for n, m in defs.metrics.items() if isinstance(m, BaseMetric)}
    for name, metric in defs.metrics.items():
        anchor = defs.where[f"metric:{name}"]
        if isinstance(metric, RatioMetric):
            for part in metric.ratio:
                ref = defs.metrics.get(part)
                if ref is None:
                    msg = f"metric {name}: ratio refers to unknown metric {part!r}{suggest(part, sorted(base))}"
                    errors.append(anchor.error(msg, "ratio"))
                elif not isinstance(ref, BaseMetric):
                    errors.append(
                        anchor.error(f"metric {name}: ratio parts must be base metrics; {part!r} is not", "ratio")
                    )
                elif not ref.additive and not ref.per_period:  # period parts: see period_checks
                    errors.append(
                        anchor.error(
                            f"metric {name}: a ratio of sums needs additive parts; {part!r} aggregates by {ref.agg}",
                            "ratio",
                        )
                    )
        elif isinstance(metric, ExpressionMetric):
            try:
                parse_expression(metric.expr, base)
            except ExpressionError as exc:
                errors.append(anchor.error(f"metric {name}: {exc}", "expr"))
    return errors


def _check_api_source(defs: OkrDefs, key: str) -> list[DefsError]:
    """Build the connector's configuration now, so `okr validate` catches what the nightly run would."""
    from pipelines.lib.api_sources import connector_config

    try:
        connector_config(defs, key)
    except Exception as exc:
        return [defs.where[f"source:{key}"].error(f"source {key}: {exc}".replace(f"source {key!r}: ", ""))]
    return []


def _check_sources(defs: OkrDefs) -> list[DefsError]:
    errors = []
    for key, source in defs.sources.items():
        if not isinstance(source, FileSource):
            errors += _check_api_source(defs, key)
    base = sorted(n for n, m in defs.metrics.items() if isinstance(m, BaseMetric))
    stored = {(m.column or n) for n, m in defs.metrics.items() if isinstance(m, BaseMetric)}
    for key, source in defs.sources.items():
        if not isinstance(source, FileSource):
            continue  # API sources deliver a fixed set of measures; KRs name the ones they use
        anchor = defs.where[f"source:{key}"]
        for metric in source.metrics:
            found = defs.metrics.get(metric)
            if found is None and metric not in stored and defs.metrics:
                errors.append(
                    anchor.error(
                        f"source {key}: metric {metric!r} is not in metrics.yaml{suggest(metric, base)}",
                        "metrics",
                        metric,
                    )
                )
            elif found is not None and not isinstance(found, BaseMetric):
                errors.append(
                    anchor.error(f"source {key}: {metric!r} is derived; map base metrics only", "metrics", metric)
                )
    return errors


def stored_measures(defs: OkrDefs, name: str) -> set[str]:
    """The stored measures a catalogue metric reads (a ratio or expression: those of its parts)."""
    metric = defs.metrics.get(name)
    if isinstance(metric, BaseMetric):
        return {metric.column or name}
    if isinstance(metric, RatioMetric):
        return set().union(*(stored_measures(defs, p) for p in metric.ratio))
    if isinstance(metric, ExpressionMetric):
        base = {n for n, m in defs.metrics.items() if isinstance(m, BaseMetric)}
        try:
            return set().union(*(stored_measures(defs, p) for p in parse_expression(metric.expr, base).metrics))
        except ExpressionError:
            return set()
    return set()


def _check_filters(defs: OkrDefs, anchor, metric: str, filters) -> list[DefsError]:
    """A filter must be able to match: a dimension the metric's sources report, values they carry."""
    measures = stored_measures(defs, metric)
    providers = {k: s for k, s in defs.sources.items() if measures & set(s.metrics)}
    if not providers:
        return []
    errors = []
    for dim, values in filters.items():
        if not any(dim in s.reported_dimensions() for s in providers.values()):
            errors.append(
                anchor.error(
                    f"filter {dim}: no source of metric {metric!r} reports {dim} ({', '.join(sorted(providers))})",
                    "filters",
                    dim,
                )
            )
            continue
        known = {
            "platform": {s.platform for s in providers.values()},
            "source": set(providers),
            "account": set().union(*(s.accounts() for s in providers.values())),
        }.get(dim)
        for value in values:
            if known is not None and not any(c in value for c in "*?[") and value not in known:
                errors.append(
                    anchor.error(
                        f"filter {dim}: {value!r} matches no source of metric {metric!r}"
                        f"{suggest(value, sorted(known))}",
                        "filters",
                        dim,
                    )
                )
    return errors


def _check_objectives(defs: OkrDefs) -> list[DefsError]:
    errors: list[DefsError] = []
    seen: set[str] = set()
    ids = sorted({o.id for o in defs.objectives})
    for obj in defs.objectives:
        anchor = defs.anchor(obj)
        if obj.id in seen:
            errors.append(anchor.error(f"objective id {obj.id!r} is used twice", "id"))
        seen.add(obj.id)
        if obj.parent is not None and obj.parent not in ids:
            errors.append(
                anchor.error(f"objective {obj.id}: unknown parent {obj.parent!r}{suggest(obj.parent, ids)}", "parent")
            )
        kr_ids: set[str] = set()
        for kr in obj.key_results:
            kanchor = defs.anchor(kr)
            if kr.id in kr_ids:
                errors.append(kanchor.error(f"key result id {kr.id!r} is used twice in {obj.id}", "id"))
            kr_ids.add(kr.id)
            errors += _check_kr(defs, obj, kr, kanchor)
    return errors + _check_cycles(defs)


def _check_kr(defs: OkrDefs, obj: Objective, kr: KeyResult, anchor) -> list[DefsError]:
    errors = []
    if kr.metric is not None:
        if kr.self_reported:
            errors.append(anchor.error(f"key result {kr.id}: a self-reported milestone has no metric", "metric"))
        elif defs.metrics and kr.metric not in defs.metrics:
            hint = suggest(kr.metric, sorted(defs.metrics))
            errors.append(anchor.error(f"key result {kr.id}: unknown metric {kr.metric!r}{hint}", "metric"))
        else:
            errors += _check_filters(defs, anchor, kr.metric, kr.filters)
    window = kr.window
    fixed = window is not None and window.start is not None and window.end is not None
    if fixed and obj.period is not None and (window.start < obj.period.start or window.end > obj.period.end):
        errors.append(
            anchor.error(
                f"key result {kr.id}: window {window.start}..{window.end} is outside the objective's period "
                f"{obj.period.start}..{obj.period.end}",
                "window",
            )
        )
    unbounded = obj.period is None and id(obj) not in defs.partial
    if unbounded and (window is None or window.start is None) and not kr.self_reported:
        errors.append(
            anchor.error(
                f"key result {kr.id}: the objective has no period, so give the KR a window {{start, end}}", "window"
            )
        )
    return errors


def _check_kpis(defs: OkrDefs) -> list[DefsError]:
    errors, seen = [], set()
    for kpi in defs.kpis:
        anchor = defs.anchor(kpi)
        if kpi.id in seen:
            errors.append(anchor.error(f"kpi id {kpi.id!r} is used twice", "id"))
        seen.add(kpi.id)
        if defs.metrics and kpi.metric not in defs.metrics:
            errors.append(
                anchor.error(
                    f"kpi {kpi.id}: unknown metric {kpi.metric!r}{suggest(kpi.metric, sorted(defs.metrics))}", "metric"
                )
            )
        else:
            errors += _check_filters(defs, anchor, kpi.metric, kpi.filters)
    return errors


def _check_cycles(defs: OkrDefs) -> list[DefsError]:
    parent = {o.id: o.parent for o in defs.objectives}
    errors = []
    for start in parent:
        node, path = start, []
        while node is not None and node in parent:
            if node in path:
                if node == start:
                    chain = " -> ".join([*path, node])
                    errors.append(defs.where[f"objective:{start}"].error(f"alignment cycle: {chain}", "parent"))
                break
            path.append(node)
            node = parent[node]
    return errors


def _lint(defs: OkrDefs) -> list[DefsError]:
    """Method advice from the article: warnings, printed by `okr validate`, never blocking a run."""
    out = []
    for obj in defs.objectives:
        anchor = defs.anchor(obj)
        n = len(obj.key_results)
        if (n < 2 or n > 5) and id(obj) not in defs.partial:
            out.append(
                anchor.error(
                    f"objective {obj.id} has {n} key results; the method advises 3-4", "key_results", warning=True
                )
            )
        if obj.period is None and id(obj) not in defs.partial:
            out.append(anchor.error(f"objective {obj.id} has no period: an objective is time-bound", warning=True))
        for kr in obj.key_results:
            if kr.self_reported:
                out.append(
                    defs.anchor(kr).error(
                        f"key result {kr.id} has no measurable metric: its progress is self-reported",
                        "self_reported",
                        warning=True,
                    )
                )
        relative = [kr.target.factor for kr in obj.key_results if isinstance(kr.target, RelativeTarget)]
        if obj.type == "committed" and obj.key_results and len(relative) == n and min(relative) > 3:
            out.append(
                anchor.error(
                    f"committed objective {obj.id}: every KR targets more than x3 its baseline; "
                    "that is aspirational, not committed",
                    "type",
                    warning=True,
                )
            )
    return out


def lint_warnings(defs: OkrDefs) -> list[DefsError]:
    return defs.warnings
