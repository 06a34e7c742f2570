"""okr_defs loading: the acceptance files parse; every error is reported as file:line: message."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.lib.spec import DefsErrors, load_defs
from pipelines.lib.spec.checks import lint_warnings
from pipelines.lib.spec.models import FileSource, RatioMetric
from tests.conftest import write_defs
from tests.fixtures import ACCEPTANCE_METRICS, ACCEPTANCE_OBJECTIVES, acceptance_defs, acceptance_sources


def test_acceptance_defs_load(tmp_path: Path) -> None:
    defs = load_defs(acceptance_defs(tmp_path, "data/*.csv"))
    src = defs.sources["ab_test"]
    assert isinstance(src, FileSource)
    assert (src.delimiter, src.date.format, src.channel) == (";", "%d.%m.%Y", "paid_social")
    assert src.metrics["impressions"] == "# of Impressions"
    assert isinstance(defs.metrics["cpa"], RatioMetric) and defs.metrics["cpa"].ratio == (
        "spend",
        "conversions",
    )
    (obj,) = defs.objectives
    assert obj.period.days == 31 and obj.type == "aspirational"
    purchases, cpa, _ = obj.key_results
    assert purchases.weight == 2 and purchases.filters.items() == [("campaign", ["Test Campaign"])]
    assert cpa.effective_direction == "decrease"


def test_relative_paths_resolve_against_the_defs_folder(tmp_path: Path) -> None:
    defs = load_defs(acceptance_defs(tmp_path / "okr_defs", "../exports/*.csv"))
    assert defs.resolve_path("../exports/*.csv") == tmp_path / "okr_defs" / ".." / "exports" / "*.csv"
    assert defs.resolve_path("/srv/x/*.csv") == Path("/srv/x/*.csv")


def test_quarter_and_half_periods(tmp_path: Path) -> None:
    objectives = ACCEPTANCE_OBJECTIVES.replace("{start: 2019-08-01, end: 2019-08-31}", "2026-Q1")
    objectives += """
  - id: h2
    title: Second half
    period: 2024-H2
    key_results:
      - {id: a, metric: clicks, baseline: 0, target: 10}
      - {id: b, metric: clicks, baseline: 0, target: 20}
"""
    root = write_defs(
        tmp_path,
        {
            "sources.yaml": acceptance_sources("x.csv"),
            "metrics.yaml": ACCEPTANCE_METRICS,
            "objectives/q.yaml": objectives,
        },
    )
    q1, h2 = load_defs(root).objectives
    assert (q1.period.start, q1.period.end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert (h2.period.start, h2.period.end) == (dt.date(2024, 7, 1), dt.date(2024, 12, 31))


BROKEN_OBJECTIVES = """
objectives:
  - id: a
    title: First
    period: {start: 2026-01-01, end: 2026-03-31}
    parent: nowhere
    key_results:
      - id: k1
        metric: conversions
        baseline: 0
        taget: 10
      - {id: k2, metric: revenue, baseline: 0, target: 5}
      - {id: k3, metric: clicks, baseline: 3, target: 3}
"""


def test_every_error_is_reported_with_file_line_and_column(tmp_path: Path) -> None:
    root = write_defs(
        tmp_path,
        {
            "sources.yaml": acceptance_sources("x.csv").replace("platform: meta_ads", "platfrom: meta_ads"),
            "metrics.yaml": ACCEPTANCE_METRICS,
            "objectives/broken.yaml": BROKEN_OBJECTIVES,
        },
    )
    with pytest.raises(DefsErrors) as info:
        load_defs(root)
    lines = [str(e).replace(str(root) + "/", "") for e in info.value.errors]
    assert lines == [
        "objectives/broken.yaml:5:5: objective a: unknown parent 'nowhere'",
        "objectives/broken.yaml:10:9: objectives.0.key_results.0.taget: unknown field",
        "objectives/broken.yaml:11:18: key result k2: unknown metric 'revenue'",
        "objectives/broken.yaml:12:47: objectives.0.key_results.2.target: target equals baseline: progress would divide by zero",
        "sources.yaml:2:3: sources.ab_test.platform: required field is missing",
        "sources.yaml:5:5: sources.ab_test.platfrom: unknown field",
    ]


def test_cross_file_references_are_checked(tmp_path: Path) -> None:
    objectives = BROKEN_OBJECTIVES.replace("        taget: 10", "        target: 10")
    objectives = objectives.replace(
        "{id: k3, metric: clicks, baseline: 3, target: 3}", "{id: k1, metric: clicks, baseline: 3, target: 4}"
    )
    root = write_defs(
        tmp_path,
        {
            "sources.yaml": acceptance_sources("x.csv"),
            "metrics.yaml": ACCEPTANCE_METRICS,
            "objectives/o.yaml": objectives,
        },
    )
    with pytest.raises(DefsErrors) as info:
        load_defs(root)
    lines = [str(e).replace(str(root) + "/", "") for e in info.value.errors]
    assert lines == [
        "objectives/o.yaml:5:5: objective a: unknown parent 'nowhere'",
        "objectives/o.yaml:11:18: key result k2: unknown metric 'revenue'",
        "objectives/o.yaml:12:10: key result id 'k1' is used twice in a",
    ]


def test_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    root = write_defs(
        tmp_path,
        {
            "sources.yaml": acceptance_sources("x.csv"),
            "metrics.yaml": ACCEPTANCE_METRICS,
            "objectives/o.yaml": "objectives:\n  - id: a\n    title: [unclosed\n",
        },
    )
    with pytest.raises(DefsErrors) as info:
        load_defs(root)
    (error,) = info.value.errors
    assert (error.file.name, error.line, error.column) == ("o.yaml", 4, 1) and "invalid YAML" in error.message


def test_alignment_cycle_is_an_error(tmp_path: Path) -> None:
    objectives = """
objectives:
  - {id: a, title: A, parent: b, period: 2026-Q1, key_results: [{id: k, metric: clicks, baseline: 0, target: 1}]}
  - {id: b, title: B, parent: a, period: 2026-Q1, key_results: [{id: k, metric: clicks, baseline: 0, target: 1}]}
"""
    root = write_defs(
        tmp_path,
        {
            "sources.yaml": acceptance_sources("x.csv"),
            "metrics.yaml": ACCEPTANCE_METRICS,
            "objectives/o.yaml": objectives,
        },
    )
    with pytest.raises(DefsErrors) as info:
        load_defs(root)
    messages = sorted(e.message for e in info.value.errors if not e.warning)
    assert messages == ["alignment cycle: a -> b -> a", "alignment cycle: b -> a -> b"]


def test_lint_warns_on_kr_count_outside_the_method(tmp_path: Path) -> None:
    objectives = """
objectives:
  - {id: solo, title: One KR, period: 2026-Q1, key_results: [{id: k, metric: clicks, baseline: 0, target: 1}]}
"""
    root = write_defs(
        tmp_path,
        {
            "sources.yaml": acceptance_sources("x.csv"),
            "metrics.yaml": ACCEPTANCE_METRICS,
            "objectives/o.yaml": objectives,
        },
    )
    (warning,) = lint_warnings(load_defs(root))
    assert (warning.line, warning.column, warning.warning) == (2, 48, True) and "has 1 key results" in warning.message
