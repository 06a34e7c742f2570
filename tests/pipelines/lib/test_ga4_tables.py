"""raw.ga4_day_quality stands or falls with the raw rows it describes: one transaction, window by window."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from connectors.ga4 import RangeFacts
from pipelines.lib import db, storage
from pipelines.lib.ga4_tables import day_quality_frame, replace_day_quality

D = dt.date
NOW = dt.datetime(2026, 1, 11, 6, 0)


def raw_rows(days: list[dt.date], sessions: float) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "platform": "ga4",
            "account_id": "123",
            "campaign_id": "111",
            "campaign_name": "spring",
            "channel": "Paid Search",
            "source_medium": "google / cpc",
            "report_date": days,
            "currency_code": "USD",
            "account_timezone": "UTC",
            "source_rows": 1,
            "sessions": sessions,
        }
    )
    return storage.to_long(frame, "web", ["sessions"])


def flags(conn) -> list[tuple]:
    return conn.execute(
        "SELECT report_date, thresholded, sampled, sampling_ratio FROM raw.ga4_day_quality ORDER BY report_date"
    ).fetchall()


def test_flags_are_replaced_with_the_days_they_describe(tmp_path: Path) -> None:
    january = [D(2026, 1, d) for d in range(1, 5)]
    flagged = day_quality_frame("web", "123", [RangeFacts(D(2026, 1, 1), D(2026, 1, 4), True, 0.25, True, False)], NOW)
    clean = day_quality_frame("web", "123", [RangeFacts(D(2026, 1, 3), D(2026, 1, 4), False, None, False, False)], NOW)
    with db.connect(tmp_path / "w.duckdb") as conn:
        storage.ensure_schema(conn)
        window = (january[0], january[-1])
        storage.replace_source_window(
            conn,
            "ga4",
            "web",
            raw_rows(january, 10),
            window,
            also=lambda c: replace_day_quality(c, "web", flagged, window),
        )
        restated = (january[2], january[3])
        storage.replace_source_window(
            conn,
            "ga4",
            "web",
            raw_rows(january[2:], 12),
            restated,
            also=lambda c: replace_day_quality(c, "web", clean, restated),
        )
        assert flags(conn) == [
            (D(2026, 1, 1), True, True, 0.25),
            (D(2026, 1, 2), True, True, 0.25),
            (D(2026, 1, 3), False, False, None),
            (D(2026, 1, 4), False, False, None),
        ]

        def fail(c) -> None:
            replace_day_quality(c, "web", flagged, window)
            raise RuntimeError("disk full")

        with pytest.raises(RuntimeError, match="disk full"):
            storage.replace_source_window(conn, "ga4", "web", raw_rows(january, 99), window, also=fail)
        assert [r[1] for r in flags(conn)] == [True, True, False, False]  # rolled back with the raw rows
        stored = conn.execute("SELECT sum(value) FROM raw.ga4_reports").fetchone()[0]
        assert float(stored) == 10 + 10 + 12 + 12
