"""Numbers as a marketer reads them: VND without decimals, Vietnamese grouping, uncapped percentages."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.report import format as fmt

NB = fmt.NBSP


@pytest.mark.parametrize(
    ("value", "currency", "lang", "expected"),
    [
        (34_381_916_000, "VND", "vi", f"34.381.916.000{NB}₫"),
        (34_381_916_000, "VND", "en", f"VND{NB}34,381,916,000"),
        (146_916.964851, "VND", "en", f"VND{NB}146,917"),
        (146_916.964851, "VND", "vi", f"146.917{NB}₫"),
        (1234.5, "USD", "en", f"USD{NB}1,234.50"),
        (1234.5, "USD", "vi", f"1.234,50{NB}US$"),
        (-4_282_013_000, "VND", "en", f"-VND{NB}4,282,013,000"),
        (-4_282_013_000, "VND", "vi", f"-4.282.013.000{NB}₫"),
        (-0.004, "USD", "en", f"USD{NB}0.00"),
        (12.0, None, "en", "12.00"),
    ],
)
def test_money(value: float, currency: str | None, lang: str, expected: str) -> None:
    assert fmt.money(value, currency, lang) == expected


@pytest.mark.parametrize(
    ("value", "unit", "lang", "expected"),
    [
        (0.025695, "percent", "en", "2.57%"),
        (0.025695, "percent", "vi", "2,57%"),
        (4.672121, "ratio", "en", "4.67"),
        (4.672121, "ratio", "vi", "4,67"),
        (49_348.0, "count", "vi", "49.348"),
        (34_483.65, "count", "en", "34,484"),
        (79.43, "count", "vi", "79,43"),
        (7.0, None, "en", "7"),
        (None, "count", "en", fmt.MISSING),
        (float("nan"), "ratio", "en", fmt.MISSING),
    ],
)
def test_metric_value_in_its_unit(value: float | None, unit: str | None, lang: str, expected: str) -> None:
    assert fmt.metric_value(value, unit, "VND", lang) == expected


def test_shares_are_uncapped_and_missing_is_a_dash_not_zero() -> None:
    assert fmt.share(1.1012658, "en") == "110%"
    assert fmt.share(0.4912, "vi") == "49%"
    assert fmt.share(-0.25, "en") == "-25%"
    assert fmt.share(None, "en") == fmt.MISSING


def test_dates_and_axis_labels() -> None:
    day = dt.date(2026, 2, 22)
    assert (fmt.date(day, "en"), fmt.date(day, "vi")) == ("22 Feb 2026", "22/02/2026")
    assert (fmt.short_date(day, "en"), fmt.short_date(day, "vi")) == ("22 Feb", "22/02")
    assert fmt.axis_value(70e9, "currency", "en") == "70B"
    assert fmt.axis_value(4.5e6, "count", "vi") == "4,5 tr"
    assert fmt.axis_value(2500, "count", "en") == "2.5K"
    assert fmt.axis_value(0.025, "percent", "en") == "2.5%"
    assert fmt.axis_value(0.03, "percent", "vi") == "3%"
    assert fmt.signed("VND 5", 5) == "+VND 5" and fmt.signed("-5", -5) == "-5"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported language 'fr'"):
        fmt.number(1, 0, "fr")
