"""The frame contract every ad-platform connector returns: one row per campaign-day at the unified grain.

Why one builder: Google Ads and Meta must produce byte-for-byte the same columns and dtypes so the lead's
asset code treats them alike; ids stay strings (Meta ids exceed 2**53), dates stay account-local
`datetime.date`, metrics are float64 in natural units and NaN only when the platform did not report them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

NOT_SET = "(not set)"
GRAIN = ["report_date", "platform", "account_id", "campaign_id", "channel", "source_medium"]
METRICS = ["spend", "impressions", "clicks", "conversions", "conversions_value"]
COLUMNS = [
    *GRAIN[:4],
    "campaign_name",
    *GRAIN[4:],
    "currency_code",
    "account_timezone",
    "source_rows",
    *METRICS,
]


def campaign_day_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Aggregate platform records (each with every COLUMNS key but source_rows) to one row per grain key.

    Sums skip NaN but stay NaN when every record of a group is NaN (min_count=1): "not reported" never
    turns into 0. The campaign name is the last one seen (names are mutable; ids are the key).
    """
    rows = pd.DataFrame.from_records(list(records), columns=[c for c in COLUMNS if c != "source_rows"])
    if rows.empty:
        return _empty()
    for metric in METRICS:
        rows[metric] = pd.to_numeric(rows[metric], errors="raise").astype("float64")
    grouped = rows.groupby(GRAIN, sort=True, dropna=False)
    frame = grouped[METRICS].sum(min_count=1)
    for column in ("campaign_name", "currency_code", "account_timezone"):
        frame[column] = grouped[column].last()
    frame["source_rows"] = grouped.size().astype("int64")
    return frame.reset_index()[COLUMNS]


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype="object") for column in COLUMNS})
    frame["source_rows"] = frame["source_rows"].astype("int64")
    for metric in METRICS:
        frame[metric] = frame[metric].astype("float64")
    return frame
