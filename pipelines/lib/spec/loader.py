"""Load okr_defs/ into validated models, collecting every error with its file and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from pipelines.lib.spec.checks import cross_check
from pipelines.lib.spec.errors import DefsError, DefsErrors
from pipelines.lib.spec.models import (
    BaseMetric,
    KeyResult,
    Kpi,
    MetricsFile,
    Objective,
    ObjectivesFile,
    RatioMetric,
    Source,
    SourcesFile,
)
from pipelines.lib.spec.yaml_lines import LocatedYaml, load_yaml

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Located:
    """Where a definition was written, for errors raised after loading (e.g. at scoring time)."""

    file: Path
    line: int


@dataclass
class OkrDefs:
    """Everything in one okr_defs folder, validated."""

    root: Path
    sources: dict[str, Source] = field(default_factory=dict)
    metrics: dict[str, BaseMetric | RatioMetric] = field(default_factory=dict)
    objectives: list[Objective] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)
    where: dict[str, Located] = field(default_factory=dict)

    @property
    def sources_dir(self) -> Path:
        return self.root

    def resolve_path(self, pattern: str) -> Path:
        """Paths in sources.yaml are relative to that file's folder; absolute paths are kept."""
        path = Path(pattern).expanduser()
        return path if path.is_absolute() else (self.root / path)


def _validate(doc: LocatedYaml, model: type[M], errors: list[DefsError]) -> M | None:
    try:
        return model.model_validate(doc.data if doc.data is not None else {})
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not _is_union_tag(p))
            where = ".".join(str(p) for p in loc) or "(document)"
            if err["type"] == "extra_forbidden":
                errors.append(DefsError(doc.path, doc.key_line(loc), f"{where}: unknown field"))
            elif err["type"] == "missing":
                line = doc.key_line(loc[:-1]) if loc else 1
                errors.append(DefsError(doc.path, line, f"{where}: required field is missing"))
            else:
                msg = err["msg"].removeprefix("Value error, ")
                errors.append(DefsError(doc.path, doc.line_of(loc), f"{where}: {msg}"))
        return None


def _is_union_tag(part: Any) -> bool:
    """pydantic inserts model names (e.g. 'BaseMetric', 'file') into union error paths; drop them."""
    return isinstance(part, str) and (part[:1].isupper() or part in {"file", "str", "list[str]"})


def _read(path: Path, errors: list[DefsError]) -> LocatedYaml | None:
    try:
        return load_yaml(path)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        errors.append(DefsError(path, line, f"invalid YAML: {exc.problem or exc.context}"))
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(DefsError(path, 1, f"cannot read: {exc}"))
    return None


def _load_objectives(defs: OkrDefs, doc: LocatedYaml, errors: list[DefsError]) -> None:
    """Report every schema error of the file, and keep its valid parts for the cross-file checks,
    so one bad key result does not hide an unknown metric in the next one."""
    whole = _validate(doc, ObjectivesFile, errors)
    data = doc.data if isinstance(doc.data, dict) else {}
    for i, raw in enumerate(data.get("objectives") or [] if whole is None else []):
        obj, kept = _salvage_objective(raw)
        if obj is not None:
            _register_objective(defs, doc, obj, i, kept)
    for i, obj in enumerate(whole.objectives if whole else []):
        _register_objective(defs, doc, obj, i, list(range(len(obj.key_results))))
    kpis = whole.kpis if whole else [_quietly(Kpi, raw) for raw in data.get("kpis") or []]
    for i, kpi in enumerate(kpis):
        if kpi is not None:
            defs.kpis.append(kpi)
            defs.where[f"kpi:{kpi.id}"] = Located(doc.path, doc.line_of(("kpis", i)))


def _register_objective(defs: OkrDefs, doc: LocatedYaml, obj: Objective, i: int, kept: list[int]) -> None:
    defs.objectives.append(obj)
    defs.where[f"objective:{obj.id}"] = Located(doc.path, doc.line_of(("objectives", i)))
    for kr, j in zip(obj.key_results, kept, strict=True):
        defs.where[f"kr:{obj.id}/{kr.id}"] = Located(doc.path, doc.line_of(("objectives", i, "key_results", j)))


def _salvage_objective(raw: Any) -> tuple[Objective | None, list[int]]:
    """The objective with only its valid key results (errors were already reported for the file)."""
    if not isinstance(raw, dict):
        return None, []
    krs = raw.get("key_results") if isinstance(raw.get("key_results"), list) else []
    kept = [j for j, kr in enumerate(krs) if _quietly(KeyResult, kr) is not None]
    obj = _quietly(Objective, {**raw, "key_results": [krs[j] for j in kept]})
    return obj, kept


def _quietly(model: type[M], item: Any) -> M | None:
    try:
        return model.model_validate(item)
    except ValidationError:
        return None


def load_defs(root: Path | str) -> OkrDefs:
    """Load and check an okr_defs folder; raise DefsErrors listing every problem found."""
    root = Path(root)
    errors: list[DefsError] = []
    if not root.is_dir():
        raise DefsErrors([DefsError(root, 1, "okr_defs folder not found")])
    defs = OkrDefs(root=root)
    docs: list[LocatedYaml] = []

    for name, model in (("sources.yaml", SourcesFile), ("metrics.yaml", MetricsFile)):
        path = root / name
        if not path.exists():
            errors.append(DefsError(path, 1, f"{name} is missing"))
            continue
        doc = _read(path, errors)
        parsed = _validate(doc, model, errors) if doc else None
        if doc:
            docs.append(doc)
        if isinstance(parsed, SourcesFile):
            defs.sources = dict(parsed.sources)
            for key in parsed.sources:
                defs.where[f"source:{key}"] = Located(path, doc.line_of(("sources", key)))
        elif isinstance(parsed, MetricsFile):
            defs.metrics = dict(parsed.metrics)
            for key in parsed.metrics:
                defs.where[f"metric:{key}"] = Located(path, doc.line_of(("metrics", key)))

    objective_files = sorted((root / "objectives").glob("*.yaml")) + sorted((root / "objectives").glob("*.yml"))
    if not objective_files:
        errors.append(DefsError(root / "objectives", 1, "no objectives/*.yaml file"))
    for path in objective_files:
        doc = _read(path, errors)
        if doc is not None:
            docs.append(doc)
            _load_objectives(defs, doc, errors)

    errors.extend(cross_check(defs, docs))
    if errors:
        raise DefsErrors(errors)
    return defs
