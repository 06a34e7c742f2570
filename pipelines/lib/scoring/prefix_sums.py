"""Daily and per-series sums of every KR that is not an expression, from running totals over the mart's series.

Why not one SQL aggregation: a KR's daily series and its per-campaign sums over its window are sums over
(KR, mart row) pairs, about 124 million of them for 1,000 KRs on 10M rows, and grouping those pairs was
nearly the whole cost of scoring (docs/performance.md). Here the mart is read once and:

- every series becomes a run of day cells from its first to its last row, with running totals, so the sum
  of any series over any range of days is two lookups: the per-series sums over the window, its last 7
  days and the 7 before (okr.kr_contributions) cost a few lookups per (KR, series), whatever the window;
- a KR's days are the sum of its series' day cells over its window, and a KR that filters only on source,
  platform, account, channel or source/medium (`coarse` in kr_numbered) reads the few coarse series
  instead (kr_series.coarse_no), summed from the same rows.

Every sum is exact. DuckDB hands each value over as micros (value x 10^6; the mart holds DECIMAL(38, 6)),
numpy adds integers only (_rows, _bucket_sums), and DuckDB turns the sums back through DECIMAL(38, 6) into
DOUBLE (MICROS): CAST(sum(value) AS DOUBLE) of the exact sum, as a SQL sum gives. The results are two temp
tables that kr_grouped.sql reads: kr_daily_sums (kr_no, report_date, num_sum, num_count, den_sum, rows) and
kr_campaign_sums (kr_no, campaign_no, any_series, num_sum, num_count, den_sum, rows, currency_min/max, and
the sums over the last 7 days and the 7 before), shaped as kr_grouped.sql's by_campaign.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

# Micros of a value: below 10^9 units through DOUBLE (cheap): the cast and the product are within 3 * 2**-53
# of the micros, under 0.5 below 1.5 * 10^15 micros, so rounding gives them back exactly. Larger values (rare)
# come in a second query (BIG_ROWS) through HUGEINT as a high and a low 32-bit part, exact while the
# absolute values of the measured rows add up to less than 2**94 micros (about 2 * 10^22 units; _rows checks).
_SMALL = "abs(value) < 1000000000"
_BIG = "CAST(value * 1000000 AS HUGEINT)"
LOW32 = (1 << 32) - 1


def _day(column: str) -> str:
    """A date as its day number (days since 1970-01-01), the day numpy counts in."""
    return f"CAST({column} - DATE '1970-01-01' AS INTEGER)"


DAY = _day("report_date")
MEASURED = "WHERE report_date BETWEEN CAST($first AS DATE) AND CAST($as_of AS DATE)"
# The rows of the measured days (kr_series_rows: the hash join of kr_series.sql); any order
SERIES_ROWS = f"""
SELECT series_id AS unit, {DAY} AS day,
       coalesce(CASE WHEN {_SMALL} THEN CAST(round(CAST(value AS DOUBLE) * 1000000) AS BIGINT) END, 0) AS m,
       value IS NOT NULL AS n
FROM kr_series_rows
{MEASURED}
"""  # noqa: S608 (fixed text)
BIG_VALUES = f"SELECT count(*) FROM marts.campaign_daily_metrics {MEASURED} AND NOT {_SMALL}"  # noqa: S608 (fixed)
BIG_ROWS = f"""
SELECT series_id AS unit, {DAY} AS day, CAST({_BIG} >> 32 AS BIGINT) AS hi, CAST({_BIG} & {LOW32} AS BIGINT) AS lo
FROM kr_series_rows
{MEASURED} AND NOT {_SMALL}
"""  # noqa: S608 (fixed text)
SPANS = f"""
SELECT {{unit}} AS unit,
       {_day("min(greatest(first_date, CAST($first AS DATE)))")} AS first_day,
       {_day("max(least(last_date, CAST($as_of AS DATE)))")} AS last_day
