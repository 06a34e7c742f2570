"""A separate process that writes a window through `storage.replace_source_window`, for the crash tests.

Run as `python -m tests.pipelines.lib.storage_child MODE DB SIGNAL_FILE ROWS [FILE_SIZE_LIMIT]`:

- `pause`: the incoming rows are an Arrow stream that the INSERT pulls batch by batch; after half of them the
  stream writes SIGNAL_FILE and sleeps. At that moment the window's DELETE has run and the INSERT is halfway,
  inside the one transaction: the state a SIGKILL (power loss, OOM killer) would interrupt. No database call
  is mocked; the pause is in the data source, where a slow network read would be.
- `committed`: the write commits, then SIGNAL_FILE is written and the process sleeps (killed before any
  checkpoint: the commit lives only in the write-ahead log).
- `fsize`: RLIMIT_FSIZE caps every file the process writes at its current size plus FILE_SIZE_LIMIT bytes,
  so the write fails with EFBIG the way a full disk fails it (CPython ignores SIGXFSZ, so the write gets
  the error instead of the process being killed). The outcome is printed as JSON to stdout.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.lib import db, storage

SOURCE = "shop"
WINDOW = (dt.date(2026, 1, 1), dt.date(2026, 1, 3))
METRICS = ["clicks", "spend"]
BATCH_ROWS = 10_000


def new_rows(grain_rows: int) -> pd.DataFrame:
    """The re-pulled window in the long layout `to_long` produces: `grain_rows` campaign-days × 2 metrics.

    Deterministic, so the test knows every value the write must leave behind.
    """
    k = np.arange(grain_rows)
    days = np.array([WINDOW[0] + dt.timedelta(days=int(i)) for i in range(3)])
    wide = pd.DataFrame(
        {
            "platform": "meta_ads",
            "account_id": "acct-1",
            "campaign_id": np.char.add("new-", (k // 3).astype(str)),
            "campaign_name": np.char.add("New campaign ", (k // 3).astype(str)),
            "channel": "paid_social",
            "source_medium": "(not set)",
            "report_date": days[k % 3],
            "currency_code": "USD",
            "account_timezone": "UTC",
            "source_rows": 1,
            "clicks": (k % 7 + 1).astype(float),
            "spend": (k % 11) * 0.25,
        }
    )
    return storage.to_long(wide, SOURCE, METRICS)


def _paused_stream(frame: pd.DataFrame, signal_file: Path) -> pa.RecordBatchReader:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    batches = table.to_batches(max_chunksize=BATCH_ROWS)

    def pull() -> Iterator[pa.RecordBatch]:
        for n, batch in enumerate(batches, start=1):
            yield batch
            if n == len(batches) // 2:
                signal_file.write_text(str(n * BATCH_ROWS), encoding="utf-8")
                time.sleep(600)  # the test kills us here

    return pa.RecordBatchReader.from_batches(table.schema, pull())


def main(mode: str, path: str, signal_file: str, grain_rows: str, limit: str = "0") -> None:
    rows = new_rows(int(grain_rows))
    signal = Path(signal_file)
    if mode == "fsize":
        cap = os.path.getsize(path) + int(limit)
        resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))
        try:
            with db.connect(path) as conn:
                storage.replace_source_window(conn, "file", SOURCE, rows, WINDOW)
        except duckdb.Error as exc:
            print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
            return
        print(json.dumps({"error": None, "message": ""}))
        return
    with db.connect(path) as conn:
        incoming = _paused_stream(rows, signal) if mode == "pause" else rows
        storage.replace_source_window(conn, "file", SOURCE, incoming, WINDOW)
        signal.write_text("committed", encoding="utf-8")
        time.sleep(600)  # the test kills us before the connection closes (no checkpoint on close)


if __name__ == "__main__":
    main(*sys.argv[1:])
