"""Nightly operations on the demo team's definitions and generated exports, through Dagster itself:
schedule ticks, range backfills against single-day runs, a blocking check, and a restated day."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import zoneinfo
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from pipelines.assets.automation import NIGHTLY_JOB, RESTATEMENT_JOB
from pipelines.assets.build import assets_for, build_definitions, build_resources
from pipelines.assets.marts import unmatched_check
from pipelines.assets.partitions import range_tags, source_groups
from pipelines.cli.runner import run_pipeline
from pipelines.demo.generator import DEMO_AS_OF
from pipelines.lib import db
from pipelines.lib.campaign_map import unmatched_share
from pipelines.lib.spec import load_defs
from pipelines.lib.storage import RAW_TABLES
from tests.conftest import REPO
from tests.fixtures import FEBRUARY_OBJECTIVE
from tests.fixtures import demo_defs as shipped_demo_defs
from tests.reliability_kit import table_rows

HCMC = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = dt.date(2026, 3, 1)  # fixes the partitions' start for these tests
RAW_KEYS = [dg.AssetKey(["raw", n]) for n in ("ga4_web", "google_ads", "meta_ads")]


@pytest.fixture
def demo_defs(tmp_path: Path) -> Path:
    """The shipped okr_defs with the seeded exports where their sources.yaml expects them."""
    return shipped_demo_defs(tmp_path)


@pytest.fixture(scope="module")
def loaded_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo loaded and scored once (18 months: the slow part); tests work on copies of it."""
    root = tmp_path_factory.mktemp("loaded")
    shipped_demo_defs(root)
    outcome = run_pipeline(root / "okr_defs", root / "okr.duckdb", DEMO_AS_OF)
    assert outcome.success, outcome.failures
    return root


@pytest.fixture
def demo_copy(loaded_demo: Path, tmp_path: Path) -> Path:
    root = tmp_path / "copy"
    shutil.copytree(loaded_demo, root)
    return root


def tick(schedule: dg.ScheduleDefinition, instance: dg.DagsterInstance, when: dt.datetime) -> dg.RunRequest:
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
    (request,) = schedule.evaluate_tick(context).run_requests
    return request


def requested_range(request: dg.RunRequest) -> tuple[str, str]:
    return request.tags["dagster/asset_partition_range_start"], request.tags["dagster/asset_partition_range_end"]


def test_schedule_ticks_request_the_demo_partitions(tmp_path: Path) -> None:
    defs = build_definitions(REPO / "okr_defs", tmp_path / "okr.duckdb", today=TODAY)
    (group,) = source_groups(load_defs(REPO / "okr_defs"), TODAY)
    assert (group.timezone, group.start.isoformat(), group.lookback_days, group.restatement_days) == (
        "Asia/Ho_Chi_Minh",
        "2024-12-01",  # the same-period-last-year baselines read December 2024
        7,
        28,
    )
    nightly = defs.resolve_schedule_def(f"{NIGHTLY_JOB}_schedule")
    weekly = defs.resolve_schedule_def(f"{RESTATEMENT_JOB}_schedule")
    assert (nightly.cron_schedule, weekly.cron_schedule) == ("0 6 * * *", "0 6 * * 0")
    assert nightly.execution_timezone == weekly.execution_timezone == "Asia/Ho_Chi_Minh"
    with dg.instance_for_test() as instance:
        # 06:00 in Ho Chi Minh City is 23:00 UTC the day before: "yesterday" is the local one.
        first = tick(nightly, instance, dt.datetime(2026, 2, 23, 6, tzinfo=HCMC))
        assert requested_range(first) == ("2024-12-01", "2026-02-22")  # nothing loaded yet: catch up all
        ops = first.run_config["ops"]
        assert ops["okr_scores"]["config"]["as_of"] == ops["raw__google_ads"]["config"]["as_of"] == "2026-02-22"


