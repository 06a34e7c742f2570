"""Load okr_defs/ into validated models, collecting every error with its file, line and column."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from pipelines.lib.spec.campaign_map_model import CAMPAIGN_MAP_FILE, CampaignLink, CampaignMapFile
from pipelines.lib.spec.checks import cross_check
from pipelines.lib.spec.errors import DefsError, DefsErrors
from pipelines.lib.spec.models import (
    UNION_TAGS,
    FxRates,
    KeyResult,
    Kpi,
    Metric,
    MetricsFile,
    Objective,
    ObjectivesFile,
    Refresh,
    Source,
    SourcesFile,
)
from pipelines.lib.spec.unify_checks import check_unification
from pipelines.lib.spec.yaml_lines import Loc, LocatedYaml, UnreadableValue, load_yaml

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Anchor:
    """Where a definition was written: its document and path, to point errors at any key inside it."""

    doc: LocatedYaml
    loc: Loc

    def error(self, message: str, *sub: str | int, warning: bool = False) -> DefsError:
        """An error at the key `sub` inside this definition (the definition itself when absent)."""
        path = self.loc + sub
        pos = self.doc.key_pos(path) if sub and self.doc.has(path) else self.doc.value_pos(self.loc)
        return DefsError(self.doc.path, pos.line, pos.column, message, warning)

    @property
    def file(self) -> Path:
        return self.doc.path

    @property
    def line(self) -> int:
        return self.doc.value_pos(self.loc).line


@dataclass
class OkrDefs:
    """Everything in one okr_defs folder, validated."""

    root: Path
    sources: dict[str, Source] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    objectives: list[Objective] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)
    refresh: Refresh = field(default_factory=Refresh)
    where: dict[str, Anchor] = field(default_factory=dict)
    warnings: list[DefsError] = field(default_factory=list)
    reporting_currency: str | None = None  # sources.yaml: money is converted into it with fx_rates
    fx_rates: FxRates | None = None
    campaign_map: list[CampaignLink] = field(default_factory=list)  # campaign_map.yaml (optional)
    anchors: dict[int, Anchor] = field(default_factory=dict, repr=False)
    partial: set[int] = field(default_factory=set, repr=False)  # objects kept without their invalid fields

    def anchor(self, item: object) -> Anchor:
        """Where this very objective, KR or KPI was written (duplicated ids are told apart)."""
        return self.anchors[id(item)]

    def measured(self) -> Iterator[tuple[KeyResult | Kpi, Anchor, str]]:
        """Every KR read from data (not self-reported) and every KPI, where it was written and how a message
        names it: what the checks of metric use walk."""
        for obj in self.objectives:
            for kr in obj.key_results:
                if not kr.self_reported:
                    yield kr, self.anchor(kr), f"key result {kr.id}"
        for kpi in self.kpis:
            yield kpi, self.anchor(kpi), f"kpi {kpi.id}"

    def resolve_path(self, pattern: str) -> Path:
        """Paths in sources.yaml are relative to that file's folder; absolute paths are kept."""
        path = Path(pattern).expanduser()
        return path if path.is_absolute() else (self.root / path)


def _validate(doc: LocatedYaml, model: type[M], errors: list[DefsError]) -> M | None:
    try:
        return model.model_validate(doc.data if doc.data is not None else {})
    except ValidationError as exc:
        errors.extend(_pydantic_errors(doc, exc))
        return None


def _pydantic_errors(doc: LocatedYaml, exc: ValidationError) -> list[DefsError]:
    out = []
    for err in exc.errors():
        loc = _data_loc(doc.data, err["loc"])
        where = ".".join(str(p) for p in loc) or "(document)"
        if err["type"] == "extra_forbidden":
            pos, msg = doc.key_pos(loc), f"{where}: unknown field"
        elif err["type"] == "missing":
            pos, msg = (doc.key_pos(loc[:-1]) if loc[:-1] else doc.value_pos(())), f"{where}: required field is missing"
        else:
            field_hint = (err.get("ctx") or {}).get("field")
            if field_hint and doc.has((*loc, field_hint)):
                loc, where = (*loc, field_hint), f"{where}.{field_hint}"
            pos = doc.key_pos(loc) if doc.has(loc) and loc and isinstance(loc[-1], str) else doc.value_pos(loc)
            msg = f"{where}: {err['msg'].removeprefix('Value error, ')}"
        out.append(DefsError(doc.path, pos.line, pos.column, msg))
    return out


# Names pydantic gives the members of a plain union (`float | RelativeTarget`): builtin types.
_MEMBER_NAMES = frozenset({"str", "float", "int", "bool"})


