"""`python -m benchmarks.bench_scoring`: the engine vs one hand-written GROUP BY vs an analyst's pandas loop.

Not part of `make test` (the full size takes minutes and gigabytes); run it with `make bench`. Everything
lives in a temporary folder (DuckDB file, okr_defs, spill files) that is removed at the end; only
docs/performance.md is written, and only when the three implementations agree on the actuals.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from benchmarks.child import run_in_child
from benchmarks.data import AS_OF
from benchmarks.krs import BenchKr, make_krs, write_defs
from benchmarks.measure import PhaseStats
from benchmarks.phases import PhaseValue, engine_phase, generate_phase, hand_sql_phase, pandas_phase
from benchmarks.report import Results, machine_facts, print_results, write_markdown

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
REL_TOL = 1e-9


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The issue's CLI; --pandas-krs is capped at --krs (a sample cannot be larger than the set)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_scoring", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="mart rows to generate (default 10,000,000)")
    parser.add_argument("--krs", type=int, default=1_000, help="key results to score (default 1,000)")
    parser.add_argument("--pandas-krs", type=int, default=50, help="KRs the pandas loop is timed on (default 50)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the data and KR generators (default 7)")
    args = parser.parse_args(argv)
    if min(args.rows, args.krs, args.pandas_krs) < 1:
        parser.error("--rows, --krs and --pandas-krs must be positive")
    args.pandas_krs = min(args.pandas_krs, args.krs)
    return args


def pandas_sample(krs: list[BenchKr], size: int) -> list[BenchKr]:
    """KRs spread evenly over the list, so the timed sample has the same mix of metrics, filters and windows."""
    return [krs[i * len(krs) // size] for i in range(size)]


def _phase(progress: Progress, label: str, func: Callable[..., Any], *args: Any, may_die: bool = False) -> Any:
    """Run one phase in its own child process under a progress line.

    An exception in the child is a bug and stops the benchmark. A child killed from outside (`may_die`) is
    a measurement: that implementation did not survive this size, and the others still run.
    """
    task = progress.add_task(label, total=None)
    outcome = run_in_child(func, args, progress, task)
    progress.update(task, total=1, completed=1)
    if outcome.died and may_die:
        return PhaseValue(PhaseStats(), error=f"{label}: {outcome.error}")
    if outcome.error is not None:
        raise RuntimeError(f"{label}: {outcome.error}")
    return outcome.value


def run_phases(args: argparse.Namespace, folder: Path, console: Console) -> Results:
    """Generate, then (a), (b), (c) one after the other (never in parallel: they would share 2 cores)."""
    path = folder / "bench.duckdb"
    krs = make_krs(args.krs, args.rows, args.seed)
    defs_dir = write_defs(folder / "okr_defs", krs)
    sample = pandas_sample(krs, args.pandas_krs)
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        generate, facts = _phase(
            progress, f"generate {args.rows:,} mart rows", generate_phase, path, args.rows, args.seed
        )
        engine = _phase(progress, f"(a) engine, {args.krs:,} KRs", engine_phase, path, defs_dir, AS_OF, may_die=True)
        hand = _phase(progress, f"(b) hand SQL, {args.krs:,} KRs", hand_sql_phase, path, krs, may_die=True)
        pandas = _phase(progress, f"(c) pandas, {len(sample)} KRs", pandas_phase, path, sample, may_die=True)
    results = Results(args.rows, args.krs, len(sample), args.seed, AS_OF, facts, generate, engine, hand, pandas)
    results.checks = check_agreement(results, [kr.key for kr in krs], [kr.key for kr in sample])
    return results


def _mismatches(left: dict[str, float | None], right: dict[str, float | None], keys: list[str]) -> list[str]:
    """KRs whose actuals differ: no data on one side only, or values further apart than REL_TOL."""
    out = []
    for key in keys:
        x, y = left.get(key), right.get(key)
        if (x is None) != (y is None) or (x is not None and not math.isclose(x, y, rel_tol=REL_TOL)):
            out.append(f"{key}: {x!r} vs {y!r}")
    return out


def check_agreement(r: Results, all_keys: list[str], sample_keys: list[str]) -> list[str]:
    """Assert that the implementations that finished agree; say plainly which comparisons could not be made."""
    pairs = [
        ("(a) engine", r.engine, "(b) hand SQL", r.hand_sql, all_keys),
        ("(c) pandas", r.pandas, "(b) hand SQL", r.hand_sql, sample_keys),
        ("(c) pandas", r.pandas, "(a) engine", r.engine, sample_keys),
    ]
    lines = []
    for left_name, left, right_name, right, keys in pairs:
        if left.error or right.error:
            why = "; ".join(e for e in (left.error, right.error) if e)
            lines.append(f"{left_name} vs {right_name}: not checked ({why})")
            continue
        bad = _mismatches(left.actuals, right.actuals, keys)
        if bad:
            raise AssertionError(f"{left_name} and {right_name} disagree on {len(bad)} KRs, e.g. " + "; ".join(bad[:5]))
        empty = sum(1 for k in keys if left.actuals.get(k) is None)
        lines.append(f"{left_name} = {right_name} on {len(keys)} KRs (rel. 1e-9; {empty} of them no_data in both)")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run everything in a temp folder (removed even on failure), then print and write the results."""
    args = parse_args(argv)
    console = Console()
    with tempfile.TemporaryDirectory(prefix="okr-bench-") as tmp:
        results = run_phases(args, Path(tmp), console)
    print_results(console, results)
    write_markdown(DOC_PATH, results, machine_facts())
    console.print(f"written: {DOC_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
