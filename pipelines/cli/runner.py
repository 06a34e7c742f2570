"""`okr run`: materialize the code location's assets in process (the same assets `dagster dev` shows)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipelines.assets.build import build_assets, build_resources


@dataclass
class RunOutcome:
    success: bool
    failures: list[str] = field(default_factory=list)
    materialized: dict[str, dict] = field(default_factory=dict)


def as_of_config(assets: list[dg.AssetsDefinition], as_of: dt.date) -> dict:
    """The as-of date for every step that takes it (API pulls and scoring)."""

    def takes_as_of(asset: dg.AssetsDefinition) -> bool:
        fields = getattr(asset.op.config_schema.config_type, "fields", None) or {}
        return "as_of" in fields

    return {a.op.name: {"config": {"as_of": as_of.isoformat()}} for a in assets if takes_as_of(a)}


def _instance() -> dg.DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set (runs then show in the UI), else an ephemeral one."""
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def run_pipeline(defs_dir: Path, db_path: Path, as_of: dt.date, log_level: str = "WARNING") -> RunOutcome:
    """Ingest, build the mart and score; failures are returned as messages, never raised."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    assets = build_assets(defs_dir)
    with _instance() as instance:
        result = dg.materialize(
            assets,
            resources=build_resources(defs_dir.resolve(), db_path.resolve()),
            run_config=dg.RunConfig(
                ops=as_of_config(assets, as_of),
                loggers={"console": {"config": {"log_level": log_level}}},
            ),
            instance=instance,
            raise_on_error=False,
            tags={"okr/trigger": "cli"},
        )
    outcome = RunOutcome(success=result.success)
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        message = data.user_failure_data.description if data.user_failure_data else None
        outcome.failures.append(f"{event.step_key}: {message or data.error.message.strip()}")
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        outcome.materialized[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    return outcome
