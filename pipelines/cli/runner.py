"""`okr run`: materialize the code location's assets in process (the same assets `dagster dev` shows).

The raw assets run over a partition range per time zone: from the earliest day any source is missing
(or its look-back, for days the platforms restate) through as-of, then the mart, scores and report.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from connectors.windows import pull_window
from pipelines.assets.automation import as_of_run_config
from pipelines.assets.build import assets_for, build_resources
from pipelines.assets.partitions import SourceGroup, range_tags, source_groups
from pipelines.lib import db, storage
from pipelines.lib.api_sources import lookback
from pipelines.lib.spec import OkrDefs, load_defs


@dataclass
class RunOutcome:
    success: bool
    failures: list[str] = field(default_factory=list)
    materialized: dict[str, dict] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    ranges: dict[str, tuple[dt.date, dt.date]] = field(default_factory=dict)


def _instance() -> dg.DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set (runs then show in the UI), else an ephemeral one."""
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def plan_range(
    conn: duckdb.DuckDBPyConnection,
    defs: OkrDefs,
    group: SourceGroup,
    as_of: dt.date,
    start: dt.date | None = None,
) -> tuple | None:
    """(start, end) for the group's raw assets: from the earliest day any of them is missing (or its look-back
    of restated days) through as-of; None when as-of is before the group's first partition.

    An explicit `start` is a backfill: exactly [start, as_of] is pulled again, whatever is stored, so an
    analyst can re-pull a quarter after adding a source or after a platform restated older days."""
    if as_of < group.start:
        return None
    if start is not None:
        return max(start, group.start), as_of
    windows = [
        pull_window(storage.last_loaded(conn, defs.sources[n].type, n), as_of, lookback(defs, n), group.start)
        for n in group.sources
    ]
    return min(w.start for w in windows), as_of


def run_pipeline(
    defs_dir: Path, db_path: Path, as_of: dt.date, log_level: str = "CRITICAL", start: dt.date | None = None
) -> RunOutcome:
    """Ingest, build the mart and score; failures are returned as messages, never raised (the console
    logger stays quiet by default: the CLI prints the outcome, the instance keeps the full event log).
    `start` backfills: every source is pulled again from that day (see plan_range)."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    okr_defs = load_defs(defs_dir)
    groups = source_groups(okr_defs)
    assets = assets_for(okr_defs, groups)
    with db.connect(db_path) as conn:
        storage.ensure_schema(conn)
        ranges = {g.timezone: plan_range(conn, okr_defs, g, as_of, start) for g in groups}
    raw_keys = {k for g in groups for k in g.raw_keys}
    downstream = [k for a in assets for k in a.keys if k not in raw_keys]
    planned = [(g, ranges[g.timezone]) for g in groups if ranges[g.timezone]]
    # One run when every source shares a time zone (the usual case); else one run per zone, then the rest.
    if len(planned) == 1:
        runs = [(planned[0][0].raw_keys + downstream, range_tags(*planned[0][1]))]
    else:
        runs = [(g.raw_keys, range_tags(*r)) for g, r in planned] + [(downstream, {})]
    outcome = RunOutcome(success=True, ranges={g.timezone: r for g, r in planned})
    config = as_of_run_config(assets, as_of)
    op_of = {key: a.op.name for a in assets for key in a.keys}
    with _instance() as instance:
        for selection, tags in runs:
            result = dg.materialize(
                assets,
                selection=selection,
                resources=build_resources(defs_dir.resolve(), db_path.resolve()),
                run_config=dg.RunConfig(
                    # only the steps this run selects: Dagster rejects config for ops outside the run
                    ops={op: c for op, c in config.ops.items() if op in {op_of[k] for k in selection}},
                    loggers={"console": {"config": {"log_level": log_level}}},
                ),
                instance=instance,
                raise_on_error=False,
                tags={"okr/trigger": "cli", **tags},
            )
            _collect(result, outcome)
            if not result.success:
                break
    return outcome


def _cause(error: Any) -> str:
    """The exception the step's code raised (a full disk, a locked file), not Dagster's wrapper around it."""
    while error.cause is not None and error.cls_name.startswith("Dagster"):
        error = error.cause
    return error.message.strip()


def _collect(result: dg.ExecuteInProcessResult, outcome: RunOutcome) -> None:
    outcome.success = outcome.success and result.success
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            continue
        where = f"{evaluation.asset_key.to_user_string()} check {evaluation.check_name}"
        text = f"{where}: {evaluation.description or 'failed'}"
        if evaluation.severity == dg.AssetCheckSeverity.ERROR:
            outcome.failures.append(text)
        else:
            outcome.warnings.append(text)
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        if data.error and data.error.cls_name == "DagsterAssetCheckFailedError":
            continue  # already reported above, with the check's own description
        message = data.user_failure_data.description if data.user_failure_data else None
        outcome.failures.append(f"{event.step_key}: {message or _cause(data.error)}")
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        key = mat.asset_key.to_user_string()
        outcome.materialized[key] = {k: v.value for k, v in mat.metadata.items()}
        if "time_zone_warning" in mat.metadata:  # undeclared zone, days counted in another one (assets/ingest.py)
            outcome.warnings.append(f"{key} time zone: {mat.metadata['time_zone_warning'].value}")
