"""`okr validate` on a folder of deliberately broken files prints exactly the expected diagnostics."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

BROKEN = REPO / "tests" / "fixtures" / "broken_defs"


def test_validate_prints_each_expected_diagnostic_and_nothing_else() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"OKR_DEFS_DIR", "DUCKDB_PATH"}}
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "validate", "--defs", str(BROKEN)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1 and result.stdout == ""
    got = [line.replace(f"{BROKEN}/", "") for line in result.stderr.splitlines()]
    expected = (BROKEN / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert got == expected
    errors = [line for line in expected if ": warning: " not in line]
    assert len(errors) >= 25 and len(expected) - len(errors) == 4
    kinds = {
        "unknown field",
        "required field is missing",
        "unknown IANA time zone",
        "is not in metrics.yaml",
        "ratio refers to unknown metric",
        "needs additive parts",
        "exactly one formula",
        "is not allowed",
        "unknown metric",
        "unknown parent",
        "alignment cycle",
        "is used twice",
        "target equals baseline",
        "target is above baseline",
        "is outside the objective's period",
        "reports source_medium",
        "matches no source",
        "neither a number nor relative",
        "say exactly one of",
        "period must be",
        "ends (2026-01-01) before it starts",
        "needs a dated value",
        "the band is empty",
        "invalid YAML",
        "give the KR a window",
    }
    missing = {kind for kind in kinds if not any(kind in line for line in errors)}
    assert not missing


def test_yaml_tags_never_construct_objects(tmp_path: Path) -> None:
    from pipelines.lib.spec import DefsErrors, load_defs
    from tests.conftest import write_defs
    from tests.fixtures import ACCEPTANCE_METRICS, acceptance_sources

    root = write_defs(
        tmp_path,
        {
            "sources.yaml": acceptance_sources("x.csv"),
            "metrics.yaml": ACCEPTANCE_METRICS,
            "objectives/o.yaml": "objectives: !!python/object/apply:os.system ['touch pwned']\n",
        },
    )
    try:
        load_defs(root)
    except DefsErrors as exc:
        assert "invalid YAML" in str(exc)
    assert not (Path.cwd() / "pwned").exists() and not (tmp_path / "pwned").exists()
