"""The code location: it loads, validates with Dagster's own CLI, and its assets are what the UI shows."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import dagster as dg

from pipelines.assets.build import build_definitions
from tests.conftest import REPO


def test_dagster_definitions_validate_passes_on_the_shipped_defs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env |= {"OKR_DEFS_DIR": str(REPO / "okr_defs"), "DUCKDB_PATH": str(tmp_path / "okr.duckdb")}
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "definitions", "validate"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_asset_graph_of_the_shipped_defs(tmp_path: Path) -> None:
    defs = build_definitions(REPO / "okr_defs", tmp_path / "okr.duckdb")
    # Loading reads Dagster's definitions-state storage from whichever instance was last entered in this
    # process; under xdist that was once the Postgres test's instance, whose server had stopped.
    with dg.instance_for_test():
        dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert keys == {
        "raw/ga4_web",
        "raw/google_ads",
        "raw/meta_ads",
        "marts/campaign_daily",
        "marts/period_metrics",
        "okr/kr_scores",
        "okr/objective_scores",
        "okr/score_history",
        "report/progress_page",
    }
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        expected_kind = "html" if node.group_name == "report" else "duckdb"
        assert node.owners == ["team:marketing-analytics"] and expected_kind in node.kinds
        assert node.group_name in {"ingest", "marts", "okr", "report"}
    mart = graph.get(dg.AssetKey(["marts", "campaign_daily"]))
    assert {k.to_user_string() for k in mart.parent_keys} == {"raw/ga4_web", "raw/google_ads", "raw/meta_ads"}
    for key in ("raw/ga4_web", "marts/campaign_daily", "okr/kr_scores"):
        assert defs.get_assets_def(dg.AssetKey.from_user_string(key)).op.pool == "duckdb"
    schedule = defs.resolve_schedule_def("okr_nightly_schedule")
    assert schedule.cron_schedule == "0 6 * * *" and schedule.execution_timezone == "Asia/Ho_Chi_Minh"
    raw = defs.get_assets_def(dg.AssetKey(["raw", "google_ads"]))
    assert isinstance(raw.partitions_def, dg.DailyPartitionsDefinition)
    assert raw.partitions_def.timezone == "Asia/Ho_Chi_Minh"
    assert {c.name for c in raw.check_specs} == {"schema", "freshness", "row_count_anomaly"}
    assert next(c for c in raw.check_specs if c.name == "schema").blocking
    assert {c.name for c in defs.get_assets_def(dg.AssetKey(["okr", "kr_scores"])).check_specs} == {"every_kr_scored"}
    assert {j.name for j in defs.jobs} == {"okr_nightly", "okr_restatement"}
    mart_checks = defs.get_assets_def(dg.AssetKey(["marts", "campaign_daily"])).check_specs
    assert {c.name for c in mart_checks} == {"unmatched_campaign_share"}


def test_the_readme_schedule_command_switches_on_the_schedule_the_ui_runs(tmp_path: Path) -> None:
    """`dagster schedule start` from the project folder must name the code location `dagster dev` serves
    (pyproject's code_location_name): a schedule started under another location name stays off in the UI."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    env = os.environ | {
        "DAGSTER_HOME": str(home),
        "OKR_DEFS_DIR": str(REPO / "okr_defs"),
        "DUCKDB_PATH": str(tmp_path / "okr.duckdb"),
    }
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "schedule", "start", "okr_nightly_schedule"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["dg"]["project"]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        states = instance.all_instigator_state()
    assert [
        (s.name, s.status.value, s.origin.repository_origin.code_location_origin.location_name) for s in states
    ] == [("okr_nightly_schedule", "RUNNING", project["code_location_name"])]
    assert project["code_location_name"] == "okr_autoscore"
