"""File source: any platform's CSV/Parquet export, normalized to the unified campaign-day grain.

Rules an analyst can rely on: an empty campaign or channel becomes `(not set)` (never a lost row);
a campaign with a name but no id is keyed by its name; an empty metric cell is NULL (never 0) and sums
skip it; exact duplicate rows are counted (and dropped only when asked); any unparseable value fails the
whole load, naming file, line and column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa

from connectors.campaign_key import is_placeholder
from connectors.errors import CellError, SourceDataError
from connectors.schemas import GRAIN, normalized_schema
from connectors.tabular import FILE_COL, LINE_COL, TableFormat, expand, read_tables

NOT_SET = "(not set)"


@dataclass(frozen=True)
class MetricColumn:
    """How a catalogue metric is read: a file column, or `count` (each row counts 1, e.g. one lead)."""

    column: str | None = None
    count_rows: bool = False


@dataclass(frozen=True)
class FileFeed:
    name: str
    pattern: str
    platform: str
    account_id: str
    date_column: str
    metrics: dict[str, MetricColumn]
    date_format: str | None = None
    campaign_id_column: str | None = None
    campaign_name_column: str | None = None
    channel: str = NOT_SET
    channel_column: str | None = None
    source_medium_column: str | None = None
    currency: str | None = None
    timezone: str = "UTC"
    table: TableFormat = field(default_factory=TableFormat)
    thousands: str | None = None
    decimal: str = "."
    drop_duplicates: bool = False
    nonnegative: frozenset[str] = frozenset()


@dataclass
class FileLoad:
    """A validated load: rows at the grain plus what an analyst should know about the input."""

    frame: pd.DataFrame
    files: list[str]
    rows_read: int
    duplicate_rows: int
    dropped_duplicates: int
    missing_values: dict[str, int] = field(default_factory=dict)

    @property
    def date_range(self) -> tuple[dt.date, dt.date] | None:
        if self.frame.empty:
            return None
        return self.frame["report_date"].min(), self.frame["report_date"].max()


def read_file_feed(feed: FileFeed) -> FileLoad:
    """Read, validate and aggregate one feed; raise SourceDataError listing every bad cell."""
    files = expand(feed.pattern)
    if not files:
        raise SourceDataError(feed.name, [CellError(feed.pattern, 0, None, "no file matches this path")])
    raw = read_tables(feed.name, files, feed.table, _required_columns(feed))
    duplicated = raw.drop(columns=[FILE_COL, LINE_COL]).duplicated(keep="first")
    n_dup = int(duplicated.sum())
    if feed.drop_duplicates:
        raw = raw.loc[~duplicated].reset_index(drop=True)
    rows, errors = _normalize(feed, raw)
    reported = {(e.file, e.row, e.column) for e in errors}
    errors += [e for e in _schema_errors(feed, rows, raw) if (e.file, e.row, e.column) not in reported]
    if errors:
        raise SourceDataError(feed.name, errors)
    missing = {m: int(rows[m].isna().sum()) for m in feed.metrics}
    return FileLoad(
        frame=_aggregate(feed, rows),
        files=[str(f) for f in files],
        rows_read=len(raw) + (n_dup if feed.drop_duplicates else 0),
        duplicate_rows=n_dup,
        dropped_duplicates=n_dup if feed.drop_duplicates else 0,
        missing_values=missing,
    )


def _required_columns(feed: FileFeed) -> dict[str, str]:
    """Header names every file of the feed must have, keyed by the role they play."""
    wanted = {"date": feed.date_column, "campaign_id": feed.campaign_id_column}
    wanted |= {"campaign_name": feed.campaign_name_column, "channel": feed.channel_column}
    wanted |= {"source_medium": feed.source_medium_column}
    wanted |= {f"metric {m}": spec.column for m, spec in feed.metrics.items() if not spec.count_rows}
    return {role: column for role, column in wanted.items() if column is not None}


def _normalize(feed: FileFeed, raw: pd.DataFrame) -> tuple[pd.DataFrame, list[CellError]]:
    """One row per record with typed columns; errors for every cell that does not parse."""
    errors: list[CellError] = []
    out = pd.DataFrame(index=raw.index)
    out["report_date"] = _parse_dates(feed, raw, errors)
    out["platform"] = feed.platform
    out["account_id"] = str(feed.account_id)
    cid = _text(raw, feed.campaign_id_column or feed.campaign_name_column)
    cname = _text(raw, feed.campaign_name_column) if feed.campaign_name_column else cid
    # a row whose campaign has a name but no id (a GA4 export's utm-only campaign) is keyed by the name
    cid = cid.mask(cid.map(is_placeholder) & ~cname.map(is_placeholder), cname)
    out["campaign_id"] = cid
    out["campaign_name"] = cname
    out["channel"] = _text(raw, feed.channel_column) if feed.channel_column else (feed.channel or NOT_SET)
    out["source_medium"] = _text(raw, feed.source_medium_column) if feed.source_medium_column else NOT_SET
    for metric, spec in feed.metrics.items():
        out[metric] = 1.0 if spec.count_rows else _parse_numbers(feed, raw, spec.column, errors)
    out[FILE_COL] = raw[FILE_COL]
    out[LINE_COL] = raw[LINE_COL]
    return out, errors


def _text(raw: pd.DataFrame, column: str) -> pd.Series:
    values = raw[column].astype("string").str.strip()
    return values.mask(values.isna() | (values == ""), NOT_SET).astype(str)


def _parse_dates(feed: FileFeed, raw: pd.DataFrame, errors: list[CellError]) -> pd.Series:
    cells = raw[feed.date_column]
    if pd.api.types.is_datetime64_any_dtype(cells):
        parsed = pd.to_datetime(cells).dt.tz_localize(None) if getattr(cells.dt, "tz", None) else cells
    else:
        text = cells.astype("string").str.strip()
        parsed = pd.to_datetime(text, format=feed.date_format or "ISO8601", errors="coerce")
    bad = parsed.isna()
    for idx in raw.index[bad]:
        value = cells.at[idx]
        hint = f"does not match {feed.date_format!r}" if feed.date_format else "is not an ISO date"
        errors.append(_cell(raw, idx, feed.date_column, f"date {value!r} {hint}" if value else "date is empty"))
    return parsed.dt.normalize().astype("datetime64[ns]")


def _parse_numbers(feed: FileFeed, raw: pd.DataFrame, column: str, errors: list[CellError]) -> pd.Series:
    cells = raw[column]
    if pd.api.types.is_numeric_dtype(cells):
        return cells.astype(float)
    text = cells.astype("string").str.strip()
    empty = text.isna() | (text == "")
    cleaned = text
    if feed.thousands:
        cleaned = cleaned.str.replace(feed.thousands, "", regex=False)
    if feed.decimal != ".":
        cleaned = cleaned.str.replace(feed.decimal, ".", regex=False)
    parsed = pd.to_numeric(cleaned.mask(empty, None), errors="coerce").astype(float)
    for idx in raw.index[parsed.isna() & ~empty]:
        errors.append(_cell(raw, idx, column, f"{cells.at[idx]!r} is not a number"))
    return parsed


def _cell(raw: pd.DataFrame, idx: int, column: str | None, message: str) -> CellError:
    return CellError(str(raw.at[idx, FILE_COL]), int(raw.at[idx, LINE_COL]), column, message)


def _schema_errors(feed: FileFeed, rows: pd.DataFrame, raw: pd.DataFrame) -> list[CellError]:
    schema = normalized_schema(list(feed.metrics), set(feed.nonnegative))
    try:
        schema.validate(rows, lazy=True)
    except pa.errors.SchemaErrors as exc:
        column_of = {m: spec.column or m for m, spec in feed.metrics.items()}
        column_of["report_date"] = feed.date_column
        out = []
        for case in exc.failure_cases.itertuples():
            idx = case.index
            column = column_of.get(case.column, case.column)
            if idx is None or pd.isna(idx):
                out.append(CellError(feed.pattern, 0, column, f"{case.check}"))
                continue
            out.append(_cell(raw, int(idx), column, f"{case.failure_case!r} fails check {case.check}"))
        return out
    return []


def _aggregate(feed: FileFeed, rows: pd.DataFrame) -> pd.DataFrame:
    """Sum records to the grain; NULL stays NULL when every record of a group is empty (min_count=1)."""
    metrics = list(feed.metrics)
    rows = rows.sort_values(["report_date", LINE_COL, FILE_COL], kind="stable")
    grouped = rows.groupby(GRAIN, sort=True, dropna=False)
    frame = grouped[metrics].sum(min_count=1)
    frame["campaign_name"] = grouped["campaign_name"].last()
    frame["source_rows"] = grouped.size()
    frame = frame.reset_index()
    frame["report_date"] = frame["report_date"].dt.date
    frame["currency_code"] = feed.currency
    frame["account_timezone"] = feed.timezone
    return frame
