"""Ratios with a zero denominator (trap 1 of docs/platform-traps.md), scored on a real DuckDB file.

The rule the scoring follows (kr_scores.sql, `nullif`): a ratio whose summed denominator is 0 has no value.
It is never 0 (a CPA of 0 would read as a perfect score) and never infinite; the KR says `no_data` with a
note naming the zero denominator, and a day whose denominator is 0 is not a measured day.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.pipelines.lib.scoring.test_engine import score, warehouse  # noqa: F401 (fixture)

OBJECTIVES = """
objectives:
  - id: o
    title: Zero denominators
    period: {start: 2026-01-01, end: 2026-01-10}
    key_results:
      - {id: cpa-no-conversions, metric: cpa, filters: {campaign: dud}, baseline: 50, target: 20}
      - {id: ctr-no-impressions, metric: ctr, filters: {campaign: dark}, baseline: 0, target: 0.02}
      - {id: cpa-days, metric: cpa, direction: stay_below, target: 40, filters: {campaign: live}}
      - {id: cpa-window, metric: cpa, baseline: 50, target: 20, filters: {campaign: live}}
"""


def rows() -> list[tuple]:
    """`dud` spends 500 without a conversion; `dark` has clicks but no impressions; `live` converts on 3 of
    its 4 days: 100/4, 90/0, 120/3, 60/1 → CPA 25, none, 40, 60 per day, 370 / 8 = 46.25 over the window."""
    out = [
        ("2026-01-01", "meta_ads", "dud", "social", "USD", "spend", 300),
        ("2026-01-02", "meta_ads", "dud", "social", "USD", "spend", 200),
        ("2026-01-01", "meta_ads", "dud", "social", "USD", "conversions", 0),
        ("2026-01-01", "meta_ads", "dark", "social", "USD", "clicks", 5),
        ("2026-01-01", "meta_ads", "dark", "social", "USD", "impressions", 0),
    ]
    for day, spend, conversions in [(1, 100, 4), (2, 90, 0), (3, 120, 3), (4, 60, 1)]:
        out += [
            (f"2026-01-0{day}", "meta_ads", "live", "social", "USD", "spend", spend),
            (f"2026-01-0{day}", "meta_ads", "live", "social", "USD", "conversions", conversions),
        ]
    return out


def test_a_zero_denominator_gives_no_value_never_zero_or_infinity(tmp_path: Path, warehouse) -> None:  # noqa: F811
    _, krs, _ = score(tmp_path, warehouse(rows()), OBJECTIVES, "2026-01-04")

    dud = krs.loc["cpa-no-conversions"]
    assert (dud["numerator"], dud["denominator"]) == (500.0, 0.0)
    assert pd.isna(dud["actual"]) and pd.isna(dud["score"])  # NULL: not 0, not inf, so never a 100 % score
    assert (dud["status"], dud["note"]) == ("no_data", "denominator is zero over the window")
    dark = krs.loc["ctr-no-impressions"]
    assert pd.isna(dark["actual"]) and (dark["status"], dark["note"]) == (
        "no_data",
        "denominator is zero over the window",
    )

    days = krs.loc["cpa-days"]  # 25 and 40 held ≤ 40, 60 did not; 2 January (no conversion) is not measured
    assert (days["days_held"], days["days_measured"]) == (2, 3)
    assert krs.at["cpa-window", "actual"] == 370 / 8  # the ratio of the sums, 2 January's spend included