def _looks_like_union_member(part: Any) -> bool:
    """A union tag, a model or validator name (`RelativeTarget`, `function-after[...]`), a builtin type."""
    return isinstance(part, str) and (part in UNION_TAGS or part in _MEMBER_NAMES or part[:1].isupper() or "[" in part)


def _data_loc(data: Any, loc: tuple[Any, ...]) -> Loc:
    """pydantic's error path as the analyst's keys: without the union members pydantic inserts.

    Why the data decides: a member name cannot be told from a key by its spelling alone; an analyst's
    `Target:`, a source named `Meta` or a misspelt key `number` look exactly like one. So a part that
    is a key (or index) of the YAML at that point is kept; one that is not and looks like a member
    name is dropped; anything else (a missing field's name) is kept.
    """
    out: list[str | int] = []
    node = data
    for part in loc:
        in_data = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and type(part) is int and 0 <= part < len(node)
        )
        if not in_data and _looks_like_union_member(part):
            continue
        node = node[part] if in_data else None
        out.append(part)
    return tuple(out)


def _read(path: Path, errors: list[DefsError]) -> LocatedYaml | None:
    try:
        return load_yaml(path)
    except UnreadableValue as exc:
        mark = exc.problem_mark
        errors.append(DefsError(path, mark.line + 1, mark.column + 1, str(exc.problem)))
    except RecursionError:
        # load_yaml limits nesting; this is the last guard should a deep stack meet a deep file
        errors.append(DefsError(path, 1, 1, "invalid YAML: nested too deeply to read"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        errors.append(DefsError(path, line, col, f"invalid YAML: {exc.problem or exc.context}"))
    except yaml.YAMLError as exc:
        errors.append(DefsError(path, 1, 1, f"invalid YAML: {exc}"))
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(DefsError(path, 1, 1, f"cannot read: {exc}"))
    return None


def _load_catalogue_files(defs: OkrDefs, errors: list[DefsError]) -> None:
    for name, model in (("sources.yaml", SourcesFile), ("metrics.yaml", MetricsFile)):
        path = defs.root / name
        if not path.exists():
            errors.append(DefsError(path, 1, 1, f"{name} is missing"))
            continue
        doc = _read(path, errors)
        if doc is None:
            continue
        parsed = _validate(doc, model, errors)
        key = "sources" if model is SourcesFile else "metrics"
        items = (
            getattr(parsed, key) if parsed else _salvage_mapping(doc.data, key, Source if key == "sources" else Metric)
        )
        if key == "sources":
            defs.sources = dict(items)
            defs.refresh = parsed.refresh if parsed else defs.refresh
            defs.where["file:sources"] = Anchor(doc, ())
            if parsed is not None:
                defs.reporting_currency, defs.fx_rates = parsed.reporting_currency, parsed.fx_rates
        else:
            defs.metrics = dict(items)
        defs.where |= {f"{key[:-1]}:{k}": Anchor(doc, (key, k)) for k in items}


def _load_campaign_map(defs: OkrDefs, errors: list[DefsError]) -> None:
    """campaign_map.yaml is optional: without it, campaigns are matched by id and normalized name only."""
    path = defs.root / CAMPAIGN_MAP_FILE
    if not path.exists() or (doc := _read(path, errors)) is None:
        return
    parsed = _validate(doc, CampaignMapFile, errors)
    raw = doc.data.get("campaign_map") if isinstance(doc.data, dict) else None
    # when the file has errors, the valid links are still checked against sources.yaml
    links = (
        parsed.campaign_map if parsed else [_quietly(CampaignLink, r) for r in (raw if isinstance(raw, list) else [])]
    )
    for i, link in enumerate(links):
        if link is not None:
            defs.campaign_map.append(link)
            defs.anchors[id(link)] = Anchor(doc, ("campaign_map", i))


def _load_objectives(defs: OkrDefs, doc: LocatedYaml, errors: list[DefsError]) -> None:
    """Report every schema error of the file, and keep its valid parts for the cross-file checks,
    so one bad key result does not hide an unknown metric in the next one."""
    whole = _validate(doc, ObjectivesFile, errors)
    data = doc.data if isinstance(doc.data, dict) else {}
    raw_objectives = data.get("objectives") if isinstance(data.get("objectives"), list) else []
    for i, raw in enumerate(raw_objectives if whole is None else []):
        obj, kept, partial = _salvage_objective(raw)
        if obj is not None:
            _register_objective(defs, doc, obj, i, kept)
            krs = raw.get("key_results") if isinstance(raw, dict) else None
            if partial or len(kept) != (len(krs) if isinstance(krs, list) else 0):
                defs.partial.add(id(obj))  # method lint would count what is left, not what was written
    for i, obj in enumerate(whole.objectives if whole else []):
        _register_objective(defs, doc, obj, i, list(range(len(obj.key_results))))
    raw_kpis = data.get("kpis") if isinstance(data.get("kpis"), list) else []
    kpis = whole.kpis if whole else [_quietly(Kpi, raw) for raw in raw_kpis]
    for i, kpi in enumerate(kpis):
        if kpi is not None:
            defs.kpis.append(kpi)
            defs.anchors[id(kpi)] = Anchor(doc, ("kpis", i))
            defs.where.setdefault(f"kpi:{kpi.id}", defs.anchors[id(kpi)])


def _register_objective(defs: OkrDefs, doc: LocatedYaml, obj: Objective, i: int, kept: list[int]) -> None:
    defs.objectives.append(obj)
    defs.anchors[id(obj)] = Anchor(doc, ("objectives", i))
    defs.where.setdefault(f"objective:{obj.id}", defs.anchors[id(obj)])
    for kr, j in zip(obj.key_results, kept, strict=True):
        defs.anchors[id(kr)] = Anchor(doc, ("objectives", i, "key_results", j))
        defs.where.setdefault(f"kr:{obj.id}/{kr.id}", defs.anchors[id(kr)])


def _salvage_mapping(data: Any, key: str, kind: Any) -> dict[str, Any]:
    """The valid entries of a sources/metrics mapping whose file failed (its errors are already reported)."""
    entries = data.get(key) if isinstance(data, dict) and isinstance(data.get(key), dict) else {}
    adapter = TypeAdapter(kind)
    out = {}
    for name, raw in entries.items():
        value, _partial = _without_bad_fields(adapter, raw)
        if value is not None:
            out[str(name)] = value
    return out


def _without_bad_fields(adapter: TypeAdapter, raw: Any, keep: frozenset[str] = frozenset()) -> tuple[Any, bool]:
    """Validate; on failure retry once without the top-level keys that failed (unless they are in `keep`
    or required). Returns (value or None, whether fields were dropped)."""
    try:
        return adapter.validate_python(raw), False
    except ValidationError as exc:
        bad = {_field_of(raw, e["loc"]) for e in exc.errors() if e["type"] != "missing"} - {None}
        if not isinstance(raw, dict) or not bad or bad & keep or any(e["type"] == "missing" for e in exc.errors()):
            return None, False
    try:
        return adapter.validate_python({k: v for k, v in raw.items() if k not in bad}), True
    except ValidationError:
        return None, False


def _field_of(raw: Any, loc: tuple) -> str | None:
    """The top-level key of `raw` an error is about (None when the error is about `raw` itself)."""
    path = _data_loc(raw, loc)
    return path[0] if path and isinstance(path[0], str) else None


def _salvage_objective(raw: Any) -> tuple[Objective | None, list[int], bool]:
    """The objective with its valid key results, and without fields whose value is invalid (e.g. a bad
    period), so its references can still be checked. Errors were already reported for the file."""
    if not isinstance(raw, dict):
        return None, [], False
    krs = raw.get("key_results") if isinstance(raw.get("key_results"), list) else []
    kept = [j for j, kr in enumerate(krs) if _quietly(KeyResult, kr) is not None]
    candidate = {**raw, "key_results": [krs[j] for j in kept]}
    obj, partial = _without_bad_fields(TypeAdapter(Objective), candidate, frozenset({"id", "title", "key_results"}))
    return obj, kept, partial


def _quietly(model: type[M], item: Any) -> M | None:
    try:
        return model.model_validate(item)
    except ValidationError:
        return None


def load_defs(root: Path | str) -> OkrDefs:
    """Load and check an okr_defs folder; raise DefsErrors listing every problem found.

    Method advice that is not an error (e.g. 6 KRs on one objective) is kept in `defs.warnings`.
    """
    root = Path(root)
    if not root.is_dir():
        raise DefsErrors([DefsError(root, 1, 1, "okr_defs folder not found")])
    errors: list[DefsError] = []
    defs = OkrDefs(root=root)
    _load_catalogue_files(defs, errors)
    _load_campaign_map(defs, errors)
    folder = root / "objectives"
    objective_files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not objective_files:
        errors.append(DefsError(folder, 1, 1, "no objectives/*.yaml file"))
    for path in objective_files:
        if (doc := _read(path, errors)) is not None:
            _load_objectives(defs, doc, errors)
    found = cross_check(defs) + check_unification(defs)
    errors += [e for e in found if not e.warning]
    defs.warnings = sorted(e for e in found if e.warning)
    if errors:
        raise DefsErrors(errors + defs.warnings)
    return defs
