"""The declared time zone against the reported one (platform trap 4): aliases agree, distinct zones do not.

The rejection itself is tested through `okr run` against the Meta fake in
tests/pipelines/test_ads_end_to_end.py; these are the decisions behind it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.lib.source_zones import compare, same_zone
from pipelines.lib.spec import OkrDefs, load_defs
from tests.conftest import write_defs


def meta_defs(tmp_path: Path, timezone: str | None) -> OkrDefs:
    declared = f"\n    timezone: {timezone}" if timezone else ""
    return load_defs(
        write_defs(
            tmp_path / "defs",
            {
                "sources.yaml": f"""
sources:
  meta:
    type: meta_ads
    account_ids: [act_111, act_222]{declared}
""",
                "metrics.yaml": "metrics:\n  spend: {agg: sum, unit: currency}\n",
                "objectives/o.yaml": """
objectives:
  - id: o
    title: Spend
    period: 2026-Q1
    key_results:
      - {id: spend, metric: spend, baseline: 0, target: 100}
      - {id: spend2, metric: spend, baseline: 0, target: 200}
""",
            },
        )
    )


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Asia/Ho_Chi_Minh", "Asia/Ho_Chi_Minh", True),
        ("Asia/Saigon", "Asia/Ho_Chi_Minh", True),  # an alias: one zone, two names
        ("Etc/UTC", "UTC", True),
        ("Asia/Bangkok", "Asia/Ho_Chi_Minh", False),  # UTC+7 today, yet two zones with their own history
        ("America/Los_Angeles", "Asia/Ho_Chi_Minh", False),
        ("../../../etc/passwd", "UTC", False),  # a name that is a path is no zone, and no file is read
        ("Not/AZone", "Not/AZone2", False),
    ],
)
def test_same_zone_means_one_set_of_rules(a: str, b: str, same: bool) -> None:
    assert same_zone(a, b) is same


def test_an_alias_of_the_declared_zone_is_accepted_and_another_zone_rejected(tmp_path: Path) -> None:
    defs = meta_defs(tmp_path, "Asia/Ho_Chi_Minh")
    assert compare(defs, "meta", {"111": "Asia/Saigon", "222": "Asia/Ho_Chi_Minh"}, "UTC").mismatch is None
    check = compare(defs, "meta", {"111": "Asia/Bangkok", "222": "Asia/Bangkok"}, "UTC")
    assert check.mismatch == (
        "source meta: sources.yaml declares timezone Asia/Ho_Chi_Minh, but the Meta API reports Asia/Bangkok "
        "(ad accounts 111, 222); its days, partitions, 'yesterday' and is_settled would be counted in the wrong "
        "zone, so nothing was loaded. If the account's zone is right, write `timezone: Asia/Bangkok` for source "
        "meta (sources.yaml line 5) and run again"
    )


def test_accounts_of_one_source_in_two_zones_are_told_to_split(tmp_path: Path) -> None:
    reported = {"111": "Asia/Ho_Chi_Minh", "222": "America/Los_Angeles"}
    declared = compare(meta_defs(tmp_path / "a", "Asia/Ho_Chi_Minh"), "meta", reported, "UTC")
    assert declared.mismatch == (
        "the Meta accounts of source meta report 2 time zones (ad account 111: Asia/Ho_Chi_Minh, ad account 222: "
        "America/Los_Angeles), but a source has one time zone: put the accounts of each zone in a source of their "
        "own, each with its `timezone:` in sources.yaml; nothing was loaded"
    )
    undeclared = compare(meta_defs(tmp_path / "b", None), "meta", reported, "UTC")
    assert undeclared.mismatch is None and undeclared.misdated and "put the accounts" in (undeclared.advice or "")


def test_an_undeclared_zone_is_advice_and_a_missing_report_is_no_evidence(tmp_path: Path) -> None:
    defs = meta_defs(tmp_path, None)
    utc = compare(defs, "meta", {"111": "Etc/UTC"}, "UTC")
    assert (utc.mismatch, utc.misdated, utc.reported_text) == (None, False, "Etc/UTC")
    assert (utc.advice or "").startswith(
        "source meta declares no timezone in sources.yaml, so its partitions, 'yesterday' and is_settled are "
        "counted in UTC and the Meta API reports Etc/UTC too (ad account 111). Write `timezone: Etc/UTC` for "
        "source meta (sources.yaml line 2)"
    )
    silent = compare(meta_defs(tmp_path / "d", "UTC"), "meta", {"111": None}, "UTC")  # e.g. GA4 with no rows
    assert (silent.mismatch, silent.advice, silent.reported) == (None, None, {})