def test_nightly_catches_up_missing_days_then_repulls_the_lookback(tmp_path: Path) -> None:
    demo_defs = shipped_demo_defs(tmp_path, FEBRUARY_OBJECTIVE)
    defs = build_definitions(demo_defs, tmp_path / "okr.duckdb", today=TODAY)
    (group,) = source_groups(load_defs(demo_defs), TODAY)
    assert group.start == dt.date(2026, 2, 1)
    nightly = defs.resolve_schedule_def(f"{NIGHTLY_JOB}_schedule")
    weekly = defs.resolve_schedule_def(f"{RESTATEMENT_JOB}_schedule")
    with dg.instance_for_test() as instance:
        # A real nightly run that stopped at 9 February (then an outage): the next tick catches up from the 10th.
        job = defs.resolve_job_def(NIGHTLY_JOB)
        config = tick(nightly, instance, dt.datetime(2026, 2, 10, 6, tzinfo=HCMC)).run_config
        result = job.execute_in_process(
            instance=instance, tags=range_tags(group.start, dt.date(2026, 2, 9)), run_config=config
        )
        assert result.success
        assert instance.get_materialized_partitions(RAW_KEYS[1]) == {f"2026-02-0{d}" for d in range(1, 10)}
        assert requested_range(tick(nightly, instance, dt.datetime(2026, 2, 24, 6, tzinfo=HCMC))) == (
            "2026-02-10",
            "2026-02-23",
        )
        for key in RAW_KEYS:
            for day in pd.date_range("2026-02-10", "2026-02-23").strftime("%Y-%m-%d"):
                instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=day))
        # Everything loaded: yesterday plus the 7-day look-back.
        assert requested_range(tick(nightly, instance, dt.datetime(2026, 2, 24, 6, tzinfo=HCMC))) == (
            "2026-02-17",
            "2026-02-23",
        )
        # Sunday 22 February: the weekly job re-pulls the 28-day restatement window (from the partitions' start).
        assert requested_range(tick(weekly, instance, dt.datetime(2026, 2, 22, 6, tzinfo=HCMC))) == (
            "2026-02-01",
            "2026-02-21",
        )
    with db.connect(tmp_path / "okr.duckdb", read_only=True) as conn:
        days = conn.execute("SELECT min(report_date), max(report_date) FROM raw.file_exports").fetchone()
        assert [d.isoformat() for d in days] == ["2026-02-01", "2026-02-09"]


def test_a_90_day_backfill_equals_90_single_day_runs(demo_defs: Path, tmp_path: Path) -> None:
    okr_defs = load_defs(demo_defs)
    assets = assets_for(okr_defs, source_groups(okr_defs, TODAY))
    start, end = DEMO_AS_OF - dt.timedelta(days=89), DEMO_AS_OF
    config = {"ops": {"raw__google_ads": {"config": {"as_of": DEMO_AS_OF.isoformat()}}}}

    def job_on(database: Path) -> dg.JobDefinition:
        raw = dg.define_asset_job("raw_google_ads", selection=dg.AssetSelection.assets(RAW_KEYS[1]))
        defs = dg.Definitions(assets=assets, jobs=[raw], resources=build_resources(demo_defs, database))
        return defs.resolve_job_def("raw_google_ads")

    backfill, singles = tmp_path / "backfill.duckdb", tmp_path / "singles.duckdb"
    with dg.DagsterInstance.ephemeral() as instance:
        job = job_on(backfill)
        assert job.execute_in_process(instance=instance, tags=range_tags(start, end), run_config=config).success
        loaded = table_rows(backfill, volatile=False)  # every table, in order, without load timestamps
        # Materializing the same range again changes nothing (delete-window-then-insert).
        assert job.execute_in_process(instance=instance, tags=range_tags(start, end), run_config=config).success
        assert table_rows(backfill, volatile=False) == loaded
        job = job_on(singles)
        for offset in range(90):
            day = (start + dt.timedelta(days=offset)).isoformat()
            assert job.execute_in_process(instance=instance, partition_key=day, run_config=config).success
    assert table_rows(singles, volatile=False) == loaded
    rows = len(loaded[RAW_TABLES["file"]])
    with db.connect(backfill, read_only=True) as conn:
        days, campaigns = conn.execute(
            "SELECT count(DISTINCT report_date), count(DISTINCT campaign_id) FROM raw.file_exports"
        ).fetchone()
    assert (rows, days, campaigns) == (1535, 90, 4)  # 307 campaign-days x 5 metrics


def scores_of(database: Path) -> pd.DataFrame:
    with db.connect(database, read_only=True) as conn:
        return conn.execute(
            "SELECT coalesce(objective_id, 'kpi') || '/' || kr_id AS kr_key, actual, score, status "
            "FROM okr.kr_scores ORDER BY kr_key"
        ).df()


