"""Numbers, money, percentages and dates as a marketer reads them, in English or Vietnamese.

Written by hand rather than through a locale database so the report is identical on every machine
(no dependency on the OS locales installed) and VND is never shown with decimals it does not have.
"""

from __future__ import annotations

import datetime as dt
import math

LANGS = ("en", "vi")
NBSP = "\u00a0"
# (thousands separator, decimal mark) per language: Vietnamese groups with "." and uses "," for decimals.
SEPARATORS = {"en": (",", "."), "vi": (".", ",")}
# ISO 4217 minor units of the currencies whose amounts are written without decimals.
ZERO_DECIMAL_CURRENCIES = {"VND", "JPY", "KRW", "CLP", "ISK", "UGX", "PYG"}
VI_SYMBOLS = {"VND": "₫", "USD": "US$", "EUR": "€", "JPY": "¥", "GBP": "£"}
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MISSING = "–"


def _check(lang: str) -> None:
    if lang not in SEPARATORS:
        raise ValueError(f"unsupported language {lang!r}: use one of {', '.join(LANGS)}")


def number(value: float, decimals: int, lang: str) -> str:
    """`value` rounded to `decimals`, grouped by thousands with the language's separators."""
    _check(lang)
    text = f"{value:,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # never "-0"
    group, mark = SEPARATORS[lang]
    return text.replace(",", "\0").replace(".", mark).replace("\0", group)


def currency_decimals(currency: str | None) -> int:
    return 0 if (currency or "").upper() in ZERO_DECIMAL_CURRENCIES else 2


def money(value: float, currency: str | None, lang: str) -> str:
    """`VND 34,381,916,000` in English, `34.381.916.000 ₫` in Vietnamese; USD with 2 decimals."""
    code = (currency or "").upper()
    amount = number(value, currency_decimals(code), lang)
    if not code:
        return amount
    if lang == "vi":
        return f"{amount}{NBSP}{VI_SYMBOLS.get(code, code)}"
    sign, amount = ("-", amount[1:]) if amount.startswith("-") else ("", amount)
    return f"{sign}{code}{NBSP}{amount}"  # -VND 4,282,013,000, as English writes a negative amount


def percent(value: float, lang: str, decimals: int = 0) -> str:
    """A share (0.4912) as a percentage (49%); uncapped, so 1.25 is 125%."""
    return f"{number(value * 100, decimals, lang)}%"


def count(value: float, lang: str) -> str:
    """Whole numbers without decimals; small fractional counts keep two (0.5 conversions happen)."""
    whole = float(value).is_integer() or abs(value) >= 100
    return number(value, 0 if whole else 2, lang)


def metric_value(value: float | None, unit: str | None, currency: str | None, lang: str) -> str:
    """A metric's value in its unit: currency, percent, ratio, count or number."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if unit == "currency":
        return money(value, currency, lang)
    if unit == "percent":
        return percent(value, lang, 2)
    if unit == "ratio":
        return number(value, 2, lang)
    return count(value, lang)


def signed(text: str, value: float) -> str:
    """Prefix a formatted change with + when it is an increase (a decrease already has its minus)."""
    return f"+{text}" if value > 0 else text


def share(value: float | None, lang: str) -> str:
    """Progress, scores and pace: whole percentages, or a dash when there is nothing to measure."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return percent(value, lang)


def date(day: dt.date | None, lang: str) -> str:
    """22 Feb 2026 in English, 22/02/2026 in Vietnamese."""
    _check(lang)
    if day is None:
        return MISSING
    if lang == "vi":
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    return f"{day.day} {EN_MONTHS[day.month - 1]} {day.year}"


def short_date(day: dt.date, lang: str) -> str:
    """Axis labels: 22 Feb / 22/02."""
    _check(lang)
    return f"{day.day:02d}/{day.month:02d}" if lang == "vi" else f"{day.day} {EN_MONTHS[day.month - 1]}"


COMPACT = {"en": ((1e9, "B"), (1e6, "M"), (1e3, "K")), "vi": ((1e9, " tỷ"), (1e6, " tr"), (1e3, "K"))}


def compact(value: float, lang: str) -> str:
    """Axis labels: 70B / 70 tỷ, 4.5M / 4,5 tr, so a tick fits beside a chart."""
    for size, suffix in COMPACT[lang]:
        if abs(value) >= size:
            scaled = value / size
            return number(scaled, 0 if float(round(scaled, 1)).is_integer() else 1, lang) + suffix
    return count(value, lang)


def axis_value(value: float, unit: str | None, lang: str) -> str:
    """A tick label in the metric's unit, short: percentages keep one decimal, ratios two."""
    if unit == "percent":
        return percent(value, lang, 0 if float(round(value * 100, 1)).is_integer() else 1)
    if unit == "ratio":
        return number(value, 2, lang)
    return compact(value, lang)
