"""`okr diff`: a definitions change scored against the same database, old vs new, per KR."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures import acceptance_defs

pytestmark = pytest.mark.shared_data


def okr(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
    )


@pytest.fixture
def scored(tmp_path: Path, shared_data: Path) -> tuple[Path, Path]:
    defs = acceptance_defs(tmp_path / "repo" / "okr_defs", str(shared_data / "ab_test_campaigns" / "*.csv"))
    database = tmp_path / "okr.duckdb"
    assert okr("run", "--defs", str(defs), "--db", str(database), "--as-of", "2019-08-15").returncode == 0
    return defs, database


def change_defs(defs: Path) -> None:
    aug = defs / "objectives" / "aug.yaml"
    text = aug.read_text().replace("baseline: 6.0, target: 4.0", "baseline: 6.0, target: 4.5")
    text = text.replace(
        "      - {id: ctr, metric: ctr, filters: {campaign: Test Campaign}, baseline: 0.05, target: 0.09}\n",
        "      - {id: clicks, metric: clicks, filters: {campaign: Test Campaign}, baseline: 0, target: 150000}\n",
    )
    aug.write_text(text)


def test_diff_against_a_base_folder(tmp_path: Path, scored) -> None:
    defs, database = scored
    base = tmp_path / "base_defs"
    shutil.copytree(defs, base)
    change_defs(defs)
    result = okr("diff", "--base-defs", str(base), "--defs", str(defs), "--db", str(database), "--json")
    assert result.returncode == 0, result.stderr
    changes = {c["key"]: c for c in json.loads(result.stdout)["changes"]}
    cpa = changes["aug-purchase-push/cpa"]
    assert (cpa["change"], cpa["target_change"], cpa["target_before"], cpa["target_after"]) == (
        "changed",
        "eased",
        4.0,
        4.5,
    )
    assert cpa["score_before"] == pytest.approx(0.707576115175832)
    assert cpa["score_after"] == pytest.approx((38852 / 8474 - 6.0) / (4.5 - 6.0))
    assert cpa["eased_mid_period"] is True
    assert changes["aug-purchase-push/ctr"]["change"] == "removed"
    new = changes["aug-purchase-push/clicks"]
    assert new["change"] == "new" and new["score_after"] == pytest.approx(89504 / 150000)
    assert changes["aug-purchase-push/purchases"]["change"] == "unchanged"


def test_diff_against_a_git_revision(tmp_path: Path, scored) -> None:
    defs, database = scored
    repo = defs.parent
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "okr_defs"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=repo, check=True)
    change_defs(defs)
    result = okr("diff", "--base", "HEAD", "--defs", str(defs), "--db", str(database))
    assert result.returncode == 0, result.stderr
    assert "aug-purchase-push/cpa" in result.stdout and "target eased mid-period" in result.stdout
    assert "aug-purchase-push/purchases" not in result.stdout  # unchanged KRs are not listed
