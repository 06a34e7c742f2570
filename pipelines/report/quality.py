"""Data-quality notes in plain words: missing values, how fresh each source is, KRs without data.

A marketer who sees "49 %" must be able to tell whether the number is complete. Each check reads the
mart or the scores, never the platforms; the checks the connectors will feed (sampling, thresholding,
unmatched campaigns) are hooks that return nothing until their columns exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb

from pipelines.report import queries
from pipelines.report.model import DataQuality, KeyResult, Kpi, MissingValues, QualityNote, SourceFreshness

MART = "marts.campaign_daily_metrics"


def freshness(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[SourceFreshness]:
    """The last day with a value per source, and how many days it lags the as-of date."""
    out = []
    for row in queries.rows(conn, queries.FRESHNESS, [as_of]):
        through = queries.day(row["data_through"])
        out.append(SourceFreshness(row["source"], through, (as_of - through).days if through else None))
    return out


def missing_values(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[MissingValues]:
    """Rows whose metric cell was empty in the export: skipped by sums, never counted as 0."""
    return [
        MissingValues(r["source"], r["metric"], int(r["missing"]), int(r["rows"]))
        for r in queries.rows(conn, queries.MISSING_VALUES, [as_of])
    ]


def sampled_rows(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[QualityNote]:
    """Hook: GA4 rows computed from a sample (the GA4 connector will flag them)."""
    return []


def thresholded_rows(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[QualityNote]:
    """Hook: GA4 rows withheld by data thresholds (Google signals), once the connector records them."""
    return []


def unmatched_campaigns(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[QualityNote]:
    """Hook: ad-platform campaigns with no matching GA4 campaign (and the reverse), once ids are mapped."""
    return []


NOTE_CHECKS: tuple[Callable[[duckdb.DuckDBPyConnection, dt.date], list[QualityNote]], ...] = (
    sampled_rows,
    thresholded_rows,
    unmatched_campaigns,
)


def data_quality(
    conn: duckdb.DuckDBPyConnection, as_of: dt.date, scored: list[KeyResult | Kpi], tables: set[str]
) -> DataQuality:
    """Every note for the report; without the mart (a scores-only file) only the no-data list remains."""
    no_data = [item for item in scored if item.status == "no_data"]
    if MART not in tables:
        return DataQuality([], [], no_data)
    notes = [note for check in NOTE_CHECKS for note in check(conn, as_of)]
    return DataQuality(freshness(conn, as_of), missing_values(conn, as_of), no_data, notes)
