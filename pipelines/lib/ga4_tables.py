"""Tables only GA4 sources write: what GA4 said about each loaded day, and whole-window distinct counts.

- `raw.ga4_day_quality`: one row per GA4 source and loaded day, with the response metadata of the report
  that day came from (sampled, the share of events read, thresholded, rows rolled into `(other)`). It is
  replaced with the day's rows, in the same transaction, so it always describes the rows that are stored;
  `okr explain` and the report's data-quality notes read it for every KR over its window.
- `marts.period_metrics`: one value per (source, metric, filter, window), queried from GA4 for a KR window
  with no date dimension (distinct users are never summed over days). `filter_key` fingerprints the GA4
  dimensionFilter sent; `filter_text` says it in words.

No dagster and no import of storage here: storage.ensure_schema creates these with the rest.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

DAY_QUALITY = "raw.ga4_day_quality"
PERIOD_METRICS = "marts.period_metrics"
DAY_QUALITY_COLUMNS = [
    "source",
    "account_id",
    "report_date",
    "sampled",
    "sampling_ratio",
    "thresholded",
    "data_loss_from_other_row",
    "extracted_at",
]
DDL = [
    f"""CREATE TABLE IF NOT EXISTS {DAY_QUALITY} (
        source VARCHAR NOT NULL, account_id VARCHAR NOT NULL, report_date DATE NOT NULL,
        sampled BOOLEAN NOT NULL, sampling_ratio DOUBLE, thresholded BOOLEAN NOT NULL,
        data_loss_from_other_row BOOLEAN NOT NULL, extracted_at TIMESTAMP NOT NULL,
        PRIMARY KEY (source, report_date))""",
    f"""CREATE TABLE IF NOT EXISTS {PERIOD_METRICS} (
        source VARCHAR NOT NULL, platform VARCHAR NOT NULL, account_id VARCHAR NOT NULL,
        metric VARCHAR NOT NULL, ga4_metric VARCHAR NOT NULL,
        filter_key VARCHAR NOT NULL, filter_text VARCHAR NOT NULL, dimension_filter VARCHAR,
        window_start DATE NOT NULL, window_end DATE NOT NULL,
        value DOUBLE, source_rows INTEGER NOT NULL, account_timezone VARCHAR,
        sampled BOOLEAN NOT NULL, sampling_ratio DOUBLE, thresholded BOOLEAN NOT NULL,
        data_loss_from_other_row BOOLEAN NOT NULL,
        extracted_at TIMESTAMP NOT NULL, is_settled BOOLEAN NOT NULL,
        PRIMARY KEY (source, metric, filter_key, window_start, window_end))""",
]


def day_quality_frame(source: str, account_id: str, ranges: list, extracted_at: dt.datetime) -> pd.DataFrame:
    """One row per day of each loaded range (connectors.ga4.RangeFacts), carrying that range's metadata."""
    rows = []
    for r in ranges:
        day = r.start
        while day <= r.end:
            rows.append(
                [source, account_id, day, r.sampled, r.sampling_ratio, r.thresholded, r.data_loss_from_other_row]
            )
            day += dt.timedelta(days=1)
    frame = pd.DataFrame(rows, columns=DAY_QUALITY_COLUMNS[:-1])
    frame["extracted_at"] = extracted_at
    return frame


def replace_day_quality(
    conn: duckdb.DuckDBPyConnection, source: str, frame: pd.DataFrame, window: tuple[dt.date, dt.date]
) -> None:
    """Replace the source's days in the window; call inside the transaction that replaces its raw rows."""
    conn.execute(
        f"DELETE FROM {DAY_QUALITY} WHERE source = ? AND report_date BETWEEN ? AND ?",  # noqa: S608 (constant)
        [source, window[0], window[1]],
    )
    if frame.empty:
        return
    conn.register("incoming_day_quality", frame)
    try:
        conn.execute(f"INSERT INTO {DAY_QUALITY} BY NAME SELECT * FROM incoming_day_quality")  # noqa: S608
    finally:
        conn.unregister("incoming_day_quality")
