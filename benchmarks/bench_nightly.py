"""Wall time of the nightly operations on the demo team, through the real Dagster jobs.

1. the first load (every day the definitions need, one single run), 2. a nightly run (yesterday plus the
look-back, then mart, scores, history and report), 3. a 90-day backfill of the nightly job (one run over
the range), 4. the weekly restatement run. Each on a persistent SQLite instance like `make ui` uses.
`python -m benchmarks.bench_nightly` prints the table; docs/operations.md records it.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import dagster as dg
from rich.console import Console
from rich.table import Table

from pipelines.assets.automation import NIGHTLY_JOB, RESTATEMENT_JOB, as_of_run_config
from pipelines.assets.build import build_definitions
from pipelines.assets.partitions import range_tags, source_groups
from pipelines.demo.generator import DEMO_AS_OF, write_demo_exports
from pipelines.lib.spec import load_defs

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    console = Console()
    root = Path(tempfile.mkdtemp(prefix="okr-nightly-"))
    try:
        shutil.copytree(REPO / "okr_defs", root / "okr_defs")
        write_demo_exports(root / "data" / "demo")
        defs_dir, database = root / "okr_defs", root / "okr.duckdb"
        today = DEMO_AS_OF + dt.timedelta(days=1)
        defs = build_definitions(defs_dir, database, today=today)
        (group,) = source_groups(load_defs(defs_dir), today)
        assets = list(defs.assets)
        quiet = {"console": {"config": {"log_level": "WARNING"}}}
        config = dg.RunConfig(ops=as_of_run_config(assets, DEMO_AS_OF).ops, loggers=quiet)
        runs = [
            ("first load", NIGHTLY_JOB, group.start, DEMO_AS_OF),
            ("nightly", NIGHTLY_JOB, DEMO_AS_OF - dt.timedelta(days=group.lookback_days - 1), DEMO_AS_OF),
            ("90-day backfill", NIGHTLY_JOB, DEMO_AS_OF - dt.timedelta(days=89), DEMO_AS_OF),
            (
                "weekly restatement",
                RESTATEMENT_JOB,
                DEMO_AS_OF - dt.timedelta(days=group.restatement_days - 1),
                DEMO_AS_OF,
            ),
        ]
        table = Table(
            title=f"Nightly operations on the demo ({platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores)"
        )
        for column in ("run", "days", "seconds"):
            table.add_column(column, justify="right" if column != "run" else "left")
        home = root / "dagster_home"
        home.mkdir()
        shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
        with dg.DagsterInstance.from_config(str(home)) as instance:
            for label, job_name, start, end in runs:
                with console.status(f"{label}: {start}..{end} …"):
                    began = time.perf_counter()
                    result = defs.resolve_job_def(job_name).execute_in_process(
                        instance=instance, tags=range_tags(start, end), run_config=config
                    )
                    seconds = time.perf_counter() - began
                if not result.success:
                    raise SystemExit(f"{label} failed")
                table.add_row(label, str((end - start).days + 1), f"{seconds:.1f}")
                console.log(f"{label}: {(end - start).days + 1} days in {seconds:.1f} s")
        console.print(table)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
