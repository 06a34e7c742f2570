"""A window write killed halfway, or refused by a full disk, leaves the previous window exactly as it was.

`storage.replace_source_window` is one transaction (DELETE the window, INSERT the new rows). These tests run
it in a real separate process on a real DuckDB file, interrupt it the hard way (SIGKILL, EFBIG), then open
the file again as the next run would.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pipelines.lib import db, storage
from tests.conftest import REPO
from tests.pipelines.lib.storage_child import SOURCE, WINDOW, new_rows
from tests.reliability_kit import checksums

GRAIN_ROWS = 30_000  # 60,000 metric rows: 6 Arrow batches, the kill lands after the 3rd


GRAIN = ["platform", "account_id", "campaign_id", "campaign_name", "channel", "source_medium", "report_date"]
FIXED = {"currency_code": "USD", "account_timezone": "UTC", "source_rows": 1}


def _old_window() -> pd.DataFrame:
    """What the previous run stored: 4 campaigns × 5 days, 31 December to 4 January (the window and a day either side)."""
    days = [dt.date(2025, 12, 31) + dt.timedelta(days=i) for i in range(5)]
    rows = [
        ("meta_ads", "acct-1", f"old-{c}", f"Old {c}", "paid_social", "(not set)", day, 10.0 * c + d, 1.5 * c + d)
        for d, day in enumerate(days)
        for c in range(4)
    ]
    return pd.DataFrame(rows, columns=[*GRAIN, "clicks", "spend"]).assign(**FIXED)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A database holding source `shop` (the window and a day either side) and a second source `other`."""
    path = tmp_path / "okr.duckdb"
    wide = _old_window()
    with db.connect(path) as conn:
        storage.ensure_schema(conn)
        storage.replace_source_window(
            conn,
            "file",
            SOURCE,
            storage.to_long(wide, SOURCE, ["clicks", "spend"]),
            (dt.date(2025, 12, 31), dt.date(2026, 1, 4)),
        )
        storage.replace_source_window(
            conn,
            "file",
            "other",
            storage.to_long(wide, "other", ["clicks", "spend"]),
            (dt.date(2025, 12, 31), dt.date(2026, 1, 4)),
        )
        storage.rebuild_mart(conn, [SOURCE, "other"])
    return path


def _window_totals(path: Path) -> list[tuple]:
    with db.connect(path, read_only=True) as conn:
        return conn.execute(
            "SELECT source, report_date, metric, count(*), sum(value) FROM raw.file_exports GROUP BY ALL ORDER BY ALL"
        ).fetchall()


