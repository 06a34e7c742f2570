"""Asset metadata a human reads in the Dagster UI: counts, schemas and markdown previews."""

from __future__ import annotations

import dagster as dg
import duckdb
import pandas as pd


def column_schema(conn: duckdb.DuckDBPyConnection, table: str) -> dg.TableSchema:
    """dagster/column_schema from DuckDB's catalogue (table is a project constant, bound as data)."""
    schema, name = table.split(".")
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    return dg.TableSchema(columns=[dg.TableColumn(name=c, type=t) for c, t in rows])


def markdown(frame: pd.DataFrame, limit: int = 50) -> dg.MetadataValue:
    if frame.empty:
        return dg.MetadataValue.md("_no rows_")
    return dg.MetadataValue.md(frame.head(limit).to_markdown(index=False, floatfmt=".4g"))
