"""Run the scoring pass: KR specs in, okr.* tables out, in one transaction per run."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.lib.scoring.rollup import ObjectiveScore, roll_up
from pipelines.lib.scoring.specs import build_specs
from pipelines.lib.spec import OkrDefs
from pipelines.lib.storage import transaction

SQL_DIR = Path(__file__).parent
SPEC_DDL = """CREATE OR REPLACE TEMP TABLE kr_spec (
    kr_key VARCHAR, kind VARCHAR, objective_id VARCHAR, kr_id VARCHAR, title VARCHAR, owner VARCHAR,
    metric VARCHAR, num_metric VARCHAR, den_metric VARCHAR, num_agg VARCHAR, cumulative BOOLEAN,
    window_start DATE, window_end DATE, baseline DOUBLE, target DOUBLE, direction VARCHAR,
    band_low DOUBLE, band_high DOUBLE, weight DOUBLE, objective_type VARCHAR, unit VARCHAR,
    position INTEGER)"""
FILTER_DDL = """CREATE OR REPLACE TEMP TABLE kr_filters (
    kr_key VARCHAR, dimension VARCHAR, pattern VARCHAR, is_glob BOOLEAN)"""


@dataclass(frozen=True)
class ScoreRun:
    run_id: str
    as_of: dt.date
    computed_at: dt.datetime
    kr_scores: pd.DataFrame
    objective_scores: list[ObjectiveScore]


def _sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def _load_specs(conn: duckdb.DuckDBPyConnection, specs: pd.DataFrame, filters: pd.DataFrame) -> None:
    conn.execute(SPEC_DDL)
    conn.execute(FILTER_DDL)
    for table, frame in (("kr_spec", specs), ("kr_filters", filters)):
        if frame.empty:
            continue
        conn.register("incoming_spec", frame)
        try:
            conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_spec")  # noqa: S608 (fixed table name)
        finally:
            conn.unregister("incoming_spec")


def score_all(conn: duckdb.DuckDBPyConnection, defs: OkrDefs, as_of: dt.date, run_id: str | None = None) -> ScoreRun:
    """Score every KR and KPI as of a date and append one history row per KR; atomic."""
    run_id = run_id or uuid.uuid4().hex
    computed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    params = {"as_of": as_of, "run_id": run_id, "computed_at": computed_at}
    specs, filters = build_specs(defs, as_of)
    _load_specs(conn, specs, filters)
    with transaction(conn):
        conn.execute(f"CREATE OR REPLACE TEMP TABLE kr_grouped AS {_sql('kr_grouped.sql')}", {"as_of": as_of})
        conn.execute("CREATE OR REPLACE TEMP TABLE kr_daily_new AS SELECT * FROM kr_grouped WHERE is_daily")
        conn.execute("DELETE FROM okr.kr_daily")
        conn.execute(
            "INSERT INTO okr.kr_daily SELECT kr_key, report_date, num_sum, num_count, den_sum, rows, ? "
            "FROM kr_daily_new",
            [run_id],
        )
        conn.execute("DELETE FROM okr.kr_contributions")
        conn.execute(
            "INSERT INTO okr.kr_contributions SELECT kr_key, platform, channel, campaign_id, campaign_name, "
            "num_sum, den_sum, num_last7, den_last7, num_prev7, den_prev7, ? FROM kr_grouped WHERE NOT is_daily",
            [run_id],
        )
        conn.execute("DELETE FROM okr.kr_scores")
        conn.execute(f"INSERT INTO okr.kr_scores {_sql('kr_scores.sql')}", params)
        conn.execute("INSERT INTO okr.score_history SELECT * FROM okr.kr_scores")
        kr_scores = conn.execute("SELECT * FROM okr.kr_scores").df()
        objective_scores = roll_up(defs.objectives, kr_scores, as_of)
        _write_objectives(conn, defs, objective_scores, as_of, run_id, computed_at)
    return ScoreRun(run_id, as_of, computed_at, kr_scores, objective_scores)


def _write_objectives(
    conn: duckdb.DuckDBPyConnection,
    defs: OkrDefs,
    scores: list[ObjectiveScore],
    as_of: dt.date,
    run_id: str,
    computed_at: dt.datetime,
) -> None:
    objectives = {o.id: o for o in defs.objectives}
    rows = [
        [
            as_of,
            s.objective_id,
            objectives[s.objective_id].title,
            objectives[s.objective_id].owner,
            objectives[s.objective_id].parent,
            objectives[s.objective_id].type,
            objectives[s.objective_id].period.start,
            objectives[s.objective_id].period.end,
            s.score,
            s.forecast_score,
            s.expected_progress,
            s.status,
            s.scored_children,
            s.unscored_children,
            run_id,
            computed_at,
        ]
        for s in scores
    ]
    conn.execute("DELETE FROM okr.objective_scores")
    if rows:
        placeholders = ", ".join(["?"] * 16)
        conn.executemany(f"INSERT INTO okr.objective_scores VALUES ({placeholders})", rows)  # noqa: S608
        conn.executemany(f"INSERT INTO okr.objective_history VALUES ({placeholders})", rows)  # noqa: S608
