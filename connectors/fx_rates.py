"""Daily exchange rates from a CSV or Parquet file: one row per day and currency pair.

A rate row says: on `date`, 1 unit of `from` is worth `rate` units of `to`. Every bad cell (a date not in
the format, a code that is not ISO 4217, a rate that is not a positive number, the same day and pair with
two different rates) fails the whole load naming file, line and column: a wrong rate would silently
rescale every converted KR.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from connectors.errors import CellError, SourceDataError
from connectors.tabular import FILE_COL, LINE_COL, TableFormat, expand, read_tables

RATE_COLUMNS = ["rate_date", "from_currency", "to_currency", "rate", "file", "line"]
_CODE = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class FxFeed:
    """Where the rates are and which columns hold them (the names default to date, from, to, rate)."""

    name: str
    pattern: str
    date_column: str = "date"
    date_format: str | None = None
    from_column: str = "from"
    to_column: str = "to"
    rate_column: str = "rate"
    table: TableFormat = field(default_factory=TableFormat)
    thousands: str | None = None
    decimal: str = "."


@dataclass
class FxLoad:
    """Validated rates (RATE_COLUMNS, one row per day and pair) and the files they came from."""

    frame: pd.DataFrame
    files: list[str]
    rows_read: int


def read_fx_rates(feed: FxFeed) -> FxLoad:
    """Read and validate every rate; raise SourceDataError listing every bad cell."""
    files = expand(feed.pattern)
    if not files:
        raise SourceDataError(feed.name, [CellError(feed.pattern, 0, None, "no file matches this path")])
    required = {"date": feed.date_column, "from": feed.from_column, "to": feed.to_column, "rate": feed.rate_column}
    raw = read_tables(feed.name, files, feed.table, required)
    errors: list[CellError] = []
    out = pd.DataFrame(
        {
            "rate_date": _dates(feed, raw, errors),
            "from_currency": _codes(raw, feed.from_column, errors),
            "to_currency": _codes(raw, feed.to_column, errors),
            "rate": _rates(feed, raw, errors),
            "file": raw[FILE_COL].astype(str),
            "line": raw[LINE_COL].astype(int),
        },
        index=raw.index,
    )
    same = out["from_currency"].notna() & (out["from_currency"] == out["to_currency"])
    errors += [_cell(raw, i, feed.to_column, "from and to are the same currency") for i in raw.index[same]]
    if not errors:
        errors += _conflicts(feed, out)
    if errors:
        raise SourceDataError(feed.name, errors)
    frame = out.drop_duplicates(subset=["rate_date", "from_currency", "to_currency"], keep="first")
    frame = frame.sort_values(["from_currency", "to_currency", "rate_date"]).reset_index(drop=True)
    return FxLoad(frame=frame.loc[:, RATE_COLUMNS], files=[str(f) for f in files], rows_read=len(raw))


def _cell(raw: pd.DataFrame, idx: int, column: str, message: str) -> CellError:
    return CellError(str(raw.at[idx, FILE_COL]), int(raw.at[idx, LINE_COL]), column, message)


def _text(raw: pd.DataFrame, column: str) -> pd.Series:
    return raw[column].astype("string").str.strip()


def _dates(feed: FxFeed, raw: pd.DataFrame, errors: list[CellError]) -> pd.Series:
    cells = raw[feed.date_column]
    if pd.api.types.is_datetime64_any_dtype(cells):
        parsed = pd.to_datetime(cells)
    else:
        parsed = pd.to_datetime(_text(raw, feed.date_column), format=feed.date_format or "ISO8601", errors="coerce")
    hint = f"does not match {feed.date_format!r}" if feed.date_format else "is not an ISO date"
    for idx in raw.index[parsed.isna()]:
        value = cells.at[idx]
        errors.append(_cell(raw, idx, feed.date_column, f"date {value!r} {hint}" if value else "date is empty"))
    return parsed.dt.date


def _codes(raw: pd.DataFrame, column: str, errors: list[CellError]) -> pd.Series:
    """ISO 4217 codes; lower case is accepted and upper-cased (exports differ), anything else is an error."""
    codes = _text(raw, column).str.upper()
    for idx in raw.index[~codes.fillna("").str.fullmatch(_CODE.pattern)]:
        errors.append(_cell(raw, idx, column, f"{raw.at[idx, column]!r} is not an ISO 4217 currency code"))
    return codes.astype(object)


def _rates(feed: FxFeed, raw: pd.DataFrame, errors: list[CellError]) -> pd.Series:
    cells = raw[feed.rate_column]
    if pd.api.types.is_numeric_dtype(cells):
        parsed = cells.astype(float)
    else:
        text = _text(raw, feed.rate_column)
        if feed.thousands:
            text = text.str.replace(feed.thousands, "", regex=False)
        if feed.decimal != ".":
            text = text.str.replace(feed.decimal, ".", regex=False)
        parsed = pd.to_numeric(text, errors="coerce").astype(float)
    for idx in raw.index[~(parsed > 0)]:
        errors.append(_cell(raw, idx, feed.rate_column, f"{cells.at[idx]!r} is not a positive number"))
    return parsed


def _conflicts(feed: FxFeed, out: pd.DataFrame) -> list[CellError]:
    """The same day and pair twice with different rates: which one is right is for a person to say."""
    key = ["rate_date", "from_currency", "to_currency"]
    spread = out.groupby(key)["rate"].transform("nunique")
    errors = []
    for row in out.loc[spread > 1].itertuples():
        errors.append(
            CellError(
                row.file,
                row.line,
                feed.rate_column,
                f"{row.from_currency}->{row.to_currency} on {row.rate_date} has two different rates",
            )
        )
    return errors
