"""DuckDB's memory limit for the scoring pass and where it spills (pipelines.lib.db)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from pipelines.lib import db, storage
from pipelines.lib.scoring.engine import compute_scores
from pipelines.lib.spec import load_defs
from tests.conftest import write_defs


def _setting(conn: duckdb.DuckDBPyConnection, name: str) -> str:
    return conn.execute("SELECT current_setting(?)", [name]).fetchone()[0]


def test_the_scoring_limit_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv(db.SCORING_MEMORY_ENV, raising=False)
    assert db.scoring_memory_limit() == "1.5GB"
    monkeypatch.setenv(db.SCORING_MEMORY_ENV, " 4GB ")
    assert db.scoring_memory_limit() == "4GB"
    monkeypatch.setenv(db.SCORING_MEMORY_ENV, "")
    assert db.scoring_memory_limit() == "1.5GB"


def test_spills_go_next_to_the_database_file(tmp_path: Path) -> None:
    with db.connect(tmp_path / "w.duckdb") as conn:
        assert _setting(conn, "temp_directory") == str(tmp_path / "w.duckdb.tmp")


def test_the_limit_holds_inside_the_block_and_is_restored_after_it(tmp_path: Path) -> None:
    with db.connect(tmp_path / "w.duckdb") as conn:
        before = _setting(conn, "memory_limit")
        with db.memory_limit(conn, "256MB"):
            assert _setting(conn, "memory_limit") == "244.1 MiB"  # 256e6 bytes
        assert _setting(conn, "memory_limit") == before
        with pytest.raises(ZeroDivisionError), db.memory_limit(conn, "256MB"):
            raise ZeroDivisionError
        assert _setting(conn, "memory_limit") == before
        conn.execute("SET memory_limit = '4GB'")  # 3.725 GiB, shown as 3.7 GiB
        with db.memory_limit(conn, "256MB"):
            pass
        restored, unit = _setting(conn, "memory_limit").split()  # put back as shown: within 0.1 GiB
        assert unit == "GiB" and float(restored) == pytest.approx(3.725, abs=0.13)


def test_compute_scores_runs_under_the_scoring_limit(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "w.duckdb"
    defs = load_defs(
        write_defs(
            tmp_path / "defs",
            {
                "sources.yaml": """
sources:
  s: {type: file, path: x.csv, platform: meta_ads, account_id: a, date: {column: d}, campaign_name: c, metrics: {clicks: k}}
""",
                "metrics.yaml": "metrics: {clicks: {agg: sum}}",
                "objectives/o.yaml": """
objectives:
  - {id: o, title: O, period: 2026-Q1, key_results: [{id: k, metric: clicks, baseline: 0, target: 10}]}
""",
            },
        )
    )
    with db.connect(path) as conn:
        storage.ensure_schema(conn)
        before = _setting(conn, "memory_limit")
        monkeypatch.setenv(db.SCORING_MEMORY_ENV, "no size")  # not DuckDB's size syntax: the pass must say so
        with pytest.raises(duckdb.ParserException, match="Memory"):
            compute_scores(conn, defs, dt.date(2026, 1, 31), "r")
        monkeypatch.setenv(db.SCORING_MEMORY_ENV, "64MB")
        scores = compute_scores(conn, defs, dt.date(2026, 1, 31), "r")
        assert list(scores["status"]) == ["stale"]  # the source has no day yet
        assert _setting(conn, "memory_limit") == before
