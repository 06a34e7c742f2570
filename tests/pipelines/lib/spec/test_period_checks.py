"""Distinct-count metrics (`agg: period`) in okr_defs: what is accepted, and each misuse as file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.lib.api_sources import connector_config
from pipelines.lib.spec import DefsErrors, load_defs
from pipelines.lib.spec.period_checks import period_columns
from tests.conftest import write_defs

SOURCES = """
sources:
  web:
    type: ga4
    property_id: "123456"
    metrics: {sessions: sessions, users: totalUsers}
    credentials: anonymous
    endpoint: "http://127.0.0.1:9"
"""
METRICS = """
metrics:
  sessions: {agg: sum}
  users: {agg: period, label: Users}
"""
OBJECTIVES = """
objectives:
  - id: reach
    title: Reach more people
    period: 2026-Q1
    key_results:
      - {id: users, metric: users, baseline: 1000, target: 2000, filters: {campaign: "spring*"}}
      - {id: sessions, metric: sessions, baseline: 10, target: 20}
"""


def defs_at(tmp_path: Path, sources: str = SOURCES, metrics: str = METRICS, objectives: str = OBJECTIVES) -> Path:
    files = {"sources.yaml": sources, "metrics.yaml": metrics, "objectives/o.yaml": objectives}
    return write_defs(tmp_path / "defs", files)


def errors_of(folder: Path) -> list[str]:
    with pytest.raises(DefsErrors) as caught:
        load_defs(folder)
    return [str(e).replace(f"{folder}/", "") for e in caught.value.errors if not e.warning]


def test_a_period_metric_is_routed_to_period_queries(tmp_path: Path) -> None:
    defs = load_defs(defs_at(tmp_path))
    config = connector_config(defs, "web")
    assert (config.metrics, config.period_metrics) == ({"sessions": "sessions"}, {"users": "totalUsers"})
    assert period_columns(defs) == {"users"}


def test_period_metric_in_a_ratio_or_an_expression_is_a_file_line_error(tmp_path: Path) -> None:
    metrics = (
        METRICS
        + """  users_per_session: {ratio: [users, sessions]}
  reach_index: {expr: "sum(users) / nullif(sum(sessions), 0)"}
"""
    )
    assert errors_of(defs_at(tmp_path, metrics=metrics)) == [
        "metrics.yaml:4:23: metric users_per_session: 'users' is a distinct count (agg: period) and cannot be part "
        "of a ratio of sums: its values cannot be added over days or campaigns",
        "metrics.yaml:5:17: metric reach_index: 'users' is a distinct count (agg: period) and cannot be used in an "
        "expression, which aggregates daily rows",
    ]


def test_users_mapped_as_a_daily_metric_points_at_agg_period(tmp_path: Path) -> None:
    metrics = METRICS.replace("users: {agg: period, label: Users}", "users: {agg: sum}")
    assert errors_of(defs_at(tmp_path, metrics=metrics)) == [
        "sources.yaml:5:35: source web: GA4 'totalUsers' counts distinct users; summed over days it counts a "
        "returning user once per day. Declare users: {agg: period} in metrics.yaml so each KR window is queried whole"
    ]


def test_misused_period_krs_and_sources_that_cannot_answer(tmp_path: Path) -> None:
    sources = (
        SOURCES
        + """  shop:
    type: file
    path: x.csv
    platform: shop
    account_id: a
    date: {column: d}
    campaign_name: c
    metrics: {users: u}
  web2:
    type: ga4
    property_id: "654321"
    metrics: {sessions: sessions, users: activeUsers}
    credentials: anonymous
    endpoint: "http://127.0.0.1:9"
"""
    )
    objectives = """
objectives:
  - id: reach
    title: Reach more people
    period: 2026-Q1
    key_results:
      - {id: both, metric: users, baseline: 1000, target: 2000}
      - {id: held, metric: users, direction: stay_above, target: 50, filters: {source: web}}
      - {id: unified, metric: users, baseline: 1, target: 2, filters: {source: web, unified_campaign: tet}}
      - {id: none, metric: users, baseline: 1, target: 2, filters: {source: shop}}
      - {id: ok, metric: users, direction: stay_above, measure: at_end, target: 50, filters: {source: web2}}
"""
    assert errors_of(defs_at(tmp_path, sources=sources, objectives=objectives)) == [
        "objectives/o.yaml:6:20: key result both: 'users' comes from 2 GA4 sources (web, web2); users of different "
        "properties cannot be de-duplicated, so choose one with filters: {source: web}",
        "objectives/o.yaml:7:35: key result held: 'users' is a distinct count with no daily values, so the share of "
        "days it held cannot be measured; use measure: at_end (the value over the window at its end)",
        "objectives/o.yaml:8:85: key result unified: a period query cannot filter on unified_campaign (a link the "
        "mart makes between platforms); filter GA4 on campaign or campaign_id",
        "objectives/o.yaml:9:20: key result none: no GA4 source maps 'users' (agg: period) under this KR's "
        "platform/source/account filters; map it in a GA4 source's metrics, e.g. users: totalUsers",
        "sources.yaml:15:15: source shop: 'users' is a distinct count (agg: period) and a file of daily rows cannot "
        "give it for a KR window (days do not add up); only a GA4 source can be asked for a whole window",
    ]


def test_money_cannot_be_a_period_metric(tmp_path: Path) -> None:
    metrics = METRICS + "  revenue_once: {agg: period, unit: currency}\n"
    assert errors_of(defs_at(tmp_path, metrics=metrics)) == [
        "metrics.yaml:4:18: metric revenue_once: money adds up over days; give it agg: sum (agg: period is for "
        "distinct counts such as users)"
    ]


def test_a_ga4_source_needs_a_daily_metric_beside_its_distinct_counts(tmp_path: Path) -> None:
    sources = SOURCES.replace("metrics: {sessions: sessions, users: totalUsers}", "metrics: {users: totalUsers}")
    objectives = OBJECTIVES.replace("      - {id: sessions, metric: sessions, baseline: 10, target: 20}\n", "")
    assert errors_of(defs_at(tmp_path, sources=sources, objectives=objectives)) == [
        "sources.yaml:3:5: source web: source 'web', GA4 property 123456: no daily metrics are mapped; map at least one, e.g. sessions: sessions (the "
        "nightly load and the freshness check read it; distinct counts such as users are only asked per KR window)"
    ]
