"""prefix_sums.py against the plain SQL sums it replaces, on a real DuckDB file.

The oracle is DuckDB's own DECIMAL sum over the mart rows each KR's filters and window select, one query per
KR (fine in a test, not in the engine). The mart has what the running totals must get right: days without a
row inside a series (gaps), NULL values, windows that start before a series' first row or end after its last,
negative values, values on both sides of 10^9 units (DOUBLE or HUGEINT), totals past 2**62 micros (two
32-bit halves), and KRs read through coarse series (platform or channel filters) next to KRs read campaign
by campaign.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pytest

from pipelines.lib import db
from pipelines.lib.scoring import prefix_sums
from tests.pipelines.lib.scoring.test_engine import score, warehouse  # noqa: F401 (fixture)

START = dt.date(2026, 1, 1)
KRS = {
    # kr_id: (metric, (mart column, values) the oracle filters on, the filter in okr_defs YAML, window)
    "all-conversions": ("conversions", (None, []), "", ("2025-12-20", "2026-02-10")),
    "meta-spend": (
        "spend",
        ("platform", ["meta_ads"]),
        "filters: {platform: [meta_ads]}",
        ("2026-01-03", "2026-01-25"),
    ),
    "social-cpa": ("cpa", ("channel", ["social"]), "filters: {channel: [social]}", ("2026-01-01", "2026-01-31")),
    "c2-c3-spend": (
        "spend",
        ("campaign_id", ["c2", "c3"]),
        "filters: {campaign_id: [c2, c3]}",
        ("2026-01-05", "2026-01-20"),
    ),
    "c4-spend": ("spend", ("campaign_id", ["c4"]), "filters: {campaign_id: [c4]}", ("2026-01-01", "2026-01-31")),
    "c1-cpa": ("cpa", ("campaign_id", ["c1"]), "filters: {campaign_id: [c1]}", ("2026-01-10", "2026-02-28")),
}
RATIOS = {"cpa": ("spend", "conversions")}  # as test_engine's metrics.yaml


def _rows(big: Decimal) -> list[tuple]:
    """Four campaigns over 31 days: c1 every day, c2 every third day (gaps), c3 from day 10 with NULL
    conversions on day 12 and a refund (negative spend) on day 15, c4 (search, USD) with `big` spend."""
    rows = []
    for n in range(31):
        day = (START + dt.timedelta(days=n)).isoformat()
        rows.append((day, "meta_ads", "c1", "social", "VND", "conversions", 7 + n % 5))
        rows.append((day, "meta_ads", "c1", "social", "VND", "spend", Decimal("1234.567891") * (n + 1)))
        if n % 3 == 0:
            rows.append((day, "meta_ads", "c2", "social", "VND", "conversions", 3))
            rows.append((day, "meta_ads", "c2", "social", "VND", "spend", Decimal("0.000001") * (n + 1)))
        if n >= 9:
            rows.append((day, "google_ads", "c3", "social", "VND", "conversions", None if n == 11 else n))
            rows.append((day, "google_ads", "c3", "social", "VND", "spend", Decimal(-500) if n == 14 else n * 1000))
        rows.append((day, "google_ads", "c4", "search", "USD", "spend", big + n))
        rows.append((day, "google_ads", "c4", "search", "USD", "conversions", 1))
    # as text: DuckDB casts it to the mart's DECIMAL(38, 6) exactly (a float would round the last micros)
    return [(*row[:-1], None if row[-1] is None else str(row[-1])) for row in rows]


def _objectives() -> str:
    krs = []
    for kr_id, (metric, _, yaml_filter, (start, end)) in KRS.items():
        extra = f", {yaml_filter}" if yaml_filter else ""
        krs.append(
            f"      - {{id: {kr_id}, metric: {metric}{extra}, window: {{start: {start}, end: {end}}}, "
            "baseline: 0, target: 1000000}"
        )
    return (
        "objectives:\n  - id: o\n    title: O\n    period: {start: 2025-12-01, end: 2026-03-31}\n"
        "    key_results:\n" + "\n".join(krs) + "\n"
    )


def _oracle_daily(conn, kr_id: str, as_of: dt.date) -> list[tuple]:
    """(day, numerator, numerator values, denominator, rows) straight from the mart, summed in DECIMAL;
    the filter: the KR's column among its values (no column: every row)."""
    metric, (column, values), _, (start, end) = KRS[kr_id]
    num, den = RATIOS.get(metric, (metric, None))
    through = min(dt.date.fromisoformat(end), as_of)
    sql = (
        "SELECT report_date, CAST(sum(value) FILTER (WHERE metric = $num) AS DOUBLE), "
        "count(value) FILTER (WHERE metric = $num), CAST(sum(value) FILTER (WHERE metric = $den) AS DOUBLE), "
        "count(*) FROM marts.campaign_daily_metrics "
        "WHERE ($column IS NULL OR list_contains($values, CASE $column WHEN 'platform' THEN platform "
        "WHEN 'channel' THEN channel WHEN 'campaign_id' THEN campaign_id END)) "
        "AND metric IN ($num, $den) AND report_date BETWEEN $start AND $through "
        "GROUP BY report_date ORDER BY report_date"
    )
    params = {"num": num, "den": den or num, "start": dt.date.fromisoformat(start), "through": through}
    rows = conn.execute(sql, params | {"column": column, "values": values}).fetchall()
    return [(d, n, c, dn if den else None, r) for d, n, c, dn, r in rows]


