"""DuckDB layout and the only write paths: each write of a date window is one transaction.

Metrics are stored long (one row per grain and metric) so that custom catalogue metrics need no DDL
and no name from okr_defs ever becomes a SQL identifier; `marts.campaign_daily` is the wide view
people query, with money as integer micros.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.lib import campaign_map, fx, ga4_tables

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
        original_currency_code VARCHAR, original_value DECIMAL(38, 6), fx_rate DOUBLE, fx_rate_date DATE,
        unified_campaign_id VARCHAR,
        PRIMARY KEY (source, platform, account_id, campaign_id, channel, source_medium, report_date, metric))""",
]
# Columns added to the mart after its first release: a database created before gets them on ensure_schema.
# value/currency_code are in the reporting currency when one is set; original_* are what the source reported.
MART_ADDED_COLUMNS = {
    "original_currency_code": "VARCHAR",
    "original_value": "DECIMAL(38, 6)",
    "fx_rate": "DOUBLE",
    "fx_rate_date": "DATE",
    "unified_campaign_id": "VARCHAR",
}

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
DDL += [*fx.DDL, *campaign_map.DDL, *ga4_tables.DDL]

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


WIDE_VIEW = "marts.campaign_daily"


def _wide_select() -> str:
    parts = [
        f"CAST(round(sum(value) FILTER (WHERE metric = '{m}') * 1000000) AS BIGINT) AS {col}"
        for m, col in MONEY_COLUMNS.items()
    ] + [f"sum(value) FILTER (WHERE metric = '{m}') AS {m}" for m in COUNT_COLUMNS]
    return (
        "SELECT source, platform, account_id, campaign_id, any_value(campaign_name) AS campaign_name, channel, "
        "source_medium, report_date, currency_code, account_timezone, " + ", ".join(parts) + ", "
        "max(extracted_at) AS extracted_at, unified_campaign_id, original_currency_code "
        "FROM marts.campaign_daily_metrics "
        "GROUP BY source, platform, account_id, campaign_id, channel, source_medium, report_date, currency_code, "
        "account_timezone, unified_campaign_id, original_currency_code"
    )