def history_rows(database: Path) -> int:
    with db.connect(database, read_only=True) as conn:
        return conn.execute("SELECT count(*) FROM okr.score_history").fetchone()[0]


def test_a_blocking_schema_failure_stops_the_scores_and_keeps_the_previous_ones(demo_copy: Path) -> None:
    database, defs_dir = demo_copy / "okr.duckdb", demo_copy / "okr_defs"
    before, history = scores_of(database), history_rows(database)
    report = demo_copy / "report.html"
    report_bytes = report.read_bytes() if report.exists() else None
    export = demo_copy / "data" / "demo" / "google_ads_campaigns.csv"
    lines = export.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    i = next(n for n, line in enumerate(lines) if line.startswith(DEMO_AS_OF.isoformat()))
    cells = lines[i].split(",")
    cells[header.index("Impressions")] = "-120"
    lines[i] = ",".join(cells)
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")

    outcome = run_pipeline(defs_dir, database, DEMO_AS_OF)
    assert not outcome.success
    (failure,) = outcome.failures
    assert failure.startswith("raw/google_ads check schema:")
    assert (
        f"google_ads_campaigns.csv:{i + 1}: column 'Impressions': -120.0 fails" in failure
        and "must not be negative" in failure
    )
    assert {"raw/ga4_web", "raw/meta_ads"} <= set(outcome.materialized)
    assert "okr/kr_scores" not in outcome.materialized and "report/progress_page" not in outcome.materialized
    pd.testing.assert_frame_equal(scores_of(database), before)
    assert history_rows(database) == history
    assert (report.read_bytes() if report.exists() else None) == report_bytes


