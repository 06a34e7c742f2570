"""The production instance profile (deploy/dagster.postgres.yaml) on a real local PostgreSQL server:
the nightly job runs against it, and runs, asset partitions and schedule state land in Postgres."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import zoneinfo
from pathlib import Path

import dagster as dg
import pytest

from pipelines.assets.automation import NIGHTLY_JOB
from pipelines.assets.build import build_definitions
from tests.conftest import REPO
from tests.fixtures import FEBRUARY_OBJECTIVE, demo_defs
from tests.postgres import postgres_bin_dir, postgres_server

HCMC = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def postgres():
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) on this machine; `.ci/run` installs them in CI")
    with postgres_server(bin_dir) as server:
        yield server


def test_the_nightly_job_runs_on_a_postgres_instance(postgres, tmp_path: Path, monkeypatch) -> None:
    for name, value in postgres.env.items():
        monkeypatch.setenv(name, value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.postgres.yaml", home / "dagster.yaml")
    defs_dir = demo_defs(tmp_path, FEBRUARY_OBJECTIVE)
    defs = build_definitions(defs_dir, tmp_path / "okr.duckdb", today=dt.date(2026, 3, 1))

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert instance.run_monitoring_enabled

        schedule = defs.resolve_schedule_def(f"{NIGHTLY_JOB}_schedule")
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=dt.datetime(2026, 2, 23, 6, tzinfo=HCMC)
        )
        (request,) = schedule.evaluate_tick(context).run_requests
        assert request.tags["dagster/asset_partition_range_start"] == "2026-02-01"
        result = defs.resolve_job_def(NIGHTLY_JOB).execute_in_process(
            instance=instance, tags=request.tags, run_config=request.run_config
        )
        assert result.success
        (run,) = instance.get_runs()
        assert run.job_name == NIGHTLY_JOB and run.tags["okr/trigger"] == "nightly"
        assert len(instance.get_materialized_partitions(dg.AssetKey(["raw", "google_ads"]))) == 22
        checks = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
        assert checks[("raw/google_ads", "schema")] and checks[("okr/kr_scores", "every_kr_scored")]

    # What the instance stored is in the Postgres database itself.
    psql = shutil.which("psql") or str(postgres_bin_dir() / "psql")
    out = subprocess.run(
        [
            psql,
            "-h",
            postgres.host,
            "-p",
            str(postgres.port),
            "-U",
            postgres.user,
            "-d",
            postgres.database,
            "-At",
            "-c",
            "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM event_logs WHERE dagster_event_type = "
            "'ASSET_MATERIALIZATION')",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    runs, materializations = (int(x) for x in out.split("|"))
    assert runs == 1
    assert materializations == 3 * 22 + 5  # 22 days of three raw assets, then mart, 3 score tables, report
