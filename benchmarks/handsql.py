"""(b) The reference: one hand-written DuckDB aggregation computing every KR's actual at once.

This is what someone fluent in SQL would write for actuals only: one row per (KR, measure it reads) in a
small table whose filter columns are lists (NULL = no filter), joined to the mart on metric and window,
filtered, and summed in a single GROUP BY. It computes no daily series, contributions or scores, so it
is the floor the engine's scoring pass is measured against, not a replacement for it.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from benchmarks.krs import BenchKr

KR_TABLE = """
CREATE OR REPLACE TEMP TABLE bench_kr_part (
    kr_key VARCHAR, metric VARCHAR, is_den BOOLEAN, is_ratio BOOLEAN, window_start DATE, through DATE,
    platforms VARCHAR[], channels VARCHAR[], campaign_globs VARCHAR[], campaign_ids VARCHAR[]
)
"""
FILTER_COLUMNS = {"platform": "platforms", "channel": "channels", "campaign": "campaign_globs"}
FILTER_COLUMNS |= {"campaign_id": "campaign_ids"}

# Campaign names are matched with GLOB (the only filter the generator writes as a pattern); the other
# dimensions by list membership. A filter column left NULL matches every row.
ACTUALS_SQL = """
SELECT k.kr_key,
       CASE WHEN any_value(k.is_ratio)
            THEN CAST(sum(m.value) FILTER (WHERE NOT k.is_den) AS DOUBLE)
                 / nullif(CAST(sum(m.value) FILTER (WHERE k.is_den) AS DOUBLE), 0)
            ELSE CAST(sum(m.value) AS DOUBLE)
       END AS actual
FROM marts.campaign_daily_metrics AS m
JOIN bench_kr_part AS k
  ON m.metric = k.metric
 AND m.report_date BETWEEN k.window_start AND k.through
WHERE (k.platforms IS NULL OR list_contains(k.platforms, m.platform))
  AND (k.channels IS NULL OR list_contains(k.channels, m.channel))
  AND (k.campaign_ids IS NULL OR list_contains(k.campaign_ids, m.campaign_id))
  AND (k.campaign_globs IS NULL OR m.campaign_name GLOB k.campaign_globs[1])
GROUP BY k.kr_key
"""


def kr_table(krs: list[BenchKr]) -> pd.DataFrame:
    """One row per (KR, measure): a ratio KR reads two measures, a sum KR one."""
    rows = []
    for kr in krs:
        num, den = kr.parts
        for metric, is_den in [(num, False), *([(den, True)] if den else [])]:
            row = {"kr_key": kr.key, "metric": metric, "is_den": is_den, "is_ratio": den is not None}
            row |= {"window_start": kr.window_start, "through": kr.through}
            row |= {column: kr.filters.get(name) for name, column in FILTER_COLUMNS.items()}
            rows.append(row)
    return pd.DataFrame(rows)


def load_kr_table(conn: duckdb.DuckDBPyConnection, krs: list[BenchKr]) -> None:
    """Typed temp table: list columns that are all NULL in a small run must still be VARCHAR[]."""
    if any(len(kr.filters.get("campaign", [])) > 1 for kr in krs):
        raise ValueError("the reference query matches one campaign glob per KR")
    conn.execute(KR_TABLE)
    conn.register("incoming_bench_kr", kr_table(krs))
    try:
        conn.execute("INSERT INTO bench_kr_part BY NAME SELECT * FROM incoming_bench_kr")
    finally:
        conn.unregister("incoming_bench_kr")


def hand_sql_actuals(conn: duckdb.DuckDBPyConnection) -> dict[str, float | None]:
    """Every KR's actual (ratio of sums, or the sum); KRs whose filters match no row are absent."""
    return dict(conn.execute(ACTUALS_SQL).fetchall())
