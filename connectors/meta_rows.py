"""One Meta Insights row (level=campaign, time_increment=1) in the frame's vocabulary.

Why these rules:
- Numbers arrive as decimal strings; they are parsed with `Decimal` (never float first), ids stay strings.
- Conversions come from exactly ONE configured `action_type` (purchase, omni_purchase and
  offsite_conversion.fb_pixel_purchase overlap: adding them double-counts). With attribution windows
  requested, an action carries one key per window ("7d_click", "1d_view"): a click and a view window never
  count the same conversion, so the configured windows are summed; without them the action's `value` is used.
- Missing data: an `actions` list without the chosen type means 0 for that row (Meta reported the row's
  actions, none of that type); a row without an `actions` field at all gives NaN (not reported; sums skip it)
  unless `absent_actions_as_zero` is set. The same holds for `action_values`. A missing metric field is NaN.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.ads_frame import NOT_SET

NAN = math.nan


@dataclass(frozen=True)
class RowRules:
    """What to read from each row; fixed per source so every row of a load means the same thing."""

    platform: str
    channel: str
    clicks_field: str
    action_type: str
    windows: tuple[str, ...]
    absent_actions_as_zero: bool


class RowError(ValueError):
    """A row Meta sent that cannot be read (bad date, bad number): the whole load stops."""


def insight_record(rules: RowRules, account_id: str, timezone: str, currency: str, row: dict[str, Any]) -> dict:
    """Frame record for one insights row of ad account `account_id` (no `act_`)."""
    day = _day(row)
    return {
        "report_date": day,
        "platform": rules.platform,
        "account_id": account_id,
        "campaign_id": str(row.get("campaign_id") or NOT_SET),
        "campaign_name": str(row.get("campaign_name") or NOT_SET),
        "channel": rules.channel,
        "source_medium": NOT_SET,
        "currency_code": str(row.get("account_currency") or currency),
        "account_timezone": timezone,
        "spend": _number(row, "spend"),
        "impressions": _number(row, "impressions"),
        "clicks": _number(row, rules.clicks_field),
        "conversions": _action(rules, row, "actions"),
        "conversions_value": _action(rules, row, "action_values"),
    }


def _day(row: dict[str, Any]) -> dt.date:
    """`date_start`, the account-local day; with time_increment=1 it must equal `date_stop`."""
    try:
        start = dt.date.fromisoformat(str(row["date_start"]))
        stop = dt.date.fromisoformat(str(row.get("date_stop", row["date_start"])))
    except (KeyError, ValueError) as exc:
        raise RowError(f"campaign {row.get('campaign_id')}: bad or missing date_start/date_stop ({exc})") from None
    if start != stop:
        raise RowError(f"campaign {row.get('campaign_id')}: row spans {start}..{stop}; expected one day")
    return start


def _decimal(value: Any, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise RowError(f"{what}: {value!r} is not a number") from None
    if not number.is_finite():
        raise RowError(f"{what}: {value!r} is not a finite number")
    return number


def _number(row: dict[str, Any], key: str) -> float:
    if row.get(key) is None:
        return NAN
    return float(_decimal(row[key], f"campaign {row.get('campaign_id')} {row.get('date_start')} {key}"))


def _action(rules: RowRules, row: dict[str, Any], key: str) -> float:
    entries = row.get(key)
    if entries is None:
        return 0.0 if rules.absent_actions_as_zero else NAN
    where = f"campaign {row.get('campaign_id')} {row.get('date_start')} {key}"
    total = Decimal(0)
    for entry in entries:
        if entry.get("action_type") != rules.action_type:
            continue
        windowed = [entry[w] for w in rules.windows if w in entry]
        for value in windowed or [entry.get("value", 0)]:
            total += _decimal(value, where)
    return float(total)