FROM kr_series
GROUP BY ALL
"""  # noqa: S608 (fixed text)
# Every (KR, series, role) of a KR that is not an expression, with the KR's days
WINDOW = f"{_day('s.window_start')} AS start_day, {_day('s.through')} AS through_day"
SERIES_PAIRS = f"""
SELECT m.kr_no, m.series_id AS unit, m.role = 'den' AS is_den, {WINDOW}
FROM kr_members AS m
JOIN kr_numbered AS s ON s.kr_no = m.kr_no
WHERE s.expr_id IS NULL
"""  # noqa: S608 (fixed text)
# For the daily sums a coarse KR reads each of its coarse series once instead of every campaign's series
DAILY_PAIRS = f"""
SELECT DISTINCT m.kr_no, CASE WHEN s.coarse THEN x.coarse_no ELSE m.series_id END AS unit, s.coarse,
       m.role = 'den' AS is_den, {WINDOW}
FROM kr_members AS m
JOIN kr_numbered AS s ON s.kr_no = m.kr_no
JOIN kr_series AS x ON x.series_id = m.series_id
WHERE s.expr_id IS NULL
"""  # noqa: S608 (fixed text)
# sum() of no values is NULL; `<<` would refuse a negative HUGEINT
# DECIMAL, then DOUBLE: one rounding, as CAST(sum(value) AS DOUBLE) of a DECIMAL sum (dividing a DOUBLE of
# the micros by 10^6 would round twice and differ in the last bit past 2**53 micros)
MICROS = (
    "CASE WHEN {p}_n > 0 THEN CAST(CAST(CAST({p}_hi AS HUGEINT) * 4294967296 + {p}_lo AS DECIMAL(38, 0)) "
    "* CAST(0.000001 AS DECIMAL(7, 6)) AS DOUBLE) END"
)
DAILY_SUMS = f"""
SELECT kr_no, report_date, {MICROS.format(p="num")} AS num_sum, num_n AS num_count,
       {MICROS.format(p="den")} AS den_sum, rows
FROM incoming_sums
"""  # noqa: S608 (fixed text)
# Currencies travel as numbers in the order of their codes (min/max of the numbers is min/max of the codes)
CURRENCY_NUMBERS = """
CREATE OR REPLACE TEMP TABLE kr_currencies AS
SELECT currency_code, CAST(row_number() OVER (ORDER BY currency_code) AS INTEGER) AS currency_no
FROM (SELECT DISTINCT currency_code FROM kr_series WHERE currency_code IS NOT NULL)
"""
SERIES_CAMPAIGNS = """
SELECT x.series_id, x.campaign_no, x.coarse_no, coalesce(c.currency_no, 0) AS currency_no  -- 0: no currency
FROM kr_series AS x
LEFT JOIN kr_currencies AS c USING (currency_code)
"""
CAMPAIGN_SUMS = f"""
SELECT s.kr_no, s.campaign_no, s.any_series,
       {MICROS.format(p="num_w")} AS num_sum, CASE WHEN s.num_w_r > 0 THEN s.num_w_n END AS num_count,
       {MICROS.format(p="den_w")} AS den_sum,
       s.num_w_r + s.den_w_r AS rows, lo.currency_code AS currency_min, hi.currency_code AS currency_max,
       {MICROS.format(p="num_l")} AS num_last7, {MICROS.format(p="den_l")} AS den_last7,
       {MICROS.format(p="num_p")} AS num_prev7, {MICROS.format(p="den_p")} AS den_prev7
