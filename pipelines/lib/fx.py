"""Currency conversion for the mart: money in every account's currency becomes the reporting currency.

A VND team with a USD Google Ads account wants one CPA. The raw layer keeps what each platform reported;
the mart multiplies money measures by the rate of the row's report date (or the latest earlier one) and
keeps the original currency, amount, rate and rate date beside the converted value. When a money row
has no usable rate (none on or before its day, one older than `max_age_days`, or no currency at all),
the build stops with an error naming the source, currency and dates: a KR never sums two currencies.

Rates come from `fx_rates` in sources.yaml, a file of (date, from, to, rate) rows: 1 `from` = `rate` `to`.
A pair given only the other way round (reporting currency → account currency) is inverted; a direct
rate wins when both exist for a day. There are no cross rates through a third currency.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from connectors.fx_rates import RATE_COLUMNS, FxFeed, read_fx_rates
from connectors.tabular import TableFormat

if TYPE_CHECKING:
    from pipelines.lib.spec import OkrDefs

FX_TABLE = "raw.fx_rates"
DDL = [
    f"""CREATE TABLE IF NOT EXISTS {FX_TABLE} (
        rate_date DATE NOT NULL, from_currency VARCHAR NOT NULL, to_currency VARCHAR NOT NULL,
        rate DOUBLE NOT NULL, file VARCHAR, line INTEGER, loaded_at TIMESTAMP NOT NULL,
        PRIMARY KEY (rate_date, from_currency, to_currency))""",
]
MAX_LISTED = 10

# Per needed (currency, day): the rate to the reporting currency in force that day (ASOF: the latest on or
# before it), read from direct rows and, inverted, from rows quoted the other way round.
LOOKUP_SQL = f"""
CREATE OR REPLACE TEMP TABLE fx_lookup AS
WITH needed AS (
    SELECT DISTINCT currency_code AS currency, report_date
    FROM mart_stage
    WHERE list_contains($money, metric) AND value IS NOT NULL
      AND currency_code IS NOT NULL AND currency_code <> $reporting
),
quoted AS (
    SELECT from_currency AS currency, rate_date, rate, 0 AS preference FROM {FX_TABLE} WHERE to_currency = $reporting
    UNION ALL
    SELECT to_currency, rate_date, 1.0 / rate, 1 FROM {FX_TABLE} WHERE from_currency = $reporting
),
pair_rates AS (
    SELECT currency, rate_date, arg_min(rate, preference) AS rate FROM quoted GROUP BY currency, rate_date
)
SELECT n.currency, n.report_date, r.rate_date, r.rate
FROM needed AS n
ASOF LEFT JOIN pair_rates AS r ON n.currency = r.currency AND n.report_date >= r.rate_date
"""  # noqa: S608 (FX_TABLE is a project constant)

# What stops the build, per source and currency: days without a rate, days whose rate is too old, and
# money rows that carry no currency at all.
PROBLEMS_SQL = """
WITH money AS (
    SELECT DISTINCT source, currency_code, report_date
    FROM mart_stage
    WHERE list_contains($money, metric) AND value IS NOT NULL AND coalesce(currency_code, '') <> $reporting
)
SELECT
    m.source,
    m.currency_code AS currency,
    count(*) FILTER (WHERE m.currency_code IS NOT NULL AND x.rate IS NULL) AS missing_days,
    min(m.report_date) FILTER (WHERE m.currency_code IS NOT NULL AND x.rate IS NULL) AS first_missing,
    max(m.report_date) FILTER (WHERE m.currency_code IS NOT NULL AND x.rate IS NULL) AS last_missing,
    count(*) FILTER (WHERE datediff('day', x.rate_date, m.report_date) > $max_age) AS stale_days,
    min(m.report_date) FILTER (WHERE datediff('day', x.rate_date, m.report_date) > $max_age) AS first_stale,
    arg_min(x.rate_date, m.report_date) FILTER (WHERE datediff('day', x.rate_date, m.report_date) > $max_age)
        AS first_stale_rate_date,
    count(*) FILTER (WHERE m.currency_code IS NULL) AS no_currency_days,
    min(m.report_date) FILTER (WHERE m.currency_code IS NULL) AS first_no_currency
