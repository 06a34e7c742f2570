"""(c) The analyst's baseline: the mart in one DataFrame, then a Python loop that filters and sums per KR.

This is the notebook way of scoring OKRs the engine replaces. The frame is given its best chance: string
dimensions are categoricals (read through Arrow, never as 10M Python strings) and only the columns the
filters need are loaded. Each KR then costs a few full-column boolean masks and one sum.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable

import duckdb
import pandas as pd
import pyarrow.compute as pc

from benchmarks.krs import BenchKr

COLUMNS = {"platform": "platform", "channel": "channel", "campaign": "campaign_name", "campaign_id": "campaign_id"}
LOAD_SQL = (
    "SELECT platform, channel, campaign_id, campaign_name, report_date, metric, CAST(value AS DOUBLE) AS value "
    "FROM marts.campaign_daily_metrics"
)
GLOB_CHARS = set("*?[")


def load_frame(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The mart as a DataFrame with categorical dimensions (a few hundred MB for 10M rows, not several GB)."""
    table = conn.sql(LOAD_SQL).to_arrow_table()
    for name in ("platform", "channel", "campaign_id", "campaign_name", "metric"):
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pc.dictionary_encode(table.column(name)))
    frame = table.to_pandas()
    del table  # the Arrow copy is not needed once pandas holds the data
    frame["report_date"] = pd.to_datetime(frame["report_date"])
    return frame


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """GLOB as DuckDB means it: whole string, case-sensitive (fnmatch.translate anchors the end)."""
    return re.compile(fnmatch.translate(pattern))


def _dimension_mask(frame: pd.DataFrame, column: str, values: list[str]) -> pd.Series:
    """Values of one filter are alternatives (OR); a value with * ? [ is a glob, otherwise an exact match."""
    exact = [v for v in values if not GLOB_CHARS & set(v)]
    mask = frame[column].isin(exact)
    for value in values:
        if GLOB_CHARS & set(value):
            mask |= frame[column].str.match(_glob_regex(value)).astype(bool)
    return mask


def kr_actual(frame: pd.DataFrame, kr: BenchKr) -> float | None:
    """Filter the frame for one KR and sum: ratio of the sums over the window, NULL (None) for no data."""
    num, den = kr.parts
    mask = frame["report_date"].between(pd.Timestamp(kr.window_start), pd.Timestamp(kr.through))
    mask &= frame["metric"].isin([num, den] if den else [num])
    for name, values in kr.filters.items():
        mask &= _dimension_mask(frame, COLUMNS[name], values)
    rows = frame.loc[mask, ["metric", "value"]]
    numerator = rows.loc[rows["metric"] == num, "value"].sum(min_count=1)
    if den is None:
        return None if pd.isna(numerator) else float(numerator)
    denominator = rows.loc[rows["metric"] == den, "value"].sum(min_count=1)
    if pd.isna(numerator) or pd.isna(denominator) or denominator == 0:
        return None
    return float(numerator / denominator)


def pandas_actuals(
    frame: pd.DataFrame, krs: list[BenchKr], advance: Callable[[], None] = lambda: None
) -> dict[str, float | None]:
    """The loop the engine replaces: one filter-and-sum per KR, `advance` called after each for progress."""
    actuals = {}
    for kr in krs:
        actuals[kr.key] = kr_actual(frame, kr)
        advance()
    return actuals