FROM incoming_sums AS s
LEFT JOIN kr_currencies AS lo ON lo.currency_no = s.currency_min
LEFT JOIN kr_currencies AS hi ON hi.currency_no = s.currency_max
"""  # noqa: S608 (fixed text)


def _arrow(conn: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> pa.Table:
    return conn.sql(sql, params=params).to_arrow_table()


def _column(table: pa.Table, name: str, dtype: type | None = np.int64) -> np.ndarray:
    """A column as numpy, as `dtype` (None: as DuckDB typed it, without a copy)."""
    values = table.column(name).to_numpy(zero_copy_only=False)
    return values if dtype is None else values.astype(dtype, copy=False)


def _bucket_sums(keys: np.ndarray, values: np.ndarray, size: int, per_bucket: int) -> np.ndarray:
    """Exact int64 sums per key (np.bincount adds in float64, exact below 2**53: values are added in 32-bit
    halves when they could reach it; np.add.at, 10x slower, only past 2**21 values a bucket)."""
    if not len(values):
        return np.zeros(size, np.int64)
    if per_bucket >= 1 << 21:
        out = np.zeros(size, np.int64)
        np.add.at(out, keys, values)
        return out
    if float(np.abs(values).max()) * per_bucket < 2.0**53:
        return np.bincount(keys, weights=values, minlength=size).astype(np.int64)
    high = np.bincount(keys, weights=values >> 32, minlength=size).astype(np.int64)
    return (high << 32) + np.bincount(keys, weights=values & LOW32, minlength=size).astype(np.int64)


def _rows(conn: duckdb.DuckDBPyConnection, params: dict) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The measured rows as (series, day, parts): what the cells add up, the micros and the non-NULL and
    row counts packed into one int64 ("nr": n << 32 | 1).

    One int64 of micros ("m") holds every sum when all |micros| add up below 2**62. Otherwise, or when a
    value reaches 10^9 units, the micros are added as a high ("hi") and a low ("lo") 32-bit part; such a
    value comes as an extra row of its series and day that adds its micros and no row count."""
    rows = _arrow(conn, SERIES_ROWS, params)
    unit, day, m = (_column(rows, name, None) for name in ("unit", "day", "m"))
    nr = (_column(rows, "n", np.int64) << 32) + 1
    del rows
    big = _arrow(conn, BIG_ROWS, params) if conn.execute(BIG_VALUES, params).fetchall()[0][0] else None
    if big is None and float(np.abs(m).sum(dtype=np.float64)) < 2.0**62:
        return unit, day, {"m": m, "nr": nr}
    hi, lo = m >> 32, m & LOW32
    if big is not None:
        big_hi = _column(big, "hi")
        if float(np.abs(hi).sum(dtype=np.float64)) + float(np.abs(big_hi).sum(dtype=np.float64)) >= 2.0**62:
            raise ValueError("the mart's values add up past 2 * 10^22 units: too large to add up exactly")
        unit, day = (
            np.concatenate([mine, _column(big, name, mine.dtype)]) for mine, name in ((unit, "unit"), (day, "day"))
        )
        hi, lo = np.concatenate([hi, big_hi]), np.concatenate([lo, _column(big, "lo")])
        nr = np.concatenate([nr, np.zeros(big.num_rows, np.int64)])
    return unit, day, {"hi": hi, "lo": lo, "nr": nr}


