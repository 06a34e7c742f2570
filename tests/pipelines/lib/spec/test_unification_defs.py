"""reporting_currency, fx_rates, campaign_map.yaml and the unified_campaign filter in okr_defs:
what loads, and every mistake reported at its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.lib.spec import DefsErrors, load_defs
from tests.conftest import write_defs
from tests.fixtures import ACCEPTANCE_METRICS, ACCEPTANCE_OBJECTIVES, acceptance_sources


def defs_with(tmp_path: Path, **files: str) -> Path:
    base = {
        "sources.yaml": acceptance_sources("x.csv"),  # one file source: meta_ads, USD
        "metrics.yaml": ACCEPTANCE_METRICS,
        "objectives/aug.yaml": ACCEPTANCE_OBJECTIVES,
    }
    return write_defs(tmp_path, base | files)


def problems(root: Path) -> list[tuple[str, int, str]]:
    with pytest.raises(DefsErrors) as caught:
        load_defs(root)
    return [(e.file.name, e.line, e.message) for e in caught.value.errors]


def test_reporting_currency_and_rates_load(tmp_path: Path) -> None:
    sources = "reporting_currency: VND\nfx_rates:\n  path: fx/*.csv\n  rate: Tỷ giá\n" + acceptance_sources("x.csv")
    defs = load_defs(defs_with(tmp_path, **{"sources.yaml": sources}))
    assert defs.reporting_currency == "VND"
    assert (defs.fx_rates.path, defs.fx_rates.rate, defs.fx_rates.from_currency, defs.fx_rates.max_age_days) == (
        "fx/*.csv",
        "Tỷ giá",
        "from",
        7,
    )
    assert defs.fx_rates.date.column == "date" and defs.campaign_map == []


def test_currency_mistakes_are_reported_at_their_key(tmp_path: Path) -> None:
    no_rates = "reporting_currency: VND\n" + acceptance_sources("x.csv")
    assert problems(defs_with(tmp_path / "a", **{"sources.yaml": no_rates})) == [
        (
            "sources.yaml",
            9,
            "source ab_test: money is in USD but reporting_currency is VND; add fx_rates to sources.yaml to convert it",
        )
    ]
    rates_only = "fx_rates: {path: fx.csv}\n" + acceptance_sources("x.csv")
    assert problems(defs_with(tmp_path / "b", **{"sources.yaml": rates_only})) == [
        ("sources.yaml", 1, "fx_rates: set reporting_currency, the currency money is converted into")
    ]
    typos = "reporting_currency: vnd\nfx_rates: {path: fx.csv, colum: rate}\n" + acceptance_sources("x.csv")
    assert problems(defs_with(tmp_path / "c", **{"sources.yaml": typos})) == [
        ("sources.yaml", 1, "reporting_currency: String should match pattern '^[A-Z]{3}$'"),
        ("sources.yaml", 2, "fx_rates.colum: unknown field"),
    ]
    no_currency = "reporting_currency: USD\n" + acceptance_sources("x.csv").replace("    currency: USD\n", "")
    assert problems(defs_with(tmp_path / "d", **{"sources.yaml": no_currency})) == [
        (
            "sources.yaml",
            5,  # the source itself: it has no currency key to point at
            "source ab_test: maps money metric(s) spend but has no currency; "
            "set currency so they can be converted to the reporting currency USD",
        )
    ]


CAMPAIGN_MAP = """
campaign_map:
  - ga4: {source: ab_tset, campaign_name: Tết 2026}
    ads: {source: ab_test, campaign_id: "1"}
  - ga4: {campaign_id: "1", campaign_name: x}
    ads: {source: ab_test, campaign_id: "1"}
  - ga4: {campaign_name: x}
    ads: {source: ab_test}
  - ga4: {campaign_name: "(not set)"}
    ads: {campaign_id: "2", platform: meta}
  - ga4: {source: ab_test, campaign_name: y}
    ads: {campaign_id: "3"}
  - ga4: {campaign_name: z}
    ads: {campaign_id: "4"}
  - ga4: {campaign_name: z}
    ads: {campaign_id: "4"}
"""


def test_campaign_map_mistakes_are_reported_at_their_line(tmp_path: Path) -> None:
    assert problems(defs_with(tmp_path, **{"campaign_map.yaml": CAMPAIGN_MAP})) == [
        ("campaign_map.yaml", 2, "ga4.source: unknown source 'ab_tset' (did you mean 'ab_test'?)"),
        ("campaign_map.yaml", 4, "campaign_map.1.ga4.campaign_name: give campaign_id or campaign_name, not both"),
        ("campaign_map.yaml", 7, "campaign_map.2.ads: give campaign_id or campaign_name"),
        ("campaign_map.yaml", 8, "campaign_map.3.ga4.campaign_name: '(not set)' names no campaign"),
        ("campaign_map.yaml", 9, "campaign_map.3.ads.platform: unknown field"),
        ("campaign_map.yaml", 10, "ga4.source: 'ab_test' has platform meta_ads; ga4 names a GA4 source"),
        ("campaign_map.yaml", 14, "the same link as line 12"),  # a warning
    ]


def test_valid_links_load_with_their_lines(tmp_path: Path) -> None:
    text = 'campaign_map:\n  - ga4: {campaign_name: "Tết 2026 "}\n    ads: {source: ab_test, campaign_id: "9"}\n'
    defs = load_defs(defs_with(tmp_path, **{"campaign_map.yaml": text}))
    (link,) = defs.campaign_map
    assert (link.ga4.key, link.ads.source, link.ads.campaign_id, defs.anchor(link).line) == (
        "tet 2026",
        "ab_test",
        "9",
        2,
    )


def test_unified_campaign_filters_are_normalized_and_checked(tmp_path: Path) -> None:
    objectives = ACCEPTANCE_OBJECTIVES.replace(
        "filters: {campaign: Test Campaign}, baseline: 0",
        'filters: {unified_campaign: ["Tết-2026", "SALE*"]}, baseline: 0',
    )
    defs = load_defs(defs_with(tmp_path / "a", **{"objectives/aug.yaml": objectives}))
    assert defs.objectives[0].key_results[0].filters.items() == [("unified_campaign", ["tet 2026", "sale*"])]
    bad = ACCEPTANCE_OBJECTIVES.replace(
        "filters: {campaign: Test Campaign}, baseline: 0,", "filters: {unified_campaign: (direct)}, baseline: 0,"
    )
    message = "filters.unified_campaign: a unified_campaign filter names a campaign; rows without one have no unified campaign"
    assert problems(defs_with(tmp_path / "b", **{"objectives/aug.yaml": bad})) == [
        ("aug.yaml", 6, f"objectives.0.key_results.0.{message}")
    ]
