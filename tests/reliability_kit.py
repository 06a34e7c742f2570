"""Helpers shared by the reliability tests: whole-database checksums, the `okr` command in a subprocess,
and a small file-source okr_defs folder whose every number is known.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines.lib import db
from tests.conftest import REPO, write_defs

# Columns that differ between two runs that load the same data (when, and by which run).
VOLATILE = ("extracted_at", "run_id", "computed_at")


def table_rows(path: Path, volatile: bool = True) -> dict[str, list[tuple]]:
    """Every table of the warehouse, rows in a total order; `volatile=False` leaves out VOLATILE columns."""
    with db.connect(path, read_only=True) as conn:
        return rows_of(conn, volatile)


def rows_of(conn: duckdb.DuckDBPyConnection, volatile: bool = True) -> dict[str, list[tuple]]:
    """`table_rows` through an open connection."""
    out = {}
    tables = conn.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY ALL", [db.CATALOG]
    ).fetchall()
    for schema, table in tables:
        columns = [
            c
            for (c,) in conn.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
                "AND table_name = ? ORDER BY column_index",
                [db.CATALOG, schema, table],
            ).fetchall()
            if volatile or c not in VOLATILE
        ]
        select = ", ".join(f'"{c}"' for c in columns)  # names from DuckDB's catalog, not from input
        query = f'SELECT {select} FROM "{schema}"."{table}" ORDER BY ALL'  # noqa: S608
        out[f"{schema}.{table}"] = conn.execute(query).fetchall()
    return out


def checksums(path: Path, volatile: bool = True) -> dict[str, str]:
    """sha256 of each table's ordered rows: equal checksums mean equal contents."""
    with db.connect(path, read_only=True) as conn:
        return checksums_of(conn, volatile)


def checksums_of(conn: duckdb.DuckDBPyConnection, volatile: bool = True) -> dict[str, str]:
    return {name: hashlib.sha256(repr(rows).encode()).hexdigest() for name, rows in rows_of(conn, volatile).items()}


def okr(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`okr ARGS` as a user runs it, in a fresh process with none of the developer's settings."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DUCKDB_PATH", "OKR_DEFS_DIR", "DAGSTER_HOME"}}
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True,
        text=True,
        env=clean | (env or {}),
        cwd=REPO,
        timeout=timeout,
        check=False,
    )


def okr_process(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`okr ARGS` started in the background (for runs that must overlap)."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DUCKDB_PATH", "OKR_DEFS_DIR", "DAGSTER_HOME"}}
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean | (env or {}),
        cwd=REPO,
    )


SHOP_METRICS = """
metrics:
  clicks: {agg: sum}
  spend: {agg: sum, unit: currency}
  conversions: {agg: sum}
  cpa: {ratio: [spend, conversions], unit: currency}
"""


def shop_sources(timezone: str = "UTC") -> str:
    return f"""
sources:
  shop:
    type: file
    path: exports/*.csv
    platform: meta_ads
    account_id: acct-1
    currency: USD
    timezone: {timezone}
    date: {{column: day}}
    campaign_id: campaign
    campaign_name: campaign
    channel: paid_social
    metrics:
      clicks: clicks
      spend: spend
      conversions: conversions
"""


def shop_objectives(start: dt.date, end: dt.date, campaigns: list[str] | None = None) -> str:
    """Two KRs (clicks, CPA), optionally restricted to campaign ids (JSON strings are valid YAML scalars)."""
    flt = f", filters: {{campaign_id: {json.dumps(campaigns)}}}" if campaigns else ""
    return f"""
objectives:
  - id: growth
    title: Grow the shop
    period: {{start: {start}, end: {end}}}
    key_results:
      - {{id: clicks, metric: clicks, baseline: 0, target: 1000{flt}}}
      - {{id: cpa, metric: cpa, baseline: 10, target: 5{flt}}}
"""


def shop_rows(days: list[dt.date], campaigns: list[str]) -> list[tuple[dt.date, str, int, float, int]]:
    """(day, campaign, clicks, spend, conversions) with values that differ per day and campaign."""
    return [
        (day, name, 10 + 3 * d + c, 5.5 + d + 0.25 * c, 1 + (d + c) % 3)
        for d, day in enumerate(days)
        for c, name in enumerate(campaigns)
    ]


def write_shop_csv(defs: Path, rows: list[tuple], name: str = "export.csv") -> Path:
    """The export as a platform writes it (a header, one line per campaign-day); CSV quoting by the csv module."""
    import csv

    folder = defs / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["day", "campaign", "clicks", "spend", "conversions"])
        writer.writerows([(d.isoformat(), c, k, s, v) for d, c, k, s, v in rows])
    return path


def shop_defs(
    root: Path,
    rows: list[tuple],
    period: tuple[dt.date, dt.date],
    timezone: str = "UTC",
    campaigns: list[str] | None = None,
) -> Path:
    """An okr_defs folder with one file source `shop` (its export beside it) and one objective."""
    defs = write_defs(
        root,
        {
            "sources.yaml": shop_sources(timezone),
            "metrics.yaml": SHOP_METRICS,
            "objectives/growth.yaml": shop_objectives(*period, campaigns),
        },
    )
    write_shop_csv(defs, rows)
    return defs
