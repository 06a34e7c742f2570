"""Open the DuckDB file under a fixed catalog name.

DuckDB names a file's catalog after its stem, so `okr.duckdb` would make `okr.kr_scores`
ambiguous (catalog `okr` or schema `okr`). Attaching the file as `warehouse` keeps every
qualified name in our SQL meaning one thing, whatever the file is called.

Only one process may write a DuckDB file at a time. A second process waits for the lock with backoff
for up to OKR_DB_LOCK_TIMEOUT seconds (default 16), then fails with DuckDB's message, which names the
file and the process holding it.
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


@contextmanager
def connect(path: Path | str, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection whose default catalog is the file; retried with backoff while another process holds it."""
    conn = duckdb.connect(config={"custom_user_agent": "okr-autoscore"})
    try:
        _attach(conn, str(path), read_only)
        conn.execute(f"USE {CATALOG}")
        yield conn
    finally:
        conn.close()


def lock_timeout() -> float:
    """Seconds to wait for another process's lock: OKR_DB_LOCK_TIMEOUT (read when called), else the default."""
    try:
        return max(0.0, float(os.environ.get(LOCK_TIMEOUT_ENV) or DEFAULT_LOCK_TIMEOUT))
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT


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
