"""kr_grouped.sql's matching: series found by hash, months in the join key, campaigns rolled up from series."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.lib import db
from pipelines.lib.scoring import engine
from tests.pipelines.lib.scoring.test_engine import score, warehouse  # noqa: F401 (fixture)

OBJECTIVES = """
objectives:
  - id: o
    title: O
    period: {start: 2026-01-20, end: 2026-03-10}
    key_results:
      - {id: clicks, metric: clicks, baseline: 0, target: 10000}
      - {id: ctr-c1, metric: ctr, filters: {campaign_id: [c1]}, baseline: 0, target: 0.1}
      - {id: spend, metric: spend, baseline: 0, target: 1000}
      - {id: spend-eur, metric: spend, filters: {channel: search}, baseline: 0, target: 1000}
"""


def _rows() -> list[tuple]:
    """25 Jan - 14 Feb (a window across a month end): c1 renamed on 1 Feb, c2 steady, one EUR campaign."""
    rows = []
    for day in range(25, 46):
        date = f"2026-01-{day:02d}" if day <= 31 else f"2026-02-{day - 31:02d}"
        name = "Spring" if day <= 31 else "Spring - renamed"
        rows.append((date, "meta_ads", name, "social", "USD", "clicks", 10))
        rows.append((date, "meta_ads", name, "social", "USD", "impressions", 100))
        rows.append((date, "meta_ads", "Summer", "social", "USD", "clicks", day))
        rows.append((date, "meta_ads", "Summer", "social", "USD", "spend", 2))
        rows.append((date, "google_ads", "Brand", "search", "EUR", "spend", 3))
    return rows


def _warehouse_with_ids(warehouse, rows: list[tuple]) -> Path:  # noqa: F811
    """The fixture names campaign ids after campaigns; give the renamed campaign one id (c1)."""
    path = warehouse(rows)
    with db.connect(path) as conn:
        conn.execute(
            "UPDATE marts.campaign_daily_metrics SET campaign_id = CASE campaign_name "
            "WHEN 'Summer' THEN 'c2' WHEN 'Brand' THEN 'c3' ELSE 'c1' END"
        )
    return path


def _outputs(path: Path) -> tuple[list, list]:
    with db.connect(path, read_only=True) as conn:
        daily = conn.execute(
            "SELECT kr_key, report_date, numerator, numerator_rows, denominator, value, rows FROM okr.kr_daily "
            "ORDER BY ALL"
        ).fetchall()
        contributions = conn.execute(
            "SELECT kr_key, platform, channel, campaign_id, numerator, denominator, numerator_last7, "
            "numerator_prev7 FROM okr.kr_contributions ORDER BY ALL"
        ).fetchall()
    return daily, contributions


def test_windows_across_months_renamed_campaigns_and_currencies(tmp_path: Path, warehouse) -> None:  # noqa: F811
    path = _warehouse_with_ids(warehouse, _rows())
    _, krs, _ = score(tmp_path, path, OBJECTIVES, "2026-02-14")
    summer = sum(range(25, 46))  # 735
    assert krs.at["clicks", "actual"] == 21 * 10 + summer
    assert krs.at["ctr-c1", "actual"] == pytest.approx(0.1)  # one campaign id under two names
    assert krs.at["spend", "status"] == "invalid" and "EUR, USD" in krs.at["spend", "note"]
    assert krs.at["spend-eur", "actual"] == 63 and krs.at["spend-eur", "currency_code"] == "EUR"
    _, contributions = _outputs(path)
    clicks = [c for c in contributions if c[0] == "o/clicks"]
    # one row per campaign id, however many names; last 7 days 8-14 Feb, the 7 before 1-7 Feb
    assert clicks == [
        ("o/clicks", "meta_ads", "social", "c1", 210.0, None, 70.0, 70.0),
        (
            "o/clicks",
            "meta_ads",
            "social",
            "c2",
            float(summer),
            None,
            float(sum(range(39, 46))),
            float(sum(range(32, 39))),
        ),
    ]


def test_series_that_share_a_hash_are_told_apart(tmp_path: Path, warehouse, monkeypatch) -> None:  # noqa: F811
    """Every series gets the same hash: the columns decide, and every output stays the same."""
    path = _warehouse_with_ids(warehouse, _rows())
    _, krs, _ = score(tmp_path, path, OBJECTIVES, "2026-02-14")
    expected = _outputs(path)

    real_sql = engine._sql

    def one_hash_for_all(name: str) -> str:
        text = real_sql(name)
        return text.replace("hash(", "0 * hash(") if name in {"kr_series.sql", "kr_grouped.sql"} else text

    monkeypatch.setattr(engine, "_sql", one_hash_for_all)
    _, collided, _ = score(tmp_path, path, OBJECTIVES, "2026-02-14")
    with db.connect(path, read_only=True) as conn:
        conn.execute(one_hash_for_all("kr_series.sql"))
        shared = "SELECT count(*), count(DISTINCT series_hash), bool_and(shares_hash) FROM kr_series"
        assert conn.execute(shared).fetchone() == (7, 1, True)  # 4 entities (c1 twice), 7 series, one hash
    assert _outputs(path) == expected
    assert collided["actual"].to_dict() == pytest.approx(krs["actual"].to_dict(), nan_ok=True)
    assert collided.at["clicks", "actual"] == 945
