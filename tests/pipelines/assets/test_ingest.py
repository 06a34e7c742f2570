"""Assets run through Dagster (dg.materialize) on a real DuckDB file: metadata and failure behaviour."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import pytest

from pipelines.assets.automation import as_of_run_config
from pipelines.assets.build import build_assets, build_resources
from pipelines.assets.partitions import range_tags
from pipelines.lib import db
from tests.fixtures import acceptance_defs

pytestmark = pytest.mark.shared_data


def materialize(defs_dir: Path, database: Path, as_of: str = "2019-08-15") -> dg.ExecuteInProcessResult:
    """Every asset, the raw one over all its partitions (Aug 2019) through as-of: one single run."""
    assets = build_assets(defs_dir, today=dt.date(2019, 9, 1))
    return dg.materialize(
        assets,
        resources=build_resources(defs_dir, database),
        run_config=as_of_run_config(assets, dt.date.fromisoformat(as_of)),
        tags=range_tags(dt.date(2019, 8, 1), dt.date.fromisoformat(as_of)),
        raise_on_error=False,
    )


def test_raw_asset_metadata_reports_counts(tmp_path: Path, shared_data: Path) -> None:
    defs_dir = acceptance_defs(tmp_path / "defs", str(shared_data / "ab_test_campaigns" / "*.csv"))
    result = materialize(defs_dir, tmp_path / "w.duckdb")
    assert result.success
    meta = result.asset_materializations_for_node("raw__ab_test")[0].metadata
    assert meta["dagster/row_count"].value == 120  # 1..15 August: 30 campaign-days × 4 metrics
    assert meta["rows_read"].value == 60 and meta["duplicate_rows"].value == 0
    assert meta["rows_with_missing_metric"].value == {
        "spend": 0,
        "impressions": 1,
        "clicks": 1,
        "conversions": 1,
    }
    assert (meta["window_start"].value, meta["data_through"].value) == ("2019-08-01", "2019-08-15")
    assert meta["grain_rows"].value == 30
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "schema": True,
        "freshness": True,
        "row_count_anomaly": True,
        "unmatched_campaign_share": True,
        "every_kr_scored": True,
    }
    mats = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    scores = {m.asset_key.to_user_string(): m.metadata for m in mats}
    assert scores["okr/kr_scores"]["dagster/row_count"].value == 3
    assert "| aug-purchase-push | purchases |" in scores["okr/kr_scores"]["scorecard"].value


def test_a_bad_source_stops_before_the_mart(tmp_path: Path, shared_data: Path) -> None:
    exports = tmp_path / "exports"
    shutil.copytree(shared_data / "ab_test_campaigns", exports)
    defs_dir = acceptance_defs(tmp_path / "defs", str(exports / "*.csv"))
    database = tmp_path / "w.duckdb"
    assert materialize(defs_dir, database).success
    path = exports / "control_group.csv"
    path.write_bytes(path.read_bytes().replace(b"1.08.2019", b"32.08.2019"))
    result = materialize(defs_dir, database, as_of="2019-08-20")
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert failure.step_key == "raw__ab_test"  # the blocking schema check failed the step
    failed = {e.check_name: e for e in result.get_asset_check_evaluations() if not e.passed}
    # Nothing new was stored: the data still ends on the 15th, five days behind as-of (a warning).
    assert failed["freshness"].severity == dg.AssetCheckSeverity.WARN
    assert failed["freshness"].metadata["lag_days"].value == 5
    check = failed["schema"]
    assert check.severity == dg.AssetCheckSeverity.ERROR
    description = check.description
    assert f"{path}:2: column 'Date': date '32.08.2019' does not match '%d.%m.%Y'" in description
    with db.connect(database, read_only=True) as conn:
        assert conn.execute("SELECT DISTINCT as_of FROM okr.kr_scores").fetchall()[0][0].isoformat() == "2019-08-15"
