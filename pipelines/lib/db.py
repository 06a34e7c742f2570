"""Open the DuckDB file under a fixed catalog name.

DuckDB names a file's catalog after its stem, so `okr.duckdb` would make `okr.kr_scores`
ambiguous (catalog `okr` or schema `okr`). Attaching the file as `warehouse` keeps every
qualified name in our SQL meaning one thing, whatever the file is called.

Only one process may write a DuckDB file at a time. A second process waits for the lock with backoff
for up to OKR_DB_LOCK_TIMEOUT seconds (default 16), then fails with DuckDB's message, which names the
file and the process holding it.

DuckDB spills what does not fit in memory to `<database file>.tmp` (its own default for a file it opens
itself; an attached file would otherwise spill into the working directory). The scoring pass runs under
a memory limit, OKR_SCORING_MEMORY_LIMIT (default 1.5GB, DuckDB's size syntax), so that scoring a large
mart spills instead of taking most of the machine: without a limit DuckDB may use 80 % of RAM. Other work
on the connection keeps DuckDB's default, because bulk inserts into the mart build its primary-key index
in memory, which a 1.5 GB limit cannot hold at 10M rows (docs/performance.md).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

CATALOG = "warehouse"
LOCK_TIMEOUT_ENV = "OKR_DB_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 16.0
SCORING_MEMORY_ENV = "OKR_SCORING_MEMORY_LIMIT"
DEFAULT_SCORING_MEMORY = "1.5GB"  # with the Python process around it, scoring peaks below 2 GiB RSS


@contextmanager
def connect(path: Path | str, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection whose default catalog is the file; retried with backoff while another process holds it."""
    conn = duckdb.connect(config={"custom_user_agent": "okr-autoscore"})
    try:
        _attach(conn, str(path), read_only)
        conn.execute(f"USE {CATALOG}")
        conn.execute("SET temp_directory = ?", [f"{path}.tmp"])
        yield conn
    finally:
        conn.close()


def lock_timeout() -> float:
    """Seconds to wait for another process's lock: OKR_DB_LOCK_TIMEOUT (read when called), else the default."""
    try:
        return max(0.0, float(os.environ.get(LOCK_TIMEOUT_ENV) or DEFAULT_LOCK_TIMEOUT))
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT


def scoring_memory_limit() -> str:
    """DuckDB's memory limit for the scoring pass: OKR_SCORING_MEMORY_LIMIT (read when called), else 1.5GB."""
    return os.environ.get(SCORING_MEMORY_ENV, "").strip() or DEFAULT_SCORING_MEMORY


@contextmanager
def memory_limit(conn: duckdb.DuckDBPyConnection, limit: str) -> Iterator[None]:
    """Run a block under DuckDB's `memory_limit` (beyond it DuckDB spills), then restore the previous limit.

    The setting belongs to the whole database instance, so it is put back even when the block fails:
    DuckDB's default exactly (RESET), a limit set before as DuckDB shows it (to 0.1 GiB).
    """
    shown = "SELECT current_setting('memory_limit')"
    previous = conn.execute(shown).fetchone()[0]
    conn.execute("SET memory_limit = ?", [limit])
    try:
        yield
    finally:
        conn.execute("RESET memory_limit")
        if conn.execute(shown).fetchone()[0] != previous:
            conn.execute("SET memory_limit = ?", [previous])


def _attach(conn: duckdb.DuckDBPyConnection, path: str, read_only: bool) -> None:
    mode = " (READ_ONLY)" if read_only else ""
    deadline = time.monotonic() + lock_timeout()
    attempt = 0
    while True:
        try:
            conn.execute(f"ATTACH ? AS {CATALOG}{mode}", [path])
            return
        except duckdb.IOException:
            left = deadline - time.monotonic()
            if left <= 0.01:
                raise
            time.sleep(min(0.1 * 2**attempt * random.uniform(0.5, 1.5), 5.0, left))
            attempt += 1
