"""Idempotency per asset: materializing an asset again for a day or a range it already holds changes nothing.

Why per asset and not per run: a step retry, a run re-executed from the UI, or a backfill launched twice
re-materializes single assets, not always the whole chain. So the demo is loaded once (every asset, over
February 2026), then each asset is materialized again on its own — a raw asset for one day and for the whole
range — and every table is compared with what it held before, rows in order and without load timestamps.
The two history tables are append-only: one more row per KR (and per objective), earlier rows unchanged down
to their run id and timestamp.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest

from pipelines.assets.automation import as_of_run_config
from pipelines.assets.build import build_assets, build_definitions, build_resources
from pipelines.assets.partitions import range_tags, source_groups
from pipelines.demo.generator import DEMO_AS_OF
from pipelines.lib import db
from pipelines.lib.spec import load_defs
from pipelines.report.render import REPORT_NAME
from tests.conftest import REPO
from tests.fixtures import demo_defs
from tests.reliability_kit import table_rows

TODAY = dt.date(2026, 3, 1)  # fixes the partitions' start
# The assets docs/reliability.md names for this promise; any asset added later is covered too (read from the build).
NAMED = {
    "raw/ga4_web",
    "raw/google_ads",
    "raw/meta_ads",
    "marts/campaign_daily",
    "okr/kr_scores",
    "okr/objective_scores",
    "okr/score_history",
    "report/progress_page",
}
APPEND_ONLY = ("okr.score_history", "okr.objective_history")
# February objectives over all three sources, and a KPI.
OBJECTIVES = """
objectives:
  - id: feb-paid
    title: February paid media
    period: {start: 2026-02-01, end: 2026-02-28}
    key_results:
      - {id: purchases, metric: conversions, filters: {platform: [google_ads, meta_ads]}, baseline: 0, target: 3000}
      - {id: cpa, metric: cpa, filters: {platform: [google_ads, meta_ads]}, baseline: 170000, target: 140000}
  - id: feb-web
    title: February web store
    period: {start: 2026-02-01, end: 2026-02-28}
    key_results:
      - {id: sessions, metric: sessions, filters: {platform: ga4}, baseline: 0, target: 500000}
      - {id: conversion-rate, metric: conversion_rate, filters: {platform: ga4}, baseline: 0.02, target: 0.03}
kpis:
  - {id: blended-cpc, title: Blended CPC, metric: cpc, filters: {platform: [google_ads, meta_ads]},
     band: {stay_below: 5000}}
"""


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo exports with the objectives above, every asset materialized once over the whole range."""
    root = tmp_path_factory.mktemp("idempotency")
    defs_dir = demo_defs(root, OBJECTIVES)
    assets = build_assets(defs_dir, today=TODAY)
    result = dg.materialize(
        assets,
        resources=build_resources(defs_dir, root / "okr.duckdb"),
        run_config=as_of_run_config(assets, DEMO_AS_OF),
        tags=range_tags(start_of(root), DEMO_AS_OF),
    )
    assert result.success
    return root


@pytest.fixture
def copy(loaded: Path, tmp_path: Path) -> Path:
    root = tmp_path / "copy"
    shutil.copytree(loaded, root)
    return root


def start_of(root: Path) -> dt.date:
    (group,) = source_groups(load_defs(root / "okr_defs"), TODAY)
    return group.start


def rematerialize(root: Path, key: str, **partition: object) -> str:
    """Materialize one asset definition (every key of a multi-asset) again, alone, as a retry would; its run id."""
    defs_dir, database = root / "okr_defs", root / "okr.duckdb"
    asset = asset_definition(build_definitions(defs_dir, database, today=TODAY), key)
    result = dg.materialize(
        [asset],
        resources=build_resources(defs_dir, database),
        run_config=as_of_run_config([asset], DEMO_AS_OF),
        **partition,
    )
    assert result.success
    return result.run_id


def without_history(rows: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    return {name: table for name, table in rows.items() if name not in APPEND_ONLY}


def rows_of_run(database: Path, table: str, run_id: str) -> int:
    with db.connect(database, read_only=True) as conn:
        query = f"SELECT count(*) FROM {table} WHERE run_id = ?"  # noqa: S608 - table from APPEND_ONLY
        return conn.execute(query, [run_id]).fetchone()[0]


def every_asset() -> list[str]:
    """One key per asset definition of the shipped code location (a multi-asset by its first key)."""
    return [min(a.keys).to_user_string() for a in build_assets(REPO / "okr_defs", today=TODAY)]


def asset_definition(defs: dg.Definitions, key: str) -> dg.AssetsDefinition:
    asset_key = dg.AssetKey.from_user_string(key)
    (asset,) = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition) and asset_key in a.keys]
    return asset


def test_the_loaded_demo_is_what_the_idempotency_test_re_does(loaded: Path) -> None:
    rows = table_rows(loaded / "okr.duckdb", volatile=False)
    assert start_of(loaded) == dt.date(2026, 2, 1)  # the objectives start the partitions
    with db.connect(loaded / "okr.duckdb", read_only=True) as conn:
        per_source = conn.execute(
            "SELECT source, count(*), count(DISTINCT report_date) FROM raw.file_exports GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    assert per_source == [("ga4_web", 774, 22), ("google_ads", 410, 22), ("meta_ads", 330, 22)]
    assert len(rows["raw.file_exports"]) == len(rows["marts.campaign_daily_metrics"]) == 1_514
    assert (len(rows["okr.kr_scores"]), len(rows["okr.objective_scores"])) == (5, 2)
    assert (len(rows["okr.score_history"]), len(rows["okr.objective_history"])) == (5, 2)


def test_every_named_asset_is_covered(tmp_path: Path) -> None:
    defs = build_definitions(REPO / "okr_defs", tmp_path / "okr.duckdb", today=TODAY)
    covered = {k.to_user_string() for key in every_asset() for k in asset_definition(defs, key).keys}
    assert covered >= NAMED


@pytest.mark.parametrize("key", every_asset())
def test_materializing_an_asset_again_changes_no_table(copy: Path, key: str) -> None:
    database, report = copy / "okr.duckdb", copy / REPORT_NAME
    partitioned = asset_definition(build_definitions(copy / "okr_defs", database, today=TODAY), key).partitions_def
    before = table_rows(database, volatile=False)
    history = {name: table_rows(database)[name] for name in APPEND_ONLY}  # with run ids and timestamps
    appended = {"okr.score_history": len(before["okr.kr_scores"]), "okr.objective_history": 2}
    page = report.read_bytes()

    day, whole = {"partition_key": "2026-02-15"}, {"tags": range_tags(start_of(copy), DEMO_AS_OF)}
    for partition in [day, whole] if partitioned is not None else [{}]:
        run_id = rematerialize(copy, key, **partition)
        after = table_rows(database, volatile=False)
        assert without_history(after) == without_history(before), f"{key} {partition}: a table changed"
        for name in APPEND_ONLY:
            now = Counter(table_rows(database)[name])
            assert Counter(history[name]) - now == Counter()  # every earlier row still there, column for column
            added = sum((now - Counter(history[name])).values())
            assert added == (appended[name] if key == "okr/kr_scores" else 0)
            assert rows_of_run(database, name, run_id) == added
    if key == "report/progress_page":
        assert report.read_bytes() == page  # the same scores render the same page, byte for byte