FROM money AS m
LEFT JOIN fx_lookup AS x ON x.currency = m.currency_code AND x.report_date = m.report_date
GROUP BY m.source, m.currency_code
HAVING missing_days > 0 OR stale_days > 0 OR no_currency_days > 0
ORDER BY m.source, m.currency_code
"""


class FxError(ValueError):
    """Money that cannot be converted into the reporting currency; nothing of the mart build is written."""

    def __init__(self, reporting_currency: str, origin: str, problems: list[str]):
        self.reporting_currency = reporting_currency
        self.problems = problems
        shown = problems[:MAX_LISTED] + (
            [f"... and {len(problems) - MAX_LISTED} more"] if len(problems) > MAX_LISTED else []
        )
        super().__init__(
            f"cannot convert money into the reporting currency {reporting_currency} (rates from {origin}):\n"
            + "\n".join(shown)
        )


def replace_rates(conn: duckdb.DuckDBPyConnection, rates: pd.DataFrame) -> int:
    """Make raw.fx_rates exactly the configured file's rates (call inside the mart build's transaction)."""
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    conn.execute(f"DELETE FROM {FX_TABLE}")  # noqa: S608
    if rates.empty:
        return 0
    conn.register("incoming_rates", rates.loc[:, RATE_COLUMNS])
    try:
        conn.execute(
            f"INSERT INTO {FX_TABLE} SELECT CAST(rate_date AS DATE), from_currency, to_currency, "  # noqa: S608
            "CAST(rate AS DOUBLE), file, CAST(line AS INTEGER), ? FROM incoming_rates",
            [loaded_at],
        )
    finally:
        conn.unregister("incoming_rates")
    return len(rates)


def look_up_rates(
    conn: duckdb.DuckDBPyConnection,
    reporting_currency: str | None,
    money: list[str],
    max_age_days: int | None,
    origin: str,
) -> None:
    """Fill temp table fx_lookup for mart_stage, or raise FxError listing every day that cannot convert."""
    params = {"money": money, "reporting": reporting_currency or ""}
    if reporting_currency is None:
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE fx_lookup (currency VARCHAR, report_date DATE, rate_date DATE, rate DOUBLE)"
        )
        return
    conn.execute(LOOKUP_SQL, params)
    found = conn.execute(PROBLEMS_SQL, params | {"max_age": max_age_days if max_age_days is not None else 2**31 - 1})
    problems = [_describe(row, reporting_currency, origin, max_age_days) for row in found.fetchall()]
    if problems:
        raise FxError(reporting_currency, origin, [p for group in problems for p in group])


def _describe(row: tuple, target: str, origin: str, max_age: int | None) -> list[str]:
    source, currency, missing, first_missing, last_missing, stale, first_stale, stale_rate, no_currency, first_none = (
        row
    )
    out = []
    if no_currency:
        out.append(
            f"source {source!r}: money rows from {first_none} have no currency ({no_currency} day(s)); "
            "set the source's currency so they can be converted"
        )
    if missing:
        span = f"{first_missing}" if first_missing == last_missing else f"{first_missing}..{last_missing}"
        out.append(
            f"source {source!r}: no {currency}->{target} rate on or before {last_missing} in {origin} "
            f"({missing} day(s) of {currency} money: {span})"
        )
    if stale:
        age = (first_stale - stale_rate).days
        out.append(
            f"source {source!r}: the latest {currency}->{target} rate for {first_stale} is from {stale_rate}, "
            f"{age} days earlier (max_age_days: {max_age}; {stale} day(s) affected)"
        )
    return out


def fx_feed(defs: OkrDefs) -> FxFeed | None:
    """The rates file configured in sources.yaml (its glob resolved against okr_defs), or None."""
    fx = defs.fx_rates
    if fx is None:
        return None
    return FxFeed(
        name="fx_rates",
        pattern=str(defs.resolve_path(fx.path)),
        date_column=fx.date.column,
        date_format=fx.date.format,
        from_column=fx.from_currency,
        to_column=fx.to_currency,
        rate_column=fx.rate,
        table=TableFormat(format=fx.format, delimiter=fx.delimiter, encoding=fx.encoding),
        thousands=fx.thousands,
        decimal=fx.decimal,
    )


@dataclass(frozen=True)
class LoadedRates:
    """The configured rates (an empty frame when none are configured) and where they came from."""

    frame: pd.DataFrame
    origin: str


def read_configured_rates(defs: OkrDefs) -> LoadedRates:
    """Read the fx_rates file now (outside any transaction); raises SourceDataError naming bad cells."""
    feed = fx_feed(defs)
    if feed is None:
        return LoadedRates(pd.DataFrame(columns=RATE_COLUMNS), "sources.yaml (no fx_rates configured)")
    return LoadedRates(read_fx_rates(feed).frame, f"fx_rates {defs.fx_rates.path}")
