"""Data-quality measures behind the asset checks: plain functions over DuckDB, testable without Dagster.

Each returns numbers a check reports as metadata, so an on-call analyst sees why it passed or failed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd
import pandera.pandas as pa

from connectors.schemas import GRAIN
from pipelines.lib.storage import RAW_TABLES

ANOMALY_TRAILING_DAYS = 28
ANOMALY_MIN_SHARE = 0.5  # a day with fewer than half the trailing median's rows is suspicious


@dataclass(frozen=True)
class Freshness:
    data_through: dt.date | None
    lag_days: int | None
    allowed_lag_days: int

    @property
    def passed(self) -> bool:
        return self.lag_days is not None and self.lag_days <= self.allowed_lag_days


def freshness(conn: duckdb.DuckDBPyConnection, kind: str, source: str, as_of: dt.date, allowed: int) -> Freshness:
    """How many days the source's newest stored day lags behind as-of."""
    table = RAW_TABLES[kind]
    # fetchall, not fetchone: a half-read result would block the next register() on this connection
    ((through,),) = conn.execute(f"SELECT max(report_date) FROM {table} WHERE source = ?", [source]).fetchall()  # noqa: S608
    lag = (as_of - through).days if through else None
    return Freshness(through, lag, allowed)


@dataclass(frozen=True)
class RowCountAnomaly:
    trailing_median: float | None
    low_days: dict[str, int]  # day -> grain rows, for window days under the threshold

    @property
    def passed(self) -> bool:
        return not self.low_days


def row_count_anomaly(
    conn: duckdb.DuckDBPyConnection, kind: str, source: str, window: tuple[dt.date, dt.date]
) -> RowCountAnomaly:
    """Grain rows per day in the window against the median of the 28 days before it.

    A day the platform returned nothing for (or far less than usual) after it had data is the classic
    silent loss of a re-pull; it is flagged, not hidden. With no trailing history there is nothing to
    compare, and the check passes.
    """
    table = RAW_TABLES[kind]
    start, end = window
    trailing_start = start - dt.timedelta(days=ANOMALY_TRAILING_DAYS)
    rows = conn.execute(
        f"""
        WITH days AS (SELECT CAST(d AS DATE) AS day FROM range(?::DATE, ?::DATE + 1, INTERVAL 1 DAY) t(d)),
        counted AS (
            SELECT report_date AS day, count(DISTINCT (account_id, campaign_id, channel, source_medium)) AS n
            FROM {table} WHERE source = ? AND report_date BETWEEN ? AND ? GROUP BY ALL)
        SELECT days.day, coalesce(counted.n, 0) AS n FROM days LEFT JOIN counted USING (day) ORDER BY days.day
        """,  # noqa: S608
        [trailing_start, end, source, trailing_start, end],
    ).fetchall()
    trailing = [n for day, n in rows if day < start and n > 0]
    if not trailing:
        return RowCountAnomaly(None, {})
    median = float(pd.Series(trailing).median())
    low = {day.isoformat(): n for day, n in rows if day >= start and n < ANOMALY_MIN_SHARE * median}
    return RowCountAnomaly(median, low)


def grain_schema(metrics: list[str], nonnegative: set[str], window: tuple[dt.date, dt.date]) -> pa.DataFrameSchema:
    """What a pulled frame must satisfy before it replaces a window: one row per grain, days inside the
    window, ids present, a currency, counts not negative. Rejecting it keeps the previous window."""
    start, end = (pd.Timestamp(d) for d in window)
    columns: dict[str, pa.Column] = {
        "report_date": pa.Column(
            checks=pa.Check(lambda s: pd.to_datetime(s).between(start, end), error=f"outside {window[0]}..{window[1]}")
        ),
        "platform": pa.Column(str, pa.Check.str_length(min_value=1)),
        "account_id": pa.Column(str, pa.Check.str_length(min_value=1)),
        "campaign_id": pa.Column(str, pa.Check.str_length(min_value=1)),
        "channel": pa.Column(str, pa.Check.str_length(min_value=1)),
        "source_medium": pa.Column(str, pa.Check.str_length(min_value=1)),
        "currency_code": pa.Column(str, pa.Check.str_matches(r"^[A-Z]{3}$"), nullable=True),
    }
    for name in metrics:
        checks = [pa.Check.ge(0, error="must not be negative")] if name in nonnegative else []
        columns[name] = pa.Column(float, checks=checks, nullable=True, coerce=True)
    return pa.DataFrameSchema(columns, unique=GRAIN, strict=False, report_duplicates="all")


def schema_failures(frame: pd.DataFrame, schema: pa.DataFrameSchema, limit: int = 20) -> pd.DataFrame | None:
    """None when the frame passes; else pandera's failure cases (column, check, value), first `limit`."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.loc[:, ["column", "check", "failure_case", "index"]]
        return cases.head(limit).astype(str)
    return None
