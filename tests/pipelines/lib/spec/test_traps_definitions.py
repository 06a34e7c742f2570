"""`okr validate` warnings for two platform traps that a definition can walk into without any error:
conversions of different platforms added up (trap 8) and a distinct count in a file export summed over days
(trap 2). Both are warnings at the file:line to look at; neither blocks a run."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from pipelines.cli.app import app
from tests.conftest import write_defs

CONVERSION_SOURCES = """
sources:
  gads:
    type: google_ads
    customer_ids: ["555-000-1234"]
  meta:
    type: meta_ads
    account_ids: [act_1029384756]
  meta_eu:
    type: meta_ads
    account_ids: [act_3344556677]
  meta_leads:
    type: meta_ads
    account_ids: [act_2233445566]
    conversion_action_type: lead
    attribution_windows: [1d_click]
  web:
    type: ga4
    property_id: "412345678"
    metrics: {sessions: sessions, conversions: "keyEvents:purchase"}
  tiktok:
    type: file
    path: tiktok/*.csv
    platform: tiktok_ads
    account_id: "77"
    date: {column: day}
    campaign_id: id
    channel: Paid Social
    metrics: {spend: cost, clicks: clicks, conversions: Complete payment}
"""
CONVERSION_METRICS = """
metrics:
  spend: {agg: sum, unit: currency}
  clicks: {agg: sum}
  sessions: {agg: sum}
  conversions: {agg: sum}
  conversions_value: {agg: sum, unit: currency}
  cpa: {ratio: [spend, conversions], unit: currency}
  cpc: {ratio: [spend, clicks], unit: currency}
  roas: {ratio: [conversions_value, spend]}
  margin: {expr: "(sum(conversions_value) - sum(spend)) / nullif(sum(spend), 0)", unit: percent}
"""
CONVERSION_OBJECTIVES = """
objectives:
  - id: paid
    title: Profitable paid media
    period: 2026-Q1
    key_results:
      - id: all-cpa
        metric: cpa
        baseline: 200
        target: 150
      - {id: meta-cpa, metric: cpa, filters: {platform: meta_ads}, baseline: 200, target: 150}
      - {id: meta-purchases, metric: conversions, filters: {source: [meta, meta_eu]}, baseline: 10, target: 20}
      - {id: social-cpa, metric: cpa, filters: {channel: Paid Social}, baseline: 200, target: 150}
  - id: efficiency
    title: Efficient spend
    period: 2026-Q1
    key_results:
      - {id: gads-roas, metric: roas, filters: {account: "5550001234"}, baseline: 3, target: 4}
      - {id: clicks, metric: clicks, baseline: 100, target: 200}
      - {id: cpc, metric: cpc, baseline: 2, target: 1}
kpis:
  - id: margin
    title: Margin on ad spend
    metric: margin
    band: {stay_above: 0.1}
"""


def validate(folder: Path) -> tuple[int, list[str]]:
    """`okr validate` in process: exit code and printed lines, paths relative to the defs folder."""
    result = CliRunner().invoke(app, ["validate", "--defs", str(folder)])
    return result.exit_code, [line.replace(f"{folder}/", "") for line in result.output.splitlines()]


def line_of(folder: Path, rel: str, needle: str) -> int:
    """1-based line of the first line of a defs file holding `needle`."""
    lines = (folder / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_conversions_of_several_definitions_are_a_warning_naming_each_one(tmp_path: Path) -> None:
    folder = write_defs(
        tmp_path / "defs",
        {
            "sources.yaml": CONVERSION_SOURCES,
            "metrics.yaml": CONVERSION_METRICS,
            "objectives/o.yaml": CONVERSION_OBJECTIVES,
        },
    )
    code, lines = validate(folder)
    assert code == 0, lines
    assert lines[-1].startswith(f"{folder}: OK — 6 source(s)")
    warned = {line.split(": warning: ")[0]: line.split(": warning: ")[1] for line in lines if "conversions of" in line}
    o = "objectives/o.yaml"
    all_cpa = f"{o}:{line_of(folder, o, 'id: all-cpa')}:9"
    assert set(warned) == {
        all_cpa,
        f"{o}:{line_of(folder, o, 'id: meta-cpa')}:9",
        f"{o}:{line_of(folder, o, 'id: social-cpa')}:9",
        f"{o}:{line_of(folder, o, 'id: margin')}:5",
    }
    # No platform filter: five definitions, the two Meta sources counting the same action_type named once.
    assert warned[all_cpa] == (
        "key result all-cpa: metric 'cpa' adds up conversions of 5 different definitions ("
        "gads: Google Ads primary conversions (metrics.conversions); "
        "meta, meta_eu: Meta action_type offsite_conversion.fb_pixel_purchase (7d_click+1d_view); "
        "meta_leads: Meta action_type lead (1d_click); "
        "tiktok: tiktok_ads export, conversions = column 'Complete payment'; "
        "web: GA4 conversions = keyEvents:purchase). "
        "Each counts a different event, so the total mixes them: keep it if a cross-platform figure is meant "
        "(`okr explain` lists the definitions behind the value), or filter on one platform or source"
    )
    # One platform can still hold two definitions: Meta purchases and Meta leads.
    meta = warned[f"{o}:{line_of(folder, o, 'id: meta-cpa')}:9"]
    assert "2 different definitions" in meta and "meta_leads: Meta action_type lead" in meta
    # A channel filter leaves out the sources whose rows all carry another channel (Google Ads: Paid Search);
    # GA4 keeps its own channel per row, so it may still match.
    social = warned[f"{o}:{line_of(folder, o, 'id: social-cpa')}:9"]
    assert "4 different definitions" in social and "gads" not in social and "web: GA4" in social
    # The KPI's expression reads conversions_value: GA4 and the export map none, so three Ads definitions.
    margin = warned[f"{o}:{line_of(folder, o, 'id: margin')}:5"]
    assert margin.startswith("kpi margin: metric 'margin' adds up conversions of 3 different definitions (gads:")
    # Silent: one definition (meta-purchases, gads-roas), no conversions (clicks, cpc).
    assert not any(k in " ".join(warned.values()) for k in ("meta-purchases", "gads-roas", "clicks:", "cpc:"))


def test_a_distinct_count_column_summed_over_days_is_a_warning_at_its_mapping(tmp_path: Path) -> None:
    sources = """
sources:
  meta_export:
    type: file
    path: meta/*.csv
    platform: meta_ads
    account_id: "1029384756"
    date: {column: Reporting starts}
    campaign_id: Campaign ID
    metrics:
      spend: Amount spent
      reach: Reach
      unique_clicks: {column: Unique link clicks}
      frequency: FREQUENCY
      reach_to_date: Reach (cumulative)
      impressions: Impressions
  ga4_export:
    type: file
    path: ga4/*.csv
    platform: ga4
    account_id: "412345678"
    date: {column: date, format: "%Y%m%d"}
    campaign_name: sessionCampaignName
    metrics:
      sessions: sessions
      users: totalUsers
"""
    metrics = """
metrics:
  spend: {agg: sum, unit: currency}
  impressions: {agg: sum}
  sessions: {agg: sum}
  reach: {agg: sum}
  unique_clicks: {agg: sum}
  frequency: {agg: sum, unit: number}
  reach_to_date: {agg: max}
  users: {agg: sum}
"""
    objectives = """
objectives:
  - id: awareness
    title: Be seen
    period: 2026-Q1
    key_results:
      - {id: reach, metric: reach, baseline: 1000, target: 2000}
      - {id: impressions, metric: impressions, baseline: 1000, target: 2000}
      - {id: sessions, metric: sessions, baseline: 1000, target: 2000}
"""
    folder = write_defs(
        tmp_path / "defs", {"sources.yaml": sources, "metrics.yaml": metrics, "objectives/o.yaml": objectives}
    )
    code, lines = validate(folder)
    assert code == 0, lines
    warned = {line.split(": warning: ")[0]: line.split(": warning: ")[1] for line in lines if "distinct count" in line}
    at = {
        key: f"sources.yaml:{line_of(folder, 'sources.yaml', needle)}:7"
        for key, needle in [
            ("reach", "reach: Reach"),
            ("unique_clicks", "unique_clicks:"),
            ("frequency", "frequency: FREQUENCY"),
            ("users", "users: totalUsers"),
        ]
    }
    assert set(warned) == set(at.values())  # not Reach (cumulative) read with agg: max, not Impressions
    assert warned[at["reach"]] == (
        "source meta_export: column 'Reach' looks like a distinct count (reach, users, unique ..., frequency), "
        "but metric 'reach' adds it up over days (agg: sum). Distinct counts do not add up: a person reached on "
        "ten days is one person, not ten, and a frequency is an average. Only a GA4 API source can answer for a "
        "whole period (agg: period); if this export is cumulative (each day holds the total to date), give reach "
        "agg: max or agg: last in metrics.yaml, otherwise leave the column out"
    )
    assert warned[at["unique_clicks"]].startswith("source meta_export: column 'Unique link clicks' looks like")
    assert warned[at["users"]].startswith("source ga4_export: column 'totalUsers' looks like a distinct count")
