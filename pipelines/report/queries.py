"""Every query the report runs, read-only, with bound parameters; rows come back as plain dicts.

The report reads only what the scoring run stored (okr.*) and the mart (for data-quality notes), so it
shows exactly the numbers `okr scores` shows and can be rebuilt from the file at any time.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import duckdb

from pipelines.lib import db

KR_SCORES = "SELECT * FROM okr.kr_scores ORDER BY position"
OBJECTIVES = "SELECT * FROM okr.objective_scores ORDER BY objective_id"
KR_DAILY = "SELECT kr_key, report_date, numerator, numerator_rows, denominator, value FROM okr.kr_daily ORDER BY ALL"
# The latest run for each as-of date: reruns of a day replace it in the trend, they do not add points.
HISTORY = """
WITH runs AS (
    SELECT as_of, arg_max(run_id, computed_at) AS run_id
    FROM okr.score_history
    WHERE as_of <= ?
    GROUP BY as_of
)
SELECT h.kind, h.objective_id, h.kr_id, h.as_of, h.score
FROM okr.score_history AS h
JOIN runs USING (as_of, run_id)
ORDER BY h.as_of
"""
CONTRIBUTIONS = """
SELECT kr_key, platform, channel, campaign_id, campaign_name,
       numerator_last7, denominator_last7, numerator_prev7, denominator_prev7
FROM okr.kr_contributions
"""
MISSING_VALUES = """
SELECT source, metric, count(*) FILTER (WHERE value IS NULL) AS missing, count(*) AS rows
FROM marts.campaign_daily_metrics
WHERE report_date <= ?
GROUP BY source, metric
HAVING count(*) FILTER (WHERE value IS NULL) > 0
ORDER BY source, metric
"""
FRESHNESS = """
SELECT source, max(report_date) AS data_through
FROM marts.campaign_daily_metrics
WHERE value IS NOT NULL AND report_date <= ?
GROUP BY source
ORDER BY source
"""


def _plain(value: Any) -> Any:
    """DuckDB DECIMALs become floats (the mart stores values as DECIMAL; the report only displays them)."""
    return float(value) if isinstance(value, Decimal) else value


def rows(conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [{n: _plain(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]


def tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    """schema.table names in the attached file, so optional tables can be skipped rather than fail."""
    found = conn.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_catalog = ?",
        [db.CATALOG],
    ).fetchall()
    return {r[0] for r in found}


def day(value: Any) -> dt.date | None:
    """A DATE or TIMESTAMP column as a date (history tables store as_of as DATE, pandas would not)."""
    if value is None:
        return None
    return value.date() if isinstance(value, dt.datetime) else value
