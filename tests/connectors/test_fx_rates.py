"""The rates file: what is read, and every bad cell named by file, line and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from connectors import SourceDataError
from connectors.fx_rates import FxFeed, read_fx_rates
from connectors.tabular import TableFormat


def feed(tmp_path: Path, text: str, **overrides: object) -> FxFeed:
    (tmp_path / "rates.csv").write_text(text, encoding="utf-8")
    return FxFeed(**({"name": "fx_rates", "pattern": str(tmp_path / "*.csv")} | overrides))


def test_reads_rates_with_lower_case_codes_and_exact_duplicates(tmp_path: Path) -> None:
    text = "date,from,to,rate\n2026-01-02,usd,vnd,25100\n2026-01-01,USD,VND,25000\n2026-01-01,USD,VND,25000\n"
    load = read_fx_rates(feed(tmp_path, text))
    rows = [
        tuple(r)
        for r in load.frame[["rate_date", "from_currency", "to_currency", "rate", "line"]].itertuples(index=False)
    ]
    assert rows == [
        (dt.date(2026, 1, 1), "USD", "VND", 25000.0, 3),
        (dt.date(2026, 1, 2), "USD", "VND", 25100.0, 2),
    ]
    assert load.rows_read == 3 and load.files == [str(tmp_path / "rates.csv")]


def test_custom_columns_date_format_and_decimal_comma(tmp_path: Path) -> None:
    text = "Ngày;Từ;Sang;Tỷ giá\n02/01/2026;VND;USD;0,00004\n"
    load = read_fx_rates(
        feed(
            tmp_path,
            text,
            date_column="Ngày",
            date_format="%d/%m/%Y",
            from_column="Từ",
            to_column="Sang",
            rate_column="Tỷ giá",
            decimal=",",
            table=TableFormat(delimiter=";"),
        )
    )
    assert load.frame.loc[0, ["rate_date", "from_currency", "to_currency", "rate"]].tolist() == [
        dt.date(2026, 1, 2),
        "VND",
        "USD",
        0.00004,
    ]


def test_every_bad_cell_is_named(tmp_path: Path) -> None:
    text = (
        "date,from,to,rate\n"
        "2026-13-01,USD,VND,25000\n"
        "2026-01-02,US$,VND,25000\n"
        "2026-01-03,USD,VND,-1\n"
        "2026-01-04,USD,VND,abc\n"
        "2026-01-05,VND,VND,1\n"
    )
    with pytest.raises(SourceDataError) as caught:
        read_fx_rates(feed(tmp_path, text))
    path = tmp_path / "rates.csv"
    assert [str(e) for e in caught.value.errors] == [
        f"{path}:2: column 'date': date '2026-13-01' is not an ISO date",
        f"{path}:3: column 'from': 'US$' is not an ISO 4217 currency code",
        f"{path}:4: column 'rate': '-1' is not a positive number",
        f"{path}:5: column 'rate': 'abc' is not a positive number",
        f"{path}:6: column 'to': from and to are the same currency",
    ]


def test_one_day_and_pair_with_two_rates_is_an_error(tmp_path: Path) -> None:
    text = "date,from,to,rate\n2026-01-01,USD,VND,25000\n2026-01-01,USD,VND,25900\n"
    with pytest.raises(SourceDataError) as caught:
        read_fx_rates(feed(tmp_path, text))
    assert [e.row for e in caught.value.errors] == [2, 3]
    assert "USD->VND on 2026-01-01 has two different rates" in str(caught.value)


def test_missing_file_or_column(tmp_path: Path) -> None:
    with pytest.raises(SourceDataError, match="no file matches this path"):
        read_fx_rates(FxFeed(name="fx_rates", pattern=str(tmp_path / "none*.csv")))
    with pytest.raises(SourceDataError, match="column for rate not found in the header"):
        read_fx_rates(feed(tmp_path, "date,from,to,price\n2026-01-01,USD,VND,25000\n"))