def _oracle_campaigns(conn, kr_id: str, as_of: dt.date) -> list[tuple]:
    """(campaign, numerator over the window, over its last 7 days, over the 7 before) from the mart."""
    metric, (column, values), _, (start, end) = KRS[kr_id]
    num = RATIOS.get(metric, (metric, None))[0]
    through = min(dt.date.fromisoformat(end), as_of)
    sql = (
        "SELECT campaign_id, CAST(sum(value) AS DOUBLE), "
        "CAST(sum(value) FILTER (WHERE report_date > CAST($through AS DATE) - 7) AS DOUBLE), "
        "CAST(sum(value) FILTER (WHERE report_date BETWEEN CAST($through AS DATE) - 13 "
        "AND CAST($through AS DATE) - 7) AS DOUBLE) FROM marts.campaign_daily_metrics "
        "WHERE ($column IS NULL OR list_contains($values, CASE $column WHEN 'platform' THEN platform "
        "WHEN 'channel' THEN channel WHEN 'campaign_id' THEN campaign_id END)) "
        "AND metric = $num AND report_date BETWEEN $start AND $through "
        "GROUP BY campaign_id ORDER BY campaign_id"
    )
    params = {"num": num, "start": dt.date.fromisoformat(start), "through": through}
    return conn.execute(sql, params | {"column": column, "values": values}).fetchall()


@pytest.mark.parametrize(
    "big",
    [Decimal("2500.75"), Decimal("999999985.123456"), Decimal("27803103760.915274"), Decimal("3000000000000.000001")],
    # 10^9 units: below, values come as micros through DOUBLE; above, through HUGEINT in two 32-bit halves
    # 27803103760.915274: past 2**53 micros, where a DOUBLE of the micros divided by 10^6 misses the last bit
    ids=["small values", "values across 10^9 units", "past 2**53 micros", "values and totals past 2**62 micros"],
)
@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_daily_and_campaign_sums_equal_decimal_sums(
    tmp_path: Path,
    warehouse,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    big: Decimal,
    layout: str,
) -> None:
    if layout == "sparse":  # only days with rows are cells, found by binary search (large, gappy marts)
        monkeypatch.setattr(prefix_sums, "DENSE_CELLS_PER_ROW", 0)
        monkeypatch.setattr(prefix_sums, "DENSE_SLACK_CELLS", 0)
    path = warehouse(_rows(big))
    as_of = dt.date(2026, 1, 28)
    score(tmp_path, path, _objectives(), as_of.isoformat())
    with db.connect(path, read_only=True) as conn:
        for kr_id in KRS:
            got = conn.execute(
                "SELECT report_date, numerator, numerator_rows, denominator, rows FROM okr.kr_daily "
                "WHERE kr_key = ? ORDER BY report_date",
                [f"o/{kr_id}"],
            ).fetchall()
            assert got == _oracle_daily(conn, kr_id, as_of), kr_id
            campaigns = conn.execute(
                "SELECT campaign_id, numerator, numerator_last7, numerator_prev7 FROM okr.kr_contributions "
                "WHERE kr_key = ? ORDER BY campaign_id",
                [f"o/{kr_id}"],
            ).fetchall()
            assert campaigns == _oracle_campaigns(conn, kr_id, as_of), kr_id


