"""Build the whole code location from an okr_defs folder and a DuckDB path.

`dagster dev` and `okr run` both call this, so the UI and the command line run the same assets.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.assets.ingest import source_asset
from pipelines.assets.marts import campaign_daily_asset
from pipelines.assets.report import progress_page
from pipelines.assets.resources import OkrDefsResource, WarehouseResource
from pipelines.assets.scores import okr_scores
from pipelines.lib.spec import load_defs

REFRESH_JOB = "okr_refresh"


def build_assets(defs_dir: Path) -> list[dg.AssetsDefinition]:
    okr_defs = load_defs(defs_dir)
    sources = sorted(okr_defs.sources)
    raw = [source_asset(name, okr_defs.sources[name].type, okr_defs.sources[name].platform) for name in sources]
    return [*raw, campaign_daily_asset(sources), okr_scores, progress_page]


def build_resources(defs_dir: Path, db_path: Path) -> dict[str, dg.ConfigurableResource]:
    return {
        "duckdb": WarehouseResource(database=str(db_path)),
        "okr_defs": OkrDefsResource(path=str(defs_dir)),
    }


def build_definitions(defs_dir: Path, db_path: Path) -> dg.Definitions:
    refresh = dg.define_asset_job(
        REFRESH_JOB,
        selection=dg.AssetSelection.all(),
        description="Ingest every source, rebuild the mart, score every KR and append history.",
    )
    nightly = dg.ScheduleDefinition(
        name="okr_nightly",
        job=refresh,
        cron_schedule="0 6 * * *",
        execution_timezone="Asia/Ho_Chi_Minh",
        description="Refresh scores every morning at 06:00 Ho Chi Minh City time.",
    )
    return dg.Definitions(
        assets=build_assets(defs_dir),
        jobs=[refresh],
        schedules=[nightly],
        resources=build_resources(defs_dir, db_path),
    )
