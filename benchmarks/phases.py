"""What each child process runs: generate the mart, then (a) engine, (b) hand-written SQL, (c) pandas.

Every phase opens the DuckDB file read-only after generation, so no phase can change what the next one
reads, and returns its actuals keyed "objective_id/kr_id" (None = no data) with its own time and memory.
Work outside the measured block (loading okr_defs, reading the mart into pandas) is timed separately.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from benchmarks.data import MartFacts, generate_mart, mart_facts
from benchmarks.handsql import hand_sql_actuals, load_kr_table
from benchmarks.krs import BenchKr
from benchmarks.measure import PhaseStats, timed
from benchmarks.pandas_baseline import load_frame, pandas_actuals
from pipelines.lib import db
from pipelines.lib.scoring.engine import compute_scores
from pipelines.lib.spec import load_defs


@dataclass
class PhaseValue:
    """One implementation's answer and cost; `error` says why there are no actuals (e.g. out of memory)."""

    stats: PhaseStats
    actuals: dict[str, float | None] = field(default_factory=dict)
    error: str | None = None
    notes: dict[str, float] = field(default_factory=dict)


def _settings(conn: duckdb.DuckDBPyConnection, spill_dir: Path) -> None:
    """Same for (a) and (b): rich owns the terminal, and a spill goes to the benchmark's temp folder, not ./.tmp."""
    conn.execute("SET enable_progress_bar = false")
    conn.execute("SET temp_directory = ?", [str(spill_dir)])


def generate_phase(messages: mp.Queue, path: Path, rows: int, seed: int) -> tuple[PhaseStats, MartFacts]:
    """Timed apart from the implementations: building the primary-key index alone takes GBs."""
    stats = PhaseStats()
    with timed(stats):
        generate_mart(path, rows, seed)
    return stats, mart_facts(path)


def engine_phase(messages: mp.Queue, path: Path, defs_dir: Path, as_of: dt.date) -> PhaseValue:
    """(a) `compute_scores`: build_specs, spec tables, the grouped pass and kr_scores; no history writes."""
    started = time.perf_counter()
    defs = load_defs(defs_dir)
    value = PhaseValue(PhaseStats(), notes={"defs_load_seconds": time.perf_counter() - started})
    with db.connect(path, read_only=True) as conn:
        _settings(conn, path.parent / "spill")
        try:
            with timed(value.stats, conn):
                scores = compute_scores(conn, defs, as_of, run_id="benchmark")
        except (duckdb.OutOfMemoryException, MemoryError) as exc:  # report how far it got, keep the figures
            value.error = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
            return value
    for row in scores.itertuples():
        value.actuals[f"{row.objective_id}/{row.kr_id}"] = None if pd.isna(row.actual) else float(row.actual)
    return value


def hand_sql_phase(messages: mp.Queue, path: Path, krs: list[BenchKr]) -> PhaseValue:
    """(b) The KR table load and the single GROUP BY, both inside the measured block."""
    value = PhaseValue(PhaseStats())
    with db.connect(path, read_only=True) as conn:
        _settings(conn, path.parent / "spill")
        try:
            with timed(value.stats, conn):
                load_kr_table(conn, krs)
                value.actuals = hand_sql_actuals(conn)
        except (duckdb.OutOfMemoryException, MemoryError) as exc:
            value.error = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return value


def pandas_phase(messages: mp.Queue, path: Path, krs: list[BenchKr]) -> PhaseValue:
    """(c) Read the mart into a DataFrame (timed apart), then the per-KR loop over `krs` (the measured part)."""
    started = time.perf_counter()
    with db.connect(path, read_only=True) as conn:
        conn.execute("SET enable_progress_bar = false")
        frame = load_frame(conn)
    value = PhaseValue(PhaseStats(), notes={"frame_load_seconds": time.perf_counter() - started})
    value.notes["frame_bytes"] = float(frame.memory_usage(deep=True).sum())
    messages.put(("total", len(krs)))
    try:
        with timed(value.stats):
            value.actuals = pandas_actuals(frame, krs, advance=lambda: messages.put(("advance", 1)))
    except MemoryError as exc:
        value.error = f"MemoryError: {exc}"
    return value
