"""Data-quality notes in plain words: missing values, how fresh each source is, KRs without data.

A marketer who sees "49 %" must be able to tell whether the number is complete. Each check reads the
mart or the scores, never the platforms. GA4's own warnings (rows withheld under privacy thresholds,
results computed from a sample, low-volume rows rolled into `(other)`) come from okr.kr_quality, which
the scoring run fills for every KR from the days (or the whole-window query) it read; a note names the
KRs affected and how much of their window. Unmatched campaigns remain a hook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb

from pipelines.report import queries
from pipelines.report.model import (
    DataQuality,
    KeyResult,
    Kpi,
    MissingValues,
    QualityItem,
    QualityNote,
    SourceFreshness,
)

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


KR_QUALITY = "okr.kr_quality"
# Per flag: the okr.kr_quality count column and the sentence of the plain-text note.
FLAGS = {
    "sampling": ("sampled", "GA4 computed these from a sample"),
    "thresholding": ("thresholded", "GA4 withheld rows under its privacy thresholds"),
    "other_row": ("other_row", "GA4 rolled low-volume rows into (other)"),
}
FLAGGED = """
SELECT q.source, q.origin, q.checked, q.{column} AS flagged, q.min_sampling_ratio, q.window_start, q.window_end,
       q.kr_key <> q.reader_key AS baseline, s.title
FROM okr.kr_quality AS q
JOIN okr.kr_scores AS s
  ON q.reader_key = CASE WHEN s.kind = 'kpi' THEN 'kpi:' || s.kr_id ELSE s.objective_id || '/' || s.kr_id END
WHERE q.{column} > 0
ORDER BY q.source, s.position, q.kr_key
"""


def _flag_notes(conn: duckdb.DuckDBPyConnection, kind: str) -> list[QualityNote]:
    """One note per GA4 source: the KRs whose window holds affected days (or whose period query was)."""
    if KR_QUALITY not in queries.tables(conn):
        return []  # a database scored before the table existed
    column, sentence = FLAGS[kind]
    by_source: dict[str, list[dict]] = {}
    for row in queries.rows(conn, FLAGGED.format(column=column)):  # column: a constant of FLAGS
        by_source.setdefault(row["source"], []).append(row)
    notes = []
    for source, rows in by_source.items():
        items = tuple(
            QualityItem(
                r["title"],
                r["origin"],
                int(r["flagged"]),
                int(r["checked"]),
                queries.day(r["window_start"]),
                queries.day(r["window_end"]),
                bool(r["baseline"]),
            )
            for r in rows
        )
        ratios = [r["min_sampling_ratio"] for r in rows if r["min_sampling_ratio"] is not None]
        share = min(ratios) if kind == "sampling" and ratios else None
        listed = "; ".join(
            f"{i.title}{' (baseline window)' if i.baseline else ''}: "
            + (f"{i.flagged} of {i.checked} days" if i.origin == "daily" else "its whole-window query")
            for i in items
        )
        notes.append(QualityNote(kind, source, f"{sentence}: {listed}.", items, share))
    return notes


def sampled_rows(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[QualityNote]:
    """GA4 results computed from a sample, for the KRs that read them."""
    return _flag_notes(conn, "sampling")


def thresholded_rows(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[QualityNote]:
    """GA4 rows withheld under data thresholds (Google signals, small counts), for the KRs that read them."""
    return _flag_notes(conn, "thresholding")


def other_rows(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[QualityNote]:
    """GA4 rolled low-volume rows into `(other)`: totals hold, campaign-level detail does not."""
    return _flag_notes(conn, "other_row")


def unmatched_campaigns(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[QualityNote]:
    """Hook: ad-platform campaigns with no matching GA4 campaign (and the reverse), once ids are mapped."""
    return []


NOTE_CHECKS: tuple[Callable[[duckdb.DuckDBPyConnection, dt.date], list[QualityNote]], ...] = (
    sampled_rows,
    thresholded_rows,
    other_rows,
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
