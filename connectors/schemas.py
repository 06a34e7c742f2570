"""pandera schema of a normalized source frame: checked before anything is written."""

from __future__ import annotations

import pandera.pandas as pa

GRAIN = ["report_date", "platform", "account_id", "campaign_id", "channel", "source_medium"]


def normalized_schema(metrics: list[str], nonnegative: set[str]) -> pa.DataFrameSchema:
    """Schema for one row per source record, before aggregation to the grain.

    Metric columns are nullable: an empty cell is a missing value, never 0.
    """
    columns: dict[str, pa.Column] = {
        "report_date": pa.Column("datetime64[ns]", nullable=False),
        "platform": pa.Column(str, pa.Check.str_length(min_value=1), nullable=False),
        "account_id": pa.Column(str, pa.Check.str_length(min_value=1), nullable=False),
        "campaign_id": pa.Column(str, pa.Check.str_length(min_value=1), nullable=False),
        "campaign_name": pa.Column(str, nullable=False),
        "channel": pa.Column(str, pa.Check.str_length(min_value=1), nullable=False),
        "source_medium": pa.Column(str, pa.Check.str_length(min_value=1), nullable=False),
    }
    for name in metrics:
        checks = [pa.Check.ge(0, error="must not be negative")] if name in nonnegative else []
        checks.append(pa.Check(lambda s: s.abs() < 1e15, element_wise=False, error="is implausibly large"))
        columns[name] = pa.Column(float, checks=checks, nullable=True)
    return pa.DataFrameSchema(columns, strict=False, coerce=False)
