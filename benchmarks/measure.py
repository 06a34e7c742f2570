"""Wall time and memory of one phase, measured from inside the process that runs it.

Each implementation runs in its own child process, so `ru_maxrss` (the kernel's high-water mark, which
never goes down) is that implementation's peak and not the generator's or another phase's. A sampler
thread also records DuckDB's own buffer-managed memory (`duckdb_memory()`) every 50 ms: DuckDB releases
the GIL while a query runs, so the thread keeps sampling during the long statements.
"""

from __future__ import annotations

import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb

SAMPLE_SECONDS = 0.05
DUCKDB_MEMORY_SQL = "SELECT sum(memory_usage_bytes), sum(temporary_storage_bytes) FROM duckdb_memory()"


@dataclass
class PhaseStats:
    """What one phase cost; bytes are None where nothing could be measured (e.g. no DuckDB in the phase)."""

    seconds: float = 0.0
    peak_rss_bytes: int = 0
    duckdb_peak_bytes: int | None = None
    duckdb_spill_bytes: int | None = None


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class DuckDBMemorySampler:
    """Polls `duckdb_memory()` on its own cursor (a second connection to the same database) until stopped."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self._cursor = conn.cursor()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="duckdb-memory-sampler", daemon=True)
        self.peak_bytes = 0
        self.peak_spill_bytes = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            used, spilled = self._cursor.execute(DUCKDB_MEMORY_SQL).fetchone()
            self.peak_bytes = max(self.peak_bytes, int(used or 0))
            self.peak_spill_bytes = max(self.peak_spill_bytes, int(spilled or 0))
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> DuckDBMemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._cursor.close()


@contextmanager
def timed(stats: PhaseStats, conn: duckdb.DuckDBPyConnection | None = None) -> Iterator[PhaseStats]:
    """Fill `stats` with the block's wall time, the process's peak RSS and (given a connection) DuckDB's peak."""
    sampler = DuckDBMemorySampler(conn) if conn is not None else None
    if sampler is not None:
        sampler.__enter__()
    start = time.perf_counter()
    try:
        yield stats
    finally:
        stats.seconds = time.perf_counter() - start
        if sampler is not None:
            sampler.__exit__()
            stats.duckdb_peak_bytes = sampler.peak_bytes
            stats.duckdb_spill_bytes = sampler.peak_spill_bytes
        stats.peak_rss_bytes = peak_rss_bytes()
