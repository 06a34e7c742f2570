"""The scoring pass's part for distinct counts and for GA4's data-quality flags.

Kept apart from engine.py and kr_grouped.sql (the daily pass): the engine calls three hooks, each one
set-based SQL over small temp tables, never a query per KR.

1. `add_period_actuals` (after kr_grouped): links every period KR to its stored GA4 value (kr_period, the
   same windows and filter fingerprints the loader asked for, pipelines.lib.period.plan_links) and adds one
   row per KR to kr_grouped (period_actuals.sql), so the actual is GA4's count over the window.
2. `after_scores` (after kr_scores_new): a distinct count has no honest run-rate: users over the rest of
   the window cannot be told from users so far (returning users add nothing). The forecast stays the value
   to date, which is a floor, with no band, and the note says so. Then kr_quality: what GA4 said
   (thresholding, sampling, the `(other)` row) about the days or the period query behind each KR.
3. `persist` (inside score_all's transaction): okr.kr_quality, read by the report.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipelines.lib.ga4_tables import DAY_QUALITY, DDL, PERIOD_METRICS
from pipelines.lib.scoring.specs import Specs
from pipelines.lib.spec import OkrDefs

SQL_DIR = Path(__file__).parent
LINK_TYPES = "kr_key VARCHAR, source VARCHAR, metric VARCHAR, window_start DATE, window_end DATE, "
LINK_TYPES += "filter_key VARCHAR, filter_text VARCHAR"
# Stored tables copied into temp tables, so a database written before they existed still scores.
SNAPSHOTS = {"period_values": PERIOD_METRICS, "day_quality": DAY_QUALITY}
FORECAST_NOTE = (
    "distinct count from one GA4 query over the window: the forecast is the value so far "
    "(users still to come cannot be projected from a daily rate), with no band"
)
QUALITY_COLUMNS = (
    "kr_key, reader_key, kind, source, origin, window_start, window_end, filter_text, checked, thresholded, "
    "sampled, min_sampling_ratio, other_row"
)


def _sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def _snapshot(conn: duckdb.DuckDBPyConnection, temp: str, table: str) -> None:
    schema, name = table.split(".")
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchone()[0]
    if exists:
        conn.execute(f"CREATE OR REPLACE TEMP TABLE {temp} AS SELECT * FROM {table}")  # noqa: S608 (constants)
    else:
        ddl = next(d for d in DDL if f" {table} (" in d)
        conn.execute(ddl.replace(f"CREATE TABLE IF NOT EXISTS {table}", f"CREATE OR REPLACE TEMP TABLE {temp}"))


def add_period_actuals(conn: duckdb.DuckDBPyConnection, defs: OkrDefs, specs: Specs, as_of: dt.date) -> None:
    """kr_period and the period rows of kr_grouped (call after kr_grouped is created)."""
    for temp, table in SNAPSHOTS.items():
        _snapshot(conn, temp, table)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE kr_period ({LINK_TYPES})")
    if not (specs.specs["num_agg"] == "period").any():
        return  # and pipelines.lib.period (the GA4 client, 2 s to import) is not needed
    # imported here: pipelines.lib.period needs api_sources, which imports this package's specs
    from pipelines.lib.period import LINK_COLUMNS, links_frame, plan_links

    links = links_frame(plan_links(defs, as_of, specs.specs))
    if not links.empty:
        conn.register("incoming_links", links[LINK_COLUMNS])
        try:
            conn.execute("INSERT INTO kr_period BY NAME SELECT * FROM incoming_links")
        finally:
            conn.unregister("incoming_links")
        conn.execute(_sql("period_actuals.sql"))


def after_scores(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> None:
    """Period KRs' forecast has no band; then the data-quality facts per KR (temp table kr_quality)."""
    conn.execute(
        "UPDATE kr_scores_new AS k SET forecast_low = NULL, forecast_high = NULL, "
        "note = coalesce(k.note, CASE WHEN k.actual IS NOT NULL THEN ? END) "
        "FROM kr_spec AS s WHERE s.num_agg = 'period' AND s.kind = k.kind AND s.kr_id = k.kr_id "
        "AND s.objective_id IS NOT DISTINCT FROM k.objective_id",
        [FORECAST_NOTE],
    )
    conn.execute(f"CREATE OR REPLACE TEMP TABLE kr_quality AS {_sql('kr_quality.sql')}", {"as_of": as_of})


def persist(conn: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Replace okr.kr_quality with this run's facts (inside the scoring transaction)."""
    conn.execute("DELETE FROM okr.kr_quality")
    conn.execute(
        f"INSERT INTO okr.kr_quality ({QUALITY_COLUMNS}, run_id) SELECT {QUALITY_COLUMNS}, ? FROM kr_quality",  # noqa: S608
        [run_id],
    )