def _start(mode: str, path: Path, signal_file: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.pipelines.lib.storage_child", mode, str(path), str(signal_file), *extra],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(signal_file: Path, child: subprocess.Popen, limit: float = 60.0) -> str:
    """The child's signal, or the test fails with the child's stderr (never a silent timeout)."""
    deadline = time.monotonic() + limit
    while not signal_file.exists():
        if child.poll() is not None:
            pytest.fail(f"the writer exited with {child.returncode} before signalling: {child.stderr.read()}")
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail("the writer never signalled")
        time.sleep(0.02)
    time.sleep(0.05)  # the signal file is written in one call; let the write finish
    return signal_file.read_text(encoding="utf-8")


def _kill(child: subprocess.Popen) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    child.stdout.close()
    child.stderr.close()


def test_sigkill_in_the_middle_of_a_window_write_keeps_the_previous_window(warehouse: Path, tmp_path: Path) -> None:
    before, totals = checksums(warehouse), _window_totals(warehouse)
    child = _start("pause", warehouse, tmp_path / "halfway", str(GRAIN_ROWS))
    inserted = int(_wait_for(tmp_path / "halfway", child))
    assert inserted == 30_000  # half of the 60,000 metric rows were already inside the transaction
    _kill(child)

    assert checksums(warehouse) == before  # every table, every row, byte for byte
    assert _window_totals(warehouse) == totals
    assert totals[:3] == [
        ("other", dt.date(2025, 12, 31), "clicks", 4, 60),
        ("other", dt.date(2025, 12, 31), "spend", 4, 9),
        ("other", dt.date(2026, 1, 1), "clicks", 4, 64),
    ]

    # The next run writes the same window again, in this process, and completes it.
    with db.connect(warehouse) as conn:
        written = storage.replace_source_window(conn, "file", SOURCE, new_rows(GRAIN_ROWS), WINDOW)
        stored = conn.execute(
            "SELECT report_date, metric, count(*), sum(value) FROM raw.file_exports WHERE source = ? "
            "GROUP BY ALL ORDER BY ALL",
            [SOURCE],
        ).fetchall()
    assert written == 2 * GRAIN_ROWS
    expected = new_rows(GRAIN_ROWS).groupby(["report_date", "metric"])["value"].agg(["count", "sum"])
    in_window = [(d, m, n, float(v)) for d, m, n, v in stored if WINDOW[0] <= d <= WINDOW[1]]
    assert in_window == [(d, m, int(n), float(v)) for (d, m), (n, v) in expected.iterrows()]
    # 1 January holds k = 0, 3, 6, ...: clicks (3j mod 7) + 1 over 10,000 j = 1,428 cycles of 7 (28 each) + (1, 4, 7, 3)
    assert in_window[0] == (dt.date(2026, 1, 1), "clicks", 10_000, 1_428 * 28 + 15.0)
    assert [(d, m, n, float(v)) for d, m, n, v in stored if not WINDOW[0] <= d <= WINDOW[1]] == [
        (dt.date(2025, 12, 31), "clicks", 4, 60.0),
        (dt.date(2025, 12, 31), "spend", 4, 9.0),
        (dt.date(2026, 1, 4), "clicks", 4, 76.0),
        (dt.date(2026, 1, 4), "spend", 4, 25.0),
    ]
    after = checksums(warehouse)
    assert after["raw.ga4_reports"] == before["raw.ga4_reports"]
    assert (
        after["marts.campaign_daily_metrics"] == before["marts.campaign_daily_metrics"]
    )  # rebuilt only by the mart step


def test_sigkill_after_commit_keeps_the_new_window(warehouse: Path, tmp_path: Path) -> None:
    """A commit that only reached the write-ahead log survives the kill: the next open replays it."""
    child = _start("committed", warehouse, tmp_path / "done", "300")
    assert _wait_for(tmp_path / "done", child) == "committed"
    _kill(child)
    with db.connect(warehouse, read_only=True) as conn:
        stored = conn.execute(
            "SELECT count(*), sum(value), count(DISTINCT campaign_id) FROM raw.file_exports "
            "WHERE source = ? AND report_date BETWEEN ? AND ?",
            [SOURCE, *WINDOW],
        ).fetchone()
    # clicks k mod 7 + 1 over k < 300: 42 cycles of 28 + (1..6) = 1,197; spend (k mod 11) / 4: (27 × 55 + 3) / 4 = 372
    assert (stored[0], float(stored[1]), stored[2]) == (600, 1_197 + 372.0, 100)


@pytest.mark.parametrize(
    ("grain_rows", "suffix"),
    [(10_000, ".wal"), (30_000, "")],
    ids=["wal", "checkpoint"],
)
def test_full_disk_fails_the_write_and_keeps_the_previous_window(
    warehouse: Path, tmp_path: Path, grain_rows: int, suffix: str
) -> None:
    """EFBIG from RLIMIT_FSIZE stands in for ENOSPC: no root needed, and DuckDB sees a failed write() either way.

    A small window fails writing the write-ahead log at commit; a large one commits straight into the
    database file (a checkpoint), fails there, and DuckDB invalidates that connection's database. Both
    times the file on disk still holds the previous window.
    """
    before = checksums(warehouse)
    child = _start("fsize", warehouse, tmp_path / "unused", str(grain_rows), "0")
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    outcome = json.loads(out)
    assert outcome["error"] == "TransactionException", outcome
    assert f'Could not write file "{warehouse}{suffix}": File too large' in outcome["message"]

    assert checksums(warehouse) == before
    with db.connect(warehouse) as conn:  # space is back: the next run writes the window
        storage.replace_source_window(conn, "file", SOURCE, new_rows(grain_rows), WINDOW)
        count = conn.execute(
            "SELECT count(*) FROM raw.file_exports WHERE source = ? AND report_date BETWEEN ? AND ?", [SOURCE, *WINDOW]
        ).fetchone()[0]
    assert count == 2 * grain_rows
