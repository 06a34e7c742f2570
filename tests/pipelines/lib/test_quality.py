"""The measures behind the asset checks, on a real DuckDB file with hand-counted rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from pipelines.lib import db, quality, storage

D = dt.date


def grain_frame(days: list[D], campaigns: list[str], impressions: float = 100.0) -> pd.DataFrame:
    rows = [
        {
            "platform": "google_ads",
            "account_id": "555",
            "campaign_id": c,
            "campaign_name": c,
            "channel": "Paid Search",
            "source_medium": "(not set)",
            "report_date": d,
            "currency_code": "VND",
            "account_timezone": "Asia/Ho_Chi_Minh",
            "source_rows": 1,
            "impressions": impressions,
        }
        for d in days
        for c in campaigns
    ]
    return pd.DataFrame(rows)


def load(conn, frame: pd.DataFrame, window: tuple[D, D]) -> None:
    storage.replace_source_window(conn, "file", "ads", storage.to_long(frame, "ads", ["impressions"]), window)


def test_freshness_counts_days_behind_as_of(tmp_path: Path) -> None:
    with db.connect(tmp_path / "w.duckdb") as conn:
        storage.ensure_schema(conn)
        assert quality.freshness(conn, "file", "ads", D(2026, 2, 22), 2).passed is False  # nothing stored yet
        load(conn, grain_frame([D(2026, 2, 19)], ["a"]), (D(2026, 2, 19), D(2026, 2, 19)))
        late = quality.freshness(conn, "file", "ads", D(2026, 2, 22), 2)
        assert (late.data_through, late.lag_days, late.passed) == (D(2026, 2, 19), 3, False)
        assert quality.freshness(conn, "file", "ads", D(2026, 2, 21), 2).passed


def test_row_count_anomaly_flags_a_day_that_came_back_nearly_empty(tmp_path: Path) -> None:
    trailing = [D(2026, 1, 1) + dt.timedelta(days=i) for i in range(28)]
    with db.connect(tmp_path / "w.duckdb") as conn:
        storage.ensure_schema(conn)
        load(conn, grain_frame(trailing, ["a", "b", "c", "d"]), (trailing[0], trailing[-1]))
        window = (D(2026, 1, 29), D(2026, 1, 31))
        # 29th: all four campaigns; 30th: one of four (under half the median of 4); 31st: nothing at all.
        frame = pd.concat([grain_frame([D(2026, 1, 29)], ["a", "b", "c", "d"]), grain_frame([D(2026, 1, 30)], ["a"])])
        load(conn, frame, window)
        found = quality.row_count_anomaly(conn, "file", "ads", window)
        assert (found.trailing_median, found.low_days, found.passed) == (
            4.0,
            {"2026-01-30": 1, "2026-01-31": 0},
            False,
        )
        # Without history there is nothing to compare: a first load passes.
        assert quality.row_count_anomaly(conn, "file", "ads", (D(2025, 6, 1), D(2025, 6, 3))).passed


def test_grain_schema_rejects_duplicates_negative_counts_and_days_outside_the_window() -> None:
    window = (D(2026, 2, 1), D(2026, 2, 2))
    schema = quality.grain_schema(["impressions"], {"impressions"}, window)
    good = grain_frame([D(2026, 2, 1), D(2026, 2, 2)], ["a", "b"])
    assert quality.schema_failures(good, schema) is None
    bad = pd.concat(
        [
            good,
            grain_frame([D(2026, 2, 1)], ["a"]),  # the same grain twice
            grain_frame([D(2026, 2, 2)], ["z"], impressions=-5.0),
            grain_frame([D(2026, 2, 3)], ["y"]),  # outside the run's window
        ],
        ignore_index=True,
    )
    failures = quality.schema_failures(bad, schema)
    checks = set(zip(failures["column"], failures["check"], strict=True))
    assert ("impressions", "must not be negative") in checks
    assert ("report_date", "outside 2026-02-01..2026-02-02") in checks
    assert any(check.startswith("multiple_fields_uniqueness") or "unique" in check for _, check in checks)