def test_a_restated_day_repulled_by_the_nightly_job_changes_the_score_and_adds_history(demo_copy: Path) -> None:
    database, defs_dir = demo_copy / "okr.duckdb", demo_copy / "okr_defs"
    before, history = scores_of(database), history_rows(database)
    # Meta restates purchases two days back (late attributed conversions).
    export = demo_copy / "data" / "demo" / "meta_ads_campaigns.csv"
    frame = pd.read_csv(export, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rows = frame["Reporting starts"] == (DEMO_AS_OF - dt.timedelta(days=2)).strftime("%d/%m/%Y")
    frame.loc[rows, "Purchases"] = (frame.loc[rows, "Purchases"].astype(int) + 500).astype(str)
    frame.to_csv(export, sep=";", index=False, encoding="utf-8-sig")

    defs = build_definitions(defs_dir, database, today=TODAY)
    schedule = defs.resolve_schedule_def(f"{NIGHTLY_JOB}_schedule")
    with dg.instance_for_test() as instance:
        request = tick(schedule, instance, dt.datetime(2026, 2, 23, 6, tzinfo=HCMC))
        tags = request.tags | range_tags(DEMO_AS_OF - dt.timedelta(days=6), DEMO_AS_OF)  # all loaded: the look-back
        result = defs.resolve_job_def(NIGHTLY_JOB).execute_in_process(
            instance=instance, tags=tags, run_config=request.run_config
        )
        assert result.success
    after = scores_of(database)
    both = after.merge(before, on="kr_key", suffixes=("", "_before")).set_index("kr_key")
    changed = both[both["actual"] != both["actual_before"]]
    assert set(changed.index) == {
        "marketing-tet-paid/paid-purchases",
        "marketing-tet-paid/blended-cpa",
        "marketing-tet-paid/meta-tet-purchases",
    }
    row = changed.loc["marketing-tet-paid/paid-purchases"]
    assert row["actual"] - row["actual_before"] == pytest.approx(500 * rows.sum())
    assert history_rows(database) == history + len(after)


def test_the_unmatched_campaign_check_on_the_demo_mart(loaded_demo: Path) -> None:
    with db.connect(loaded_demo / "okr.duckdb", read_only=True) as conn:
        shares = unmatched_share(conn, dt.date(2026, 1, 26), DEMO_AS_OF)
    # Two of nine GA4 campaigns have no ad campaign; every ad campaign has GA4 traffic.
    assert (shares["ga4_campaigns"], shares["ga4_campaigns_unmatched"]) == (9, 2)
    assert (shares["ga4_sessions"], shares["ga4_sessions_unmatched"]) == (442595, 38306)
    assert shares["ads_spend_unmatched_share"] == 0.0
    check = unmatched_check(shares)
    assert check.passed and check.metadata["ga4_sessions_unmatched_share"].value == pytest.approx(38306 / 442595)
    worse = unmatched_check(shares | {"ads_spend_unmatched_share": 0.3})
    assert (worse.passed, worse.severity, worse.description) == (
        False,
        dg.AssetCheckSeverity.WARN,
        "30% unmatched (threshold 25%)",
    )
    assert unmatched_check(shares | {"ga4_campaigns": 0, "ads_spend_unmatched_share": 1.0}).passed  # no GA4 side


def test_okr_run_loads_sources_in_two_time_zones_with_one_run_each(demo_defs: Path, tmp_path: Path) -> None:
    sources = demo_defs / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    meta = text.index("  meta_ads:")
    sources.write_text(
        text[:meta] + text[meta:].replace("timezone: Asia/Ho_Chi_Minh", "timezone: Asia/Bangkok", 1), encoding="utf-8"
    )
    defs = build_definitions(demo_defs, tmp_path / "okr.duckdb", today=TODAY)
    assert {s.name for s in defs.schedules} == {
        "okr_nightly_asia_bangkok_schedule",
        "okr_nightly_asia_ho_chi_minh_schedule",
        "okr_restatement_asia_bangkok_schedule",
        "okr_restatement_asia_ho_chi_minh_schedule",
    }
    outcome = run_pipeline(demo_defs, tmp_path / "okr.duckdb", DEMO_AS_OF)
    assert outcome.success, outcome.failures
    assert outcome.ranges == {
        "Asia/Bangkok": (dt.date(2024, 12, 1), DEMO_AS_OF),
        "Asia/Ho_Chi_Minh": (dt.date(2024, 12, 1), DEMO_AS_OF),
    }
    assert {"raw/meta_ads", "raw/google_ads", "okr/kr_scores", "report/progress_page"} <= set(outcome.materialized)


def test_okr_run_from_backfills_a_restated_day_older_than_the_look_back(demo_copy: Path) -> None:
    """`okr run --from D` re-pulls every source from D, which the nightly look-back (7 days) does not reach."""
    database, defs_dir = demo_copy / "okr.duckdb", demo_copy / "okr_defs"
    restated = DEMO_AS_OF - dt.timedelta(days=21)
    export = demo_copy / "data" / "demo" / "meta_ads_campaigns.csv"
    frame = pd.read_csv(export, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rows = frame["Reporting starts"] == restated.strftime("%d/%m/%Y")
    frame.loc[rows, "Purchases"] = (frame.loc[rows, "Purchases"].astype(int) + 500).astype(str)
    frame.to_csv(export, sep=";", index=False, encoding="utf-8-sig")
    before, history = scores_of(database), history_rows(database)

    def okr_run(*extra: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k not in {"DUCKDB_PATH", "OKR_DEFS_DIR", "DAGSTER_HOME"}}
        args = ["run", "--defs", str(defs_dir), "--db", str(database), "--as-of", DEMO_AS_OF.isoformat(), *extra]
        return subprocess.run(
            [sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True, env=env, check=False
        )

    nightly = okr_run()
    assert nightly.returncode == 0, nightly.stderr
    assert f"loaded days {DEMO_AS_OF - dt.timedelta(days=6)}..{DEMO_AS_OF} (Asia/Ho_Chi_Minh)" in nightly.stderr
    pd.testing.assert_frame_equal(scores_of(database)[["kr_key", "actual"]], before[["kr_key", "actual"]])

    backfill = okr_run("--from", restated.isoformat())
    assert backfill.returncode == 0, backfill.stderr
    assert f"loaded days {restated}..{DEMO_AS_OF} (Asia/Ho_Chi_Minh)" in backfill.stderr
    after = scores_of(database).merge(before, on="kr_key", suffixes=("", "_before")).set_index("kr_key")
    row = after.loc["marketing-tet-paid/paid-purchases"]
    assert row["actual"] - row["actual_before"] == pytest.approx(500 * rows.sum())
    assert history_rows(database) == history + 2 * len(before)

    late = okr_run("--from", (DEMO_AS_OF + dt.timedelta(days=1)).isoformat())
    assert late.returncode == 2 and "is after --as-of" in late.stderr
