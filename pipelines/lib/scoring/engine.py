"""Run the scoring pass: KR specs in, okr.* tables out, in one transaction per run."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import duckdb
import pandas as pd

from pipelines.lib import db
from pipelines.lib.scoring import periods, prefix_sums
from pipelines.lib.scoring.rollup import ObjectiveScore, roll_up
from pipelines.lib.scoring.specs import SPEC_COLUMNS, Specs, build_specs
from pipelines.lib.spec import OkrDefs
from pipelines.lib.storage import transaction

SQL_DIR = Path(__file__).parent
P = ParamSpec("P")
R = TypeVar("R")
SPEC_TABLES = {
    "kr_spec": ", ".join(f"{name} {kind}" for name, kind in SPEC_COLUMNS.items()),
    "kr_metrics": "kr_key VARCHAR, metric VARCHAR, role VARCHAR",
    "kr_filters": "kr_key VARCHAR, dimension VARCHAR, pattern VARCHAR, is_glob BOOLEAN",
    "kr_sources": "kr_key VARCHAR, source VARCHAR, allowed_lag_days INTEGER",
}


@dataclass(frozen=True)
class ScoreRun:
    run_id: str
    as_of: dt.date
    computed_at: dt.datetime
    kr_scores: pd.DataFrame
    objective_scores: list[ObjectiveScore]


def _sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def _load_specs(conn: duckdb.DuckDBPyConnection, specs: Specs) -> None:
    """Typed temp tables (the frames may hold only NULLs in a column; DuckDB must not guess)."""
    frames = {
        "kr_spec": specs.specs,
        "kr_metrics": specs.metrics,
        "kr_filters": specs.filters,
        "kr_sources": specs.sources,
    }
    for table, columns in SPEC_TABLES.items():
        conn.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({columns})")
        frame = frames[table]
        if frame.empty:
            continue
        conn.register("incoming_spec", frame)
        try:
            conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_spec")  # noqa: S608 (fixed names)
        finally:
            conn.unregister("incoming_spec")


def _under_scoring_memory_limit(
    func: Callable[Concatenate[duckdb.DuckDBPyConnection, P], R],
) -> Callable[Concatenate[duckdb.DuckDBPyConnection, P], R]:
    """Run a scoring step under DuckDB's scoring memory limit (pipelines.lib.db): DuckDB's share of a large
    mart spills to disk instead of growing the process towards 80 % of RAM, and the connection's own limit
    comes back after. The running totals of prefix_sums.py (numpy, about 60-80 bytes per mart row of the
    scored days) are outside it."""

    @functools.wraps(func)
    def capped(conn: duckdb.DuckDBPyConnection, *args: P.args, **kwargs: P.kwargs) -> R:
        with db.memory_limit(conn, db.scoring_memory_limit()):
            return func(conn, *args, **kwargs)

    return capped


@_under_scoring_memory_limit
def compute_scores(conn: duckdb.DuckDBPyConnection, defs: OkrDefs, as_of: dt.date, run_id: str) -> pd.DataFrame:
    """Score into temp tables only (kr_grouped, kr_scores_new): nothing persistent is touched.

    `okr diff` uses this to compare two versions of okr_defs against the same database.
    """
    computed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    specs = build_specs(defs, as_of)
    _load_specs(conn, specs)
    conn.execute(_sql("kr_series.sql"))  # the mart's series, numbered once, and its rows tagged with them
    conn.execute(_sql("kr_numbered.sql"), {"as_of": as_of})
    conn.execute(_sql("kr_members.sql"))  # filters matched once per entity
    prefix_sums.create_tables(conn, as_of)  # daily and per-series sums of every KR but expressions
    grouped = _sql("kr_grouped.sql").replace("{expr_sql}", specs.expr_sql)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE kr_grouped AS {grouped}", {"as_of": as_of} | specs.expr_params)
    periods.add_period_actuals(conn, defs, specs, as_of)  # distinct counts: GA4's value over the window
    conn.execute(_sql("progress_macro.sql"))
    params = {"as_of": as_of, "run_id": run_id, "computed_at": computed_at}
    conn.execute(f"CREATE OR REPLACE TEMP TABLE kr_scores_new AS {_sql('kr_scores.sql')}", params)
    periods.after_scores(conn, as_of)
    return conn.execute("SELECT * FROM kr_scores_new ORDER BY position").df()


def score_all(conn: duckdb.DuckDBPyConnection, defs: OkrDefs, as_of: dt.date, run_id: str | None = None) -> ScoreRun:
    """Score every KR and KPI as of a date and append one history row per KR; atomic."""
    run_id = run_id or uuid.uuid4().hex
    kr_scores = compute_scores(conn, defs, as_of, run_id)
    computed_at = kr_scores["computed_at"].iloc[0].to_pydatetime() if len(kr_scores) else dt.datetime.now()
    with transaction(conn):
        conn.execute("DELETE FROM okr.kr_daily")
        conn.execute(
            "INSERT INTO okr.kr_daily SELECT g.kr_key, g.report_date, g.num_sum, g.num_count, g.den_sum, "
            "CASE WHEN s.expr_id IS NOT NULL THEN g.expr_value WHEN s.has_den THEN g.num_sum / nullif(g.den_sum, 0) "
            "ELSE g.num_sum END, g.rows, ? FROM kr_grouped g JOIN kr_spec s USING (kr_key) WHERE g.is_daily",
            [run_id],
        )
        conn.execute("DELETE FROM okr.kr_contributions")
        conn.execute(
            "INSERT INTO okr.kr_contributions SELECT kr_key, platform, channel, campaign_id, campaign_name, "
            "num_sum, den_sum, num_last7, den_last7, num_prev7, den_prev7, ? FROM kr_grouped WHERE is_campaign",
            [run_id],
        )
        conn.execute("DELETE FROM okr.kr_scores")
        conn.execute("INSERT INTO okr.kr_scores BY NAME SELECT * FROM kr_scores_new")
        conn.execute("INSERT INTO okr.score_history BY NAME SELECT * FROM kr_scores_new")
        periods.persist(conn, run_id)
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
    rows = []
    for s in scores:
        obj = objectives[s.objective_id]
        start, end = (obj.period.start, obj.period.end) if obj.period else (None, None)
        rows.append(
            [
                as_of,
                s.objective_id,
                obj.title,
                obj.owner,
                obj.parent,
                obj.type,
                start,
                end,
                s.score,
                s.forecast_score,
                s.expected_progress,
                s.status,
                s.scored_children,
                s.unscored_children,
                run_id,
                computed_at,
            ]
        )
    conn.execute("DELETE FROM okr.objective_scores")
    if rows:
        placeholders = ", ".join(["?"] * 16)
        conn.executemany(f"INSERT INTO okr.objective_scores VALUES ({placeholders})", rows)  # noqa: S608
        conn.executemany(f"INSERT INTO okr.objective_history VALUES ({placeholders})", rows)  # noqa: S608
