"""The walking skeleton's acceptance example, run as a user runs it: the `okr` command in a subprocess."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.lib import db
from tests.fixtures import acceptance_defs

pytestmark = pytest.mark.shared_data


def okr(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DUCKDB_PATH", "OKR_DEFS_DIR", "DAGSTER_HOME"}}
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def close(actual: float, expected: float) -> bool:
    return abs(actual - expected) <= 1e-9 * abs(expected)


@pytest.fixture
def ab_copy(tmp_path: Path, shared_data: Path) -> Path:
    """A private copy of the A/B export (tests may corrupt it)."""
    folder = tmp_path / "exports"
    shutil.copytree(shared_data / "ab_test_campaigns", folder)
    return folder


def test_acceptance_scores(tmp_path: Path, shared_data: Path) -> None:
    defs = acceptance_defs(tmp_path / "defs", str(shared_data / "ab_test_campaigns" / "*.csv"))
    database = tmp_path / "okr.duckdb"
    run = okr("run", "--defs", str(defs), "--db", str(database), "--as-of", "2019-08-15")
    assert run.returncode == 0, run.stderr
    shown = okr("scores", "--db", str(database), "--format", "json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["as_of"] == "2019-08-15"
    (obj,) = data["objectives"]
    assert obj["id"] == "aug-purchase-push" and close(obj["score"], 0.5853101191136031)
    krs = {kr["id"]: kr for kr in obj["key_results"]}
    assert krs["purchases"]["actual"] == 8474 and close(krs["purchases"]["progress"], 0.4237)
    assert close(krs["cpa"]["actual"], 38852 / 8474) and close(krs["cpa"]["actual"], 4.584847769648336)
    assert close(krs["cpa"]["progress"], 0.707576115175832)
    assert close(krs["ctr"]["actual"], 89504 / 1098875) and close(krs["ctr"]["actual"], 0.08145057445114322)
    assert close(krs["ctr"]["progress"], 0.7862643612785803)
    for kr in krs.values():
        assert close(kr["expected_progress"], 15 / 31) and kr["data_through"] == "2019-08-15"
        assert set(kr) >= {
            "id",
            "title",
            "metric",
            "actual",
            "baseline",
            "target",
            "progress",
            "score",
            "expected_progress",
            "forecast",
            "status",
            "data_through",
        }


def _mart_checksum(database: Path) -> str:
    with db.connect(database, read_only=True) as conn:
        rows = conn.execute("SELECT * EXCLUDE (extracted_at) FROM marts.campaign_daily_metrics ORDER BY ALL").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_running_twice_changes_nothing_but_history(tmp_path: Path, ab_copy: Path) -> None:
    defs = acceptance_defs(tmp_path / "defs", str(ab_copy / "*.csv"))
    database = tmp_path / "okr.duckdb"
    assert okr("run", "--defs", str(defs), "--db", str(database), "--as-of", "2019-08-15").returncode == 0
    first = _mart_checksum(database)
    assert okr("run", "--defs", str(defs), "--db", str(database), "--as-of", "2019-08-15").returncode == 0
    assert _mart_checksum(database) == first
    with db.connect(database, read_only=True) as conn:
        per_kr = conn.execute(
            "SELECT kr_id, count(*), count(DISTINCT run_id) FROM okr.score_history GROUP BY kr_id ORDER BY kr_id"
        ).fetchall()
        missing = conn.execute(
            "SELECT metric, value FROM marts.campaign_daily_metrics WHERE campaign_id = "
            "'Control Campaign' AND report_date = DATE '2019-08-05' ORDER BY metric"
        ).fetchall()
    assert per_kr == [("cpa", 2, 2), ("ctr", 2, 2), ("purchases", 2, 2)]
    assert [(m, None if v is None else float(v)) for m, v in missing] == [
        ("clicks", None),
        ("conversions", None),
        ("impressions", None),
        ("spend", 1835.0),
    ]


def test_corrupted_csv_fails_and_leaves_the_database_byte_for_byte(tmp_path: Path, ab_copy: Path) -> None:
    defs = acceptance_defs(tmp_path / "defs", str(ab_copy / "*.csv"))
    database = tmp_path / "okr.duckdb"
    assert okr("run", "--defs", str(defs), "--db", str(database), "--as-of", "2019-08-15").returncode == 0
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    test_csv = ab_copy / "test_group.csv"
    lines = test_csv.read_bytes().split(b"\r\n")
    lines[4] = lines[4].replace(b";2710;", b";27x0;")  # line 5 of the file: 4.08.2019's spend
    test_csv.write_bytes(b"\r\n".join(lines))
    run = okr("run", "--defs", str(defs), "--db", str(database), "--as-of", "2019-08-16")
    assert run.returncode == 1
    assert f"{test_csv}:5: column 'Spend [USD]': '27x0' is not a number" in run.stderr
    assert "Traceback" not in run.stderr
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    shown = json.loads(okr("scores", "--db", str(database), "--format", "json").stdout)
    assert shown["as_of"] == "2019-08-15"  # previous scores intact


def test_validate_prints_every_error_without_traceback(tmp_path: Path, shared_data: Path) -> None:
    defs = acceptance_defs(tmp_path / "defs", "x.csv")
    text = (defs / "objectives" / "aug.yaml").read_text()
    (defs / "objectives" / "aug.yaml").write_text(
        text.replace("metric: cpa", "metric: cpaa").replace("target: 0.09", "target: 0.05")
    )
    result = okr("validate", "--defs", str(defs))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    aug = defs / "objectives" / "aug.yaml"
    assert result.stderr.splitlines() == [
        f"{aug}:7:19: key result cpa: unknown metric 'cpaa' (did you mean 'cpa'?)",
        f"{aug}:8:84: objectives.0.key_results.2.target: target equals baseline: progress would divide by zero",
    ]
    assert okr("validate", "--defs", str(acceptance_defs(tmp_path / "ok", "x.csv"))).returncode == 0


def test_scores_formats(tmp_path: Path, shared_data: Path) -> None:
    defs = acceptance_defs(tmp_path / "defs", str(shared_data / "ab_test_campaigns" / "*.csv"))
    database = tmp_path / "okr.duckdb"
    assert okr("run", "--defs", str(defs), "--db", str(database), "--as-of", "2019-08-10").returncode == 0
    assert okr("run", "--defs", str(defs), "--db", str(database), "--as-of", "2019-08-15").returncode == 0
    table = okr("scores", "--db", str(database))
    assert "Turn August paid social into a purchase engine" in table.stdout and "on track" in table.stdout
    csv_out = okr("scores", "--db", str(database), "--format", "csv").stdout.splitlines()
    assert csv_out[0].startswith("as_of,objective_id,objective_status,kr_id") and len(csv_out) == 4
    earlier = json.loads(okr("scores", "--db", str(database), "--as-of", "2019-08-10", "--format", "json").stdout)
    purchases = next(kr for kr in earlier["objectives"][0]["key_results"] if kr["id"] == "purchases")
    assert earlier["as_of"] == "2019-08-10" and close(purchases["expected_progress"], 10 / 31)
    missing = okr("scores", "--db", str(tmp_path / "nope.duckdb"))
    assert missing.returncode == 1 and "no database" in missing.stderr


def test_latest_knowledge_shows_what_a_restatement_changed(tmp_path: Path, ab_copy: Path) -> None:
    defs = acceptance_defs(tmp_path / "defs", str(ab_copy / "*.csv"))
    database = tmp_path / "okr.duckdb"
    assert okr("run", "--defs", str(defs), "--db", str(database), "--as-of", "2019-08-15").returncode == 0
    test_csv = ab_copy / "test_group.csv"
    lines = test_csv.read_bytes().split(b"\r\n")
    assert lines[10].startswith(b"Test Campaign;10.08.2019;") and lines[10].endswith(b";275")
    lines[10] = lines[10][: -len(b";275")] + b";375"  # the platform restates 10 August: 100 more purchases
    test_csv.write_bytes(b"\r\n".join(lines))
    assert okr("run", "--defs", str(defs), "--db", str(database), "--as-of", "2019-08-16").returncode == 0
    shown = okr(
        "scores",
        "--db",
        str(database),
        "--as-of",
        "2019-08-15",
        "--latest-knowledge",
        "--defs",
        str(defs),
        "--format",
        "json",
    )
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    purchases = next(kr for kr in data["objectives"][0]["key_results"] if kr["id"] == "purchases")
    assert data["latest_knowledge"] is True and data["as_of"] == "2019-08-15"
    assert (purchases["then"]["actual"], purchases["actual"]) == (8474, 8574)
    assert close(purchases["then"]["score"], 0.4237) and close(purchases["score"], 8574 / 20000)
    as_computed = json.loads(okr("scores", "--db", str(database), "--as-of", "2019-08-15", "--format", "json").stdout)
    kept = next(kr for kr in as_computed["objectives"][0]["key_results"] if kr["id"] == "purchases")
    assert kept["actual"] == 8474  # history is never rewritten
