"""DuckDB layout and the only write paths: each write of a date window is one transaction.

Metrics are stored long (one row per grain and metric) so that custom catalogue metrics need no DDL
and no name from okr_defs ever becomes a SQL identifier; `marts.campaign_daily` is the wide view
people query, with money as integer micros.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

DDL = [
    "CREATE SCHEMA IF NOT EXISTS raw",
    "CREATE SCHEMA IF NOT EXISTS marts",
    "CREATE SCHEMA IF NOT EXISTS okr",
    """CREATE TABLE IF NOT EXISTS marts.campaign_daily_metrics (
        source VARCHAR NOT NULL, platform VARCHAR NOT NULL, account_id VARCHAR NOT NULL,
        campaign_id VARCHAR NOT NULL, campaign_name VARCHAR, channel VARCHAR NOT NULL,
        source_medium VARCHAR NOT NULL DEFAULT '(not set)',
        report_date DATE NOT NULL, currency_code VARCHAR, account_timezone VARCHAR NOT NULL,
        metric VARCHAR NOT NULL, value DECIMAL(38, 6), extracted_at TIMESTAMP NOT NULL,
        is_settled BOOLEAN NOT NULL DEFAULT true, conversion_definition VARCHAR,
        PRIMARY KEY (source, platform, account_id, campaign_id, channel, source_medium, report_date, metric))""",
]

# One raw table per kind of source (project-owned names; a source's name from sources.yaml is a column,
# never an identifier). Every raw table has the same long layout.
RAW_TABLES = {
    "file": "raw.file_exports",
    "ga4": "raw.ga4_reports",
    "google_ads": "raw.google_ads_campaign_daily",
    "meta_ads": "raw.meta_ads_insights",
}
RAW_COLUMNS = """
        source VARCHAR NOT NULL, platform VARCHAR NOT NULL, account_id VARCHAR NOT NULL,
        campaign_id VARCHAR NOT NULL, campaign_name VARCHAR, channel VARCHAR NOT NULL,
        source_medium VARCHAR NOT NULL DEFAULT '(not set)',
        report_date DATE NOT NULL, currency_code VARCHAR, account_timezone VARCHAR NOT NULL,
        metric VARCHAR NOT NULL, value DECIMAL(38, 6), source_rows INTEGER NOT NULL,
        extracted_at TIMESTAMP NOT NULL, is_settled BOOLEAN NOT NULL DEFAULT true, conversion_definition VARCHAR,
        PRIMARY KEY (source, platform, account_id, campaign_id, channel, source_medium, report_date, metric)"""
DDL += [f"CREATE TABLE IF NOT EXISTS {table} ({RAW_COLUMNS})" for table in RAW_TABLES.values()]

# Standard measures exposed as columns of the wide view; money ones in integer micros.
MONEY_COLUMNS = {
    "spend": "spend_micros",
    "conversions_value": "conversions_value_micros",
    "revenue": "revenue_micros",
}
COUNT_COLUMNS = [
    "impressions",
    "clicks",
    "conversions",
    "sessions",
    "engaged_sessions",
    "key_events",
    "leads",
]


def _wide_view() -> str:
    parts = [
        f"CAST(round(sum(value) FILTER (WHERE metric = '{m}') * 1000000) AS BIGINT) AS {col}"
        for m, col in MONEY_COLUMNS.items()
    ] + [f"sum(value) FILTER (WHERE metric = '{m}') AS {m}" for m in COUNT_COLUMNS]
    return (
        "CREATE OR REPLACE VIEW marts.campaign_daily AS SELECT "
        "source, platform, account_id, campaign_id, any_value(campaign_name) AS campaign_name, channel, source_medium, "
        "report_date, currency_code, account_timezone, " + ", ".join(parts) + ", max(extracted_at) AS extracted_at "
        "FROM marts.campaign_daily_metrics "
        "GROUP BY source, platform, account_id, campaign_id, channel, source_medium, report_date, currency_code, "
        "account_timezone"
    )


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    for statement in [*DDL, _wide_view()]:
        conn.execute(statement)
    from pipelines.lib.scoring.tables import SCORE_DDL

    for statement in SCORE_DDL:
        conn.execute(statement)


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN/COMMIT, rolling back on any error so a failed write leaves the previous state intact."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def to_long(frame: pd.DataFrame, source: str, metrics: list[str]) -> pd.DataFrame:
    """Wide connector frame → one row per grain and metric; NULL values stay NULL."""
    ids = ["platform", "account_id", "campaign_id", "campaign_name", "channel", "source_medium", "report_date"]
    ids += ["currency_code", "account_timezone", "source_rows"]
    long = frame.melt(id_vars=ids, value_vars=metrics, var_name="metric", value_name="value")
    long.insert(0, "source", source)
    return long


def replace_source_window(
    conn: duckdb.DuckDBPyConnection,
    kind: str,
    source: str,
    long: pd.DataFrame,
    window: tuple[dt.date, dt.date],
    settled_before: dt.date | None = None,
    conversion_definition: str | None = None,
) -> int:
    """Delete the source's rows in the window, insert the new ones: one transaction, so reruns change nothing.

    Rows on or after `settled_before` are marked unsettled: the platform may still restate them.
    """
    table = RAW_TABLES[kind]
    extracted_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    conn.register("incoming_rows", long)
    try:
        with transaction(conn):
            conn.execute(
                f"DELETE FROM {table} WHERE source = ? AND report_date BETWEEN ? AND ?",  # noqa: S608
                [source, window[0], window[1]],
            )
            conn.execute(
                f"INSERT INTO {table} SELECT source, platform, account_id, campaign_id, campaign_name, "  # noqa: S608
                "channel, source_medium, CAST(report_date AS DATE), currency_code, account_timezone, metric, "
                "CAST(value AS DECIMAL(38, 6)), source_rows, ?, "
                "coalesce(CAST(report_date AS DATE) < CAST(? AS DATE), true), ? FROM incoming_rows",
                [extracted_at, settled_before, conversion_definition],
            )
    finally:
        conn.unregister("incoming_rows")
    return len(long)


def last_loaded(conn: duckdb.DuckDBPyConnection, kind: str, source: str) -> dt.date | None:
    """The latest day already stored for a source (None before its first run)."""
    table = RAW_TABLES[kind]
    return conn.execute(f"SELECT max(report_date) FROM {table} WHERE source = ?", [source]).fetchone()[0]  # noqa: S608


def rebuild_mart(conn: duckdb.DuckDBPyConnection, sources: list[str]) -> int:
    """Rebuild the mart from the raw layer for the configured sources only, atomically."""
    union = " UNION ALL ".join(
        "SELECT source, platform, account_id, campaign_id, campaign_name, channel, source_medium, report_date, "  # noqa: S608
        f"currency_code, account_timezone, metric, value, extracted_at, is_settled, conversion_definition FROM {t}"
        for t in RAW_TABLES.values()
    )
    with transaction(conn):
        conn.execute("DELETE FROM marts.campaign_daily_metrics")
        conn.execute(
            f"INSERT INTO marts.campaign_daily_metrics SELECT * FROM ({union}) WHERE list_contains(?, source)",  # noqa: S608
            [sources],
        )
    return conn.execute("SELECT count(*) FROM marts.campaign_daily_metrics").fetchone()[0]


def default_db_path() -> Path:
    """--db, else DUCKDB_PATH, else data/okr.duckdb (read when called, never at import)."""
    import os

    return Path(os.environ.get("DUCKDB_PATH") or "data/okr.duckdb")
