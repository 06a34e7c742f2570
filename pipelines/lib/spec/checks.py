"""Rules that span files: references between sources, the metric catalogue and objectives.

Each rule reports at the line where the analyst wrote the reference, so the fix is one jump away.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.lib.spec.errors import DefsError
from pipelines.lib.spec.models import RatioMetric

if TYPE_CHECKING:
    from pipelines.lib.spec.loader import OkrDefs
    from pipelines.lib.spec.yaml_lines import LocatedYaml


def cross_check(defs: OkrDefs, docs: list[LocatedYaml]) -> list[DefsError]:
    errors: list[DefsError] = []
    errors += _check_metrics(defs)
    errors += _check_sources(defs)
    errors += _check_objectives(defs)
    return errors


def _at(defs: OkrDefs, key: str, message: str) -> DefsError:
    where = defs.where[key]
    return DefsError(where.file, where.line, message)


def _check_metrics(defs: OkrDefs) -> list[DefsError]:
    errors = []
    for name, metric in defs.metrics.items():
        if isinstance(metric, RatioMetric):
            for part in metric.ratio:
                ref = defs.metrics.get(part)
                if ref is None:
                    errors.append(
                        _at(defs, f"metric:{name}", f"metric {name}: ratio refers to unknown metric {part!r}")
                    )
                elif isinstance(ref, RatioMetric):
                    errors.append(
                        _at(
                            defs,
                            f"metric:{name}",
                            f"metric {name}: ratio parts must be base metrics, {part!r} is a ratio",
                        )
                    )
    return errors


def _check_sources(defs: OkrDefs) -> list[DefsError]:
    errors = []
    for key, source in defs.sources.items():
        for metric in source.metrics:
            found = defs.metrics.get(metric)
            if found is None and defs.metrics:
                errors.append(_at(defs, f"source:{key}", f"source {key}: metric {metric!r} is not in metrics.yaml"))
            elif isinstance(found, RatioMetric):
                errors.append(_at(defs, f"source:{key}", f"source {key}: {metric!r} is a ratio; map base metrics only"))
    return errors


def _check_objectives(defs: OkrDefs) -> list[DefsError]:
    errors: list[DefsError] = []
    seen: set[str] = set()
    for obj in defs.objectives:
        okey = f"objective:{obj.id}"
        if obj.id in seen:
            errors.append(_at(defs, okey, f"objective id {obj.id!r} is used twice"))
        seen.add(obj.id)
        kr_ids: set[str] = set()
        for kr in obj.key_results:
            kkey = f"kr:{obj.id}/{kr.id}"
            if kr.id in kr_ids:
                errors.append(_at(defs, kkey, f"key result id {kr.id!r} is used twice in {obj.id}"))
            kr_ids.add(kr.id)
            if defs.metrics and kr.metric not in defs.metrics:
                errors.append(_at(defs, kkey, f"key result {kr.id}: unknown metric {kr.metric!r}"))
    ids = {o.id for o in defs.objectives}
    for obj in defs.objectives:
        if obj.parent is not None and obj.parent not in ids:
            errors.append(_at(defs, f"objective:{obj.id}", f"objective {obj.id}: unknown parent {obj.parent!r}"))
    errors += _check_cycles(defs)
    kpi_ids: set[str] = set()
    for kpi in defs.kpis:
        if kpi.id in kpi_ids:
            errors.append(_at(defs, f"kpi:{kpi.id}", f"kpi id {kpi.id!r} is used twice"))
        kpi_ids.add(kpi.id)
        if defs.metrics and kpi.metric not in defs.metrics:
            errors.append(_at(defs, f"kpi:{kpi.id}", f"kpi {kpi.id}: unknown metric {kpi.metric!r}"))
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
                    errors.append(_at(defs, f"objective:{start}", f"alignment cycle: {chain}"))
                break
            path.append(node)
            node = parent[node]
    return errors


def lint_warnings(defs: OkrDefs) -> list[DefsError]:
    """Method advice that is not an error: 3-4 KRs per objective (2-5 tolerated)."""
    out = []
    for obj in defs.objectives:
        n = len(obj.key_results)
        if n < 2 or n > 5:
            out.append(
                _at(
                    defs,
                    f"objective:{obj.id}",
                    f"objective {obj.id} has {n} key results; 3-4 is the method's advice",
                )
            )
    return out