def _ensure_wide_view(conn: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the wide view only when its columns are not the current ones.

    Replacing a view is a catalog write: doing it on every connection would change the database file
    even when nothing else does (a failed run must leave the file byte for byte as it was).
    """
    select = _wide_select()
    wanted = [(name, kind) for name, kind, *_ in conn.execute(f"DESCRIBE {select}").fetchall()]
    present = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = 'marts' AND table_name = 'campaign_daily' "
        "ORDER BY ordinal_position"
    ).fetchall()
    if [tuple(c) for c in present] != wanted:
        conn.execute(f"CREATE OR REPLACE VIEW {WIDE_VIEW} AS {select}")


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        conn.execute(statement)
    _add_missing_mart_columns(conn)
    _ensure_wide_view(conn)
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
    also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> int:
    """Delete the source's rows in the window, insert the new ones: one transaction, so reruns change nothing.

    Rows on or after `settled_before` are marked unsettled: the platform may still restate them. `also`
    runs inside the same transaction (e.g. GA4's per-day sampling flags), so it stands or falls with the rows.
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
            if also is not None:
                also(conn)
    finally:
        conn.unregister("incoming_rows")
    return len(long)


def last_loaded(conn: duckdb.DuckDBPyConnection, kind: str, source: str) -> dt.date | None:
    """The latest day already stored for a source (None before its first run)."""
    table = RAW_TABLES[kind]
    return conn.execute(f"SELECT max(report_date) FROM {table} WHERE source = ?", [source]).fetchone()[0]  # noqa: S608


def _add_missing_mart_columns(conn: duckdb.DuckDBPyConnection) -> None:
    """Upgrade a mart created before the unification columns existed (no-op, and no write, when current)."""
    present = {
        name
        for (name,) in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() "
            "AND table_schema = 'marts' AND table_name = 'campaign_daily_metrics'"
        ).fetchall()
    }
    for name, kind in MART_ADDED_COLUMNS.items():
        if name not in present:
            conn.execute(f"ALTER TABLE marts.campaign_daily_metrics ADD COLUMN {name} {kind}")


@dataclass(frozen=True, eq=False)
class MartSettings:
    """How the mart unifies its sources (pipelines.lib.mart builds it from okr_defs).

    - reporting_currency: money measures are converted into it (None: kept as reported, and a KR that
      mixes currencies is invalid);
    - money_metrics: the stored measures that are money (always including spend, conversions_value, revenue);
    - max_rate_age_days: the oldest rate usable for a day (None: any earlier rate);
    - fx_rates: rows that replace raw.fx_rates in the same transaction (None: keep the stored rates);
    - rates_origin: where the rates come from, named in conversion errors;
    - links: campaign_map.yaml as rows (None: keep the stored links).
    """

    reporting_currency: str | None = None
    money_metrics: tuple[str, ...] = tuple(MONEY_COLUMNS)
    max_rate_age_days: int | None = None
    fx_rates: pd.DataFrame | None = None
    rates_origin: str = fx.FX_TABLE
    links: pd.DataFrame | None = None


MART_INSERT = """
INSERT INTO marts.campaign_daily_metrics BY NAME
SELECT
    s.source, s.platform, s.account_id, s.campaign_id, s.campaign_name, s.channel, s.source_medium,
    s.report_date, s.account_timezone, s.metric, s.extracted_at, s.is_settled, s.conversion_definition,
    CASE WHEN $reporting IS NOT NULL AND s.currency_code IS NOT NULL THEN $reporting ELSE s.currency_code END
        AS currency_code,
    CASE WHEN x.rate IS NOT NULL THEN CAST(CAST(s.value AS DOUBLE) * x.rate AS DECIMAL(38, 6)) ELSE s.value END
        AS value,
    s.currency_code AS original_currency_code,
    s.value AS original_value,
    CASE
        WHEN x.rate IS NOT NULL THEN x.rate
        WHEN $reporting IS NOT NULL AND s.currency_code = $reporting AND list_contains($money, s.metric) THEN 1.0
    END AS fx_rate,
    x.rate_date AS fx_rate_date,
    coalesce(g.unified_campaign_id, a.unified_campaign_id) AS unified_campaign_id
FROM mart_stage AS s
LEFT JOIN fx_lookup AS x
  ON list_contains($money, s.metric) AND x.currency = s.currency_code AND x.report_date = s.report_date
LEFT JOIN ga4_keys AS g
  ON s.platform = 'ga4' AND g.source = s.source AND g.account_id = s.account_id AND g.campaign_id = s.campaign_id
 AND g.campaign_name IS NOT DISTINCT FROM s.campaign_name
LEFT JOIN ads_keys AS a
  ON a.source = s.source AND a.platform = s.platform AND a.account_id = s.account_id AND a.campaign_id = s.campaign_id
"""


def rebuild_mart(conn: duckdb.DuckDBPyConnection, sources: list[str], settings: MartSettings | None = None) -> int:
    """Rebuild the mart from the raw layer for the configured sources only, atomically.

    In the same transaction: stage the raw rows, convert money into the reporting currency (raising
    fx.FxError, and writing nothing, when a day has no usable rate), rebuild marts.campaign_map and give
    every row its unified_campaign_id. The raw layer is never modified.
    """
    settings = settings or MartSettings()
    money = sorted(set(settings.money_metrics) | set(MONEY_COLUMNS))
    union = " UNION ALL ".join(
        "SELECT source, platform, account_id, campaign_id, campaign_name, channel, source_medium, report_date, "  # noqa: S608
        f"currency_code, account_timezone, metric, value, extracted_at, is_settled, conversion_definition FROM {t}"
        for t in RAW_TABLES.values()
    )
    campaign_map.register_key_function(conn)
    try:
        with transaction(conn):
            if settings.fx_rates is not None:
                fx.replace_rates(conn, settings.fx_rates)
            conn.execute(
                f"CREATE OR REPLACE TEMP TABLE mart_stage AS SELECT * FROM ({union}) WHERE list_contains(?, source)",  # noqa: S608
                [sources],
            )
            fx.look_up_rates(
                conn, settings.reporting_currency, money, settings.max_rate_age_days, settings.rates_origin
            )
            campaign_map.build_campaign_map(conn, settings.links)
            conn.execute("DELETE FROM marts.campaign_daily_metrics")
            conn.execute(MART_INSERT, {"reporting": settings.reporting_currency, "money": money})
    finally:
        for table in ["mart_stage", "fx_lookup", *campaign_map.TEMP_TABLES]:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    return conn.execute("SELECT count(*) FROM marts.campaign_daily_metrics").fetchone()[0]


def default_db_path() -> Path:
    """--db, else DUCKDB_PATH, else data/okr.duckdb (read when called, never at import)."""
    import os

    return Path(os.environ.get("DUCKDB_PATH") or "data/okr.duckdb")