def _as_columns(prefix: str, sums: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Summed parts as the columns MICROS reads: {prefix}_hi, _lo (micros), _n (non-NULL values), _r (rows)."""
    hi, lo = (sums["m"] >> 32, sums["m"] & LOW32) if "m" in sums else (sums["hi"], sums["lo"])
    nr = sums["nr"]
    return {f"{prefix}_hi": hi, f"{prefix}_lo": lo, f"{prefix}_n": nr >> 32, f"{prefix}_r": nr & LOW32}


# A unit's days become one cell each from its first to its last row when that costs at most this many cells
# per row overall (series that run most days: direct arithmetic, no search); else only days with rows are
# cells, found by binary search, so that sparse series (a row now and then over a year) cost their rows only.
DENSE_CELLS_PER_ROW = 2.0
DENSE_SLACK_CELLS = 100_000  # a small mart is laid out densely whatever its shape


@dataclass(frozen=True)
class Cells:
    """Each unit's days in order, laid end to end: `raw` per cell and `totals` running with a leading 0, so
    that cells [i, j) sum to totals[j] - totals[i]. Dense: a cell for every day from the unit's first to its
    last measured day (a day without a row is an empty cell). Sparse: a cell for every day with rows only,
    with `keys` (unit << 32 | day - day0, sorted) to find them."""

    first: np.ndarray  # per unit number: its first day (days since 1970-01-01)
    last: np.ndarray  # its last day; last < first: no cells
    base: np.ndarray  # its first cell
    raw: dict[str, np.ndarray]  # per cell: the parts of its rows (_rows) summed
    totals: dict[str, np.ndarray]
    day0: int = 0  # sparse: the day keys count from
    keys: np.ndarray | None = None  # sparse only
    day: np.ndarray | None = None  # sparse only: each cell's day

    @classmethod
    def build(cls, spans: pa.Table, unit: np.ndarray, day: np.ndarray, parts: dict[str, np.ndarray]) -> Cells:
        """Cells of the units in `spans` (SPANS) from rows (unit, day, parts of _rows) inside them; the rows of
        one unit and day are added up (a coarse series' day is the sum of its series' days)."""
        numbers = _column(spans, "unit")
        units = int(numbers.max()) + 1 if len(numbers) else 1
        first = np.zeros(units, np.int64)
        last = np.full(units, -1, np.int64)
        first[numbers] = _column(spans, "first_day")
        last[numbers] = _column(spans, "last_day")
        span = np.maximum(last - first + 1, 0)
        size = int(span.sum())
        if size > DENSE_CELLS_PER_ROW * len(unit) + DENSE_SLACK_CELLS:
            return cls._sparse(first, last, unit, day, parts)
        base = np.zeros(units, np.int64)
        np.cumsum(span[:-1], out=base[1:])
        cell = base[unit] + day - first[unit]
        raw = _place(cell, parts, size)
        return cls(first, last, base, raw, _running(raw))

    @classmethod
    def _sparse(
        cls, first: np.ndarray, last: np.ndarray, unit: np.ndarray, day: np.ndarray, parts: dict[str, np.ndarray]
    ) -> Cells:
        day0 = int(day.min()) if len(day) else 0
        keys, cell = np.unique((unit.astype(np.int64) << 32) | (day - day0), return_inverse=True)
        raw = _place(cell, parts, len(keys))
        base = np.searchsorted(keys >> 32, np.arange(len(first)))
        return cls(first, last, base, raw, _running(raw), day0, keys, (keys & LOW32) + day0)

    def bounds(self, unit: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cell range [i, j) of each unit's days start..end (inclusive), clipped to its cells; empty: i == j."""
        first = self.first[unit]
        lo_day = np.maximum(start, first)
        hi_day = np.minimum(end, self.last[unit])
        empty = hi_day < lo_day
        if self.keys is not None:
            head = unit.astype(np.int64) << 32
            i = np.searchsorted(self.keys, head | np.maximum(lo_day - self.day0, 0), "left")
            j = np.searchsorted(self.keys, head | np.maximum(hi_day - self.day0, 0), "right")
            return np.where(empty, 0, i), np.where(empty, 0, np.maximum(i, j))
        base = self.base[unit]
        i = np.where(empty, 0, base + lo_day - first)
        j = np.where(empty, 0, base + hi_day - first + 1)
        return i, j

    def sums(self, i: np.ndarray, j: np.ndarray) -> dict[str, np.ndarray]:
        """The parts summed over cells [i, j)."""
        return {part: running[j] - running[i] for part, running in self.totals.items()}


def _place(cell: np.ndarray, parts: dict[str, np.ndarray], size: int) -> dict[str, np.ndarray]:
    """Each part's values added up per cell: placed when no two rows share a cell (a series' days: the
    mart's primary key), else summed exactly."""
    per_cell = int(np.bincount(cell).max()) if len(cell) else 0
    raw = {}
    for part, values in parts.items():
        if per_cell > 1:
            raw[part] = _bucket_sums(cell, values, size, per_cell)
        else:
            raw[part] = np.zeros(size, np.int64)
            raw[part][cell] = values
    return raw


def _running(raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    totals = {}
    for part, values in raw.items():
        running = np.zeros(len(values) + 1, np.int64)
        np.cumsum(values, out=running[1:])
        totals[part] = running
    return totals


def campaign_sums(pairs: pa.Table, series: pa.Table, cells: Cells) -> pa.Table:
    """Per (KR, campaign) with rows in the window: the numerator's and denominator's parts over the window
    (num_w_, den_w_), its last 7 days (_l_) and the 7 before (_p_), the currencies of the series behind them
    (as CURRENCY_NUMBERS numbers) and one of those series (for the campaign's name). CAMPAIGN_SUMS reads it.

    Each (KR, series) is a few lookups in the series' running totals; the series of one campaign (renamed,
    several currencies) are then added up exactly (integer sums over groups of a sort)."""
    unit = _column(pairs, "unit")
    start = _column(pairs, "start_day")
    through = _column(pairs, "through_day")
    window = cells.sums(*cells.bounds(unit, start, through))
    keep = (window["nr"] & LOW32) > 0
    unit, start, through = unit[keep], start[keep], through[keep]
    sums = {"w": {part: values[keep] for part, values in window.items()}}
    sums["l"] = cells.sums(*cells.bounds(unit, np.maximum(start, through - 6), through))
    sums["p"] = cells.sums(*cells.bounds(unit, np.maximum(start, through - 13), through - 7))
    campaign_of = np.zeros(len(cells.first), np.int64)
    currency_of = np.zeros(len(cells.first), np.int64)
    numbers = _column(series, "series_id")
    campaign_of[numbers] = _column(series, "campaign_no")
    currency_of[numbers] = _column(series, "currency_no")
    kr_no = _column(pairs, "kr_no")[keep]
    is_den = _column(pairs, "is_den", np.bool_)[keep]
    campaign = campaign_of[unit]
    # one group per (KR, campaign): a stable sort, then sums over runs of equal keys
    key = kr_no * (int(campaign_of.max()) + 1) + campaign
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    currency = currency_of[unit][order]
    columns = {
        "kr_no": kr_no[order][starts].astype(np.int32),
        "campaign_no": campaign[order][starts].astype(np.int32),
        "any_series": unit[order][starts].astype(np.int32),
        "currency_min": np.minimum.reduceat(np.where(currency > 0, currency, np.iinfo(np.int64).max), starts),
        "currency_max": np.maximum.reduceat(currency, starts),
    }
    is_den = is_den[order]
    for window_name, parts in sums.items():
        for role, chosen in (("num", ~is_den), ("den", is_den)):
            added = {
                part: np.add.reduceat(np.where(chosen, values[order], 0), starts) for part, values in parts.items()
            }
            columns |= _as_columns(f"{role}_{window_name}", added)
    return pa.table(columns)


def daily_sums(pairs: pa.Table, fine: Cells, coarse: Cells) -> pa.Table:
    """Per (KR, day with rows): the parts of the numerator (num_) and the denominator (den_), and the rows."""
    kr_no = _column(pairs, "kr_no")
    unit = _column(pairs, "unit")
    is_coarse = _column(pairs, "coarse", np.bool_)
    is_den = _column(pairs, "is_den")
    start = _column(pairs, "start_day")
    through = _column(pairs, "through_day")
    # one slot per (KR, day of its window) at slot_base[kr_no] + day - start; the denominator's `slots` later
    krs = int(kr_no.max()) + 1 if len(kr_no) else 1
    length = np.zeros(krs, np.int64)
    first_day = np.zeros(krs, np.int64)
    length[kr_no] = through - start + 1
    first_day[kr_no] = start
    slot_base = np.zeros(krs, np.int64)
    np.cumsum(length[:-1], out=slot_base[1:])
    slots = int(length.sum())
    totals = {part: np.zeros(2 * slots, np.int64) for part in fine.raw}
    for cells, chosen in ((fine, ~is_coarse), (coarse, is_coarse)):
        i, j = cells.bounds(unit[chosen], start[chosen], through[chosen])
        span = j - i
        kr = kr_no[chosen]
        # a pair's cells are consecutive; its slots are its KR's (and role's) from the cells' days
        before = np.cumsum(span) - span  # cells of the pairs before it
        step = np.arange(int(span.sum()))
        cell = np.repeat(i - before, span) + step
        if cells.day is None:  # dense: a range's cells are consecutive days from its first
            day = np.repeat(np.maximum(start[chosen], cells.first[unit[chosen]]) - before, span) + step
        else:
            day = cells.day[cell]
        key = np.repeat(slot_base[kr] - first_day[kr] + is_den[chosen] * slots, span) + day
        del step, day
        # a slot gets one cell from each pair of its KR and role: at most the pairs of the busiest one
        per_bucket = int(np.bincount(kr * 2 + is_den[chosen]).max()) if len(kr) else 0
        for part, values in cells.raw.items():
            totals[part] += _bucket_sums(key, values[cell], 2 * slots, per_bucket)
    rows = (totals["nr"][:slots] + totals["nr"][slots:]) & LOW32
    slot = np.flatnonzero(rows > 0)
    kr_of_slot = np.repeat(np.arange(krs), length)[slot]
    days = first_day[kr_of_slot] + slot - slot_base[kr_of_slot]
    columns = {"kr_no": kr_of_slot.astype(np.int32), "report_date": pa.array(days.astype("datetime64[D]"))}
    for role, offset in (("num", 0), ("den", slots)):
        columns |= _as_columns(role, {part: values[slot + offset] for part, values in totals.items()})
    columns["rows"] = rows[slot]
    return pa.table(columns)


def create_tables(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> None:
    """kr_daily_sums and kr_campaign_sums for every KR in kr_numbered that is not an expression.

    DuckDB's part (the reads) runs first; the numpy work then runs in two threads, because most of it
    (cumsum, take, sort) lets go of the GIL: the fine and the coarse cells, then the campaign and daily sums."""
    first = conn.execute("SELECT min(window_start) FROM kr_numbered WHERE expr_id IS NULL").fetchall()[0][0]
    params = {"first": first or as_of, "as_of": as_of}
    unit, day, parts = _rows(conn, params)
    spans = {grain: _arrow(conn, SPANS.format(unit=grain), params) for grain in ("series_id", "coarse_no")}
    conn.execute(CURRENCY_NUMBERS)
    series = _arrow(conn, SERIES_CAMPAIGNS)
    series_pairs, daily_pairs = _arrow(conn, SERIES_PAIRS), _arrow(conn, DAILY_PAIRS)
    numbers = _column(series, "series_id")
    coarse_of = np.zeros(int(numbers.max()) + 1 if len(numbers) else 1, np.int64)
    coarse_of[numbers] = _column(series, "coarse_no")
    with ThreadPoolExecutor(max_workers=2) as pool:
        fine = pool.submit(Cells.build, spans["series_id"], unit, day, parts)
        coarse = pool.submit(Cells.build, spans["coarse_no"], coarse_of[unit], day, parts)
        fine, coarse = fine.result(), coarse.result()
        del unit, day, parts
        campaigns = pool.submit(campaign_sums, series_pairs, series, fine)
        daily = pool.submit(daily_sums, daily_pairs, fine, coarse)
        tables = {
            "kr_campaign_sums": (campaigns.result(), CAMPAIGN_SUMS),
            "kr_daily_sums": (daily.result(), DAILY_SUMS),
        }
    for name, (table, select) in tables.items():
        conn.register("incoming_sums", table)
        try:
            conn.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {select}")
        finally:
            conn.unregister("incoming_sums")
