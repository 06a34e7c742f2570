"""Open the DuckDB file under a fixed catalog name.

DuckDB names a file's catalog after its stem, so `okr.duckdb` would make `okr.kr_scores`
ambiguous (catalog `okr` or schema `okr`). Attaching the file as `warehouse` keeps every
qualified name in our SQL meaning one thing, whatever the file is called.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

CATALOG = "warehouse"
LOCK_RETRIES = 8


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


def _attach(conn: duckdb.DuckDBPyConnection, path: str, read_only: bool) -> None:
    mode = " (READ_ONLY)" if read_only else ""
    for attempt in range(LOCK_RETRIES + 1):
        try:
            conn.execute(f"ATTACH ? AS {CATALOG}{mode}", [path])
            return
        except duckdb.IOException:
            if attempt == LOCK_RETRIES:
                raise
            time.sleep(min(0.1 * 2**attempt, 5.0) * random.uniform(0.5, 1.5))