def test_the_fixture_reaches_every_path(tmp_path: Path, warehouse) -> None:  # noqa: F811
    """The mart of the test above has what it claims: NULLs, a refund, gaps, windows past both ends."""
    path = warehouse(_rows(Decimal("3000000000000.000001")))
    with db.connect(path, read_only=True) as conn:
        facts = conn.execute(
            "SELECT count(*) FILTER (WHERE value IS NULL), count(*) FILTER (WHERE value < 0), "
            "count(*) FILTER (WHERE campaign_id = 'c2' AND metric = 'spend'), min(report_date), max(report_date), "
            "max(value), sum(value) * 1000000 > CAST(2 AS HUGEINT) ** 62 FROM marts.campaign_daily_metrics"
        ).fetchone()
    nulls, refunds, c2_days, first, last, largest, past_2_62 = facts
    assert (nulls, refunds, c2_days) == (1, 1, 11)  # c2: a row every third day of 31
    assert KRS["all-conversions"][3][0] < first.isoformat() and KRS["c1-cpa"][3][1] > last.isoformat()
    assert largest == Decimal("3000000000030.000001") and past_2_62


@pytest.mark.parametrize(
    ("values", "per_bucket"),
    [
        ([3, -5, 7], 2),  # one float64 bincount
        ([(1 << 40) + 3, (1 << 40) - 1, -(1 << 45)], 2),  # past 2**53 a bucket: added in 32-bit halves
        ([(1 << 62) - 1, 1 - (1 << 62), 5], 1 << 21),  # too many a bucket for float64: np.add.at
    ],
    ids=["float", "halves", "add.at"],
)
def test_bucket_sums_are_exact_integers(values: list[int], per_bucket: int) -> None:
    keys = np.array([0, 0, 1])
    sums = prefix_sums._bucket_sums(keys, np.array(values, np.int64), 3, per_bucket)
    assert sums.tolist() == [values[0] + values[1], values[2], 0]


@pytest.mark.parametrize(
    ("values", "parts", "extra_rows"),
    [
        (["5", "-7.000001", None], ["m", "nr"], 0),
        (["999999999.999999"] * 5000, ["hi", "lo", "nr"], 0),  # 5 * 10^12 units: past 2**62 micros
        (["2000000000000.5", "-3", None], ["hi", "lo", "nr"], 1),  # 10^9 units or more: through HUGEINT
    ],
    ids=["one int64", "sum past 2**62 micros", "a value past 10^9 units"],
)
def test_rows_give_exact_micros_and_counts(values: list[str | None], parts: list[str], extra_rows: int) -> None:
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA marts")
    conn.execute("CREATE TABLE marts.campaign_daily_metrics (report_date DATE, value DECIMAL(38, 6))")
    conn.executemany(
        "INSERT INTO marts.campaign_daily_metrics VALUES (DATE '2026-01-01' + CAST(? AS INTEGER), ?)",
        list(enumerate(values)),
    )
    conn.execute("CREATE TEMP VIEW kr_series_rows AS SELECT 1 AS series_id, * FROM marts.campaign_daily_metrics")
    params = {"first": dt.date(2026, 1, 1), "as_of": dt.date(2040, 1, 1)}
    unit, day, got = prefix_sums._rows(conn, params)
    assert sorted(got) == parts
    assert len(unit) == len(day) == len(values) + extra_rows
    micros = got["m"] if "m" in got else got["hi"] * (1 << 32) + got["lo"]
    expected = sum(int(Decimal(v) * 1_000_000) for v in values if v is not None)
    assert sum(int(x) for x in micros) == expected
    assert int((got["nr"] >> 32).sum()) == sum(v is not None for v in values)  # values
    assert int((got["nr"] & prefix_sums.LOW32).sum()) == len(values)  # rows, the extra ones not counted
