"""`okr`: the command-line contract of DESIGN.md (validate, run, scores, demo)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console

from pipelines.cli import render
from pipelines.cli.report_cmd import report
from pipelines.cli.scores_view import NoScores, read_scores, recompute_scores
from pipelines.lib.paths import DEFAULT_DEFS_DIR, db_path_from_env
from pipelines.lib.spec import DefsErrors, load_defs
from pipelines.lib.spec.checks import lint_warnings

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Score marketing OKRs from data.",
)
out = Console()
err = Console(stderr=True)
if not out.is_terminal:  # piped or captured: wide enough for the scorecard, no wrapping mid-date
    out = Console(width=160)


DefsOpt = Annotated[Path, typer.Option("--defs", help="okr_defs folder.")]
DbOpt = Annotated[Path | None, typer.Option("--db", help="DuckDB file (default: DUCKDB_PATH or data/okr.duckdb).")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Last day counted, YYYY-MM-DD (default: yesterday).")]
FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="Backfill: pull every source again from this day (YYYY-MM-DD) through --as-of, in one run.",
    ),
]


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _as_of(value: str | None, option: str = "--as-of") -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        err.print(f"{option}: {value!r} is not a date (YYYY-MM-DD)")
        raise typer.Exit(2) from None


def _print_defs_errors(exc: DefsErrors, summary: bool = True) -> None:
    for e in exc.errors:
        err.print(str(e), markup=False, highlight=False, soft_wrap=True)
    if summary:
        err.print(f"{exc.error_count} error(s) in okr_defs", markup=False)


@app.command()
def validate(defs: DefsOpt = Path(DEFAULT_DEFS_DIR)) -> None:
    """Check okr_defs; print every error as file:line: message and exit 1 if there is any."""
    try:
        loaded = load_defs(defs)
    except DefsErrors as exc:
        _print_defs_errors(exc, summary=False)  # only the diagnostics: editors and CI parse them
        raise typer.Exit(1) from None
    for warning in lint_warnings(loaded):
        err.print(str(warning), markup=False, highlight=False, soft_wrap=True)
    krs = sum(len(o.key_results) for o in loaded.objectives)
    out.print(
        f"{defs}: OK — {len(loaded.sources)} source(s), {len(loaded.metrics)} metric(s), "
        f"{len(loaded.objectives)} objective(s), {krs} key result(s), {len(loaded.kpis)} KPI(s)"
    )


OutDirOpt = Annotated[Path, typer.Option("--out", help="Folder for the schema files.")]


@app.command()
def schema(folder: OutDirOpt = Path(DEFAULT_DEFS_DIR) / "schema") -> None:
    """Write the JSON Schema of sources.yaml, metrics.yaml and objectives/*.yaml (for editors)."""
    from pipelines.lib.spec.schema import write_schemas

    for path in write_schemas(folder):
        out.print(f"wrote {path}", highlight=False, soft_wrap=True, markup=False)


def _run(defs: Path, db: Path, as_of: dt.date, start: dt.date | None = None) -> None:
    from pipelines.cli.runner import run_pipeline

    try:
        load_defs(defs)
    except DefsErrors as exc:
        _print_defs_errors(exc)
        raise typer.Exit(1) from None
    with err.status(f"Running the pipeline as of {as_of} into {db} …"):
        outcome = run_pipeline(defs, db, as_of, start=start)
    for zone, (start, end) in outcome.ranges.items():
        err.print(f"  loaded days {start}..{end} ({zone})", highlight=False)
    for key, meta in outcome.materialized.items():
        rows = meta.get("dagster/row_count")
        if "rejected" in meta:
            continue  # told below, with the reason
        err.print(f"  materialized {key}" + (f" ({rows} rows)" if rows is not None else ""), highlight=False)
    for warning in outcome.warnings:
        err.print(f"  warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    if not outcome.success:
        for failure in outcome.failures:
            err.print(failure, markup=False, highlight=False, soft_wrap=True)
        err.print("run failed: the database keeps its previous scores", markup=False)
        raise typer.Exit(1)


@app.command()
def run(
    defs: DefsOpt = Path(DEFAULT_DEFS_DIR),
    db: DbOpt = None,
    as_of: AsOfOpt = None,
    start: FromOpt = None,
) -> None:
    """Ingest the configured sources, rebuild the mart, score every KR and append history."""
    day = _as_of(as_of) or dt.date.today() - dt.timedelta(days=1)
    first = _as_of(start, "--from")
    if first is not None and first > day:
        err.print(f"--from {first} is after --as-of {day}: nothing to load", markup=False)
        raise typer.Exit(2)
    db = db or db_path_from_env()
    _run(defs, db, day, first)
    render.print_table(read_scores(db), out)


@app.command()
def scores(
    db: DbOpt = None,
    as_of: AsOfOpt = None,
    format: Format = Format.table,
    latest_knowledge: Annotated[
        bool, typer.Option("--latest-knowledge", help="Recompute --as-of with today's data (restatements).")
    ] = False,
    defs: DefsOpt = Path(DEFAULT_DEFS_DIR),
) -> None:
    """Show the latest scores (or those computed for --as-of) as a table, JSON or CSV."""
    try:
        day = _as_of(as_of)
        if latest_knowledge and day is None:
            err.print("--latest-knowledge needs --as-of: the day to recompute", markup=False)
            raise typer.Exit(2)
        data = (
            recompute_scores(db or db_path_from_env(), defs, day)
            if latest_knowledge
            else read_scores(db or db_path_from_env(), day)
        )
    except NoScores as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(1) from None
    if format is Format.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    elif format is Format.csv:
        sys.stdout.write(render.to_csv(data))
    else:
        render.print_table(data, out)


app.command(name="report")(report)


@app.command()
def demo(defs: DefsOpt = Path(DEFAULT_DEFS_DIR), db: DbOpt = None) -> None:
    """Generate the demo team's data, run everything on it, print the scorecard and write the report."""
    from pipelines.demo.setup import prepare_demo

    db = db or db_path_from_env()
    as_of = prepare_demo(defs, err)
    _run(defs, db, as_of)
    render.print_table(read_scores(db), out)
    out.print(f"Database: {db.resolve()}", highlight=False, soft_wrap=True)
    from pipelines.assets.report import report_path

    # the run above materialized report/progress_page: point at that file rather than render it again
    out.print(f"Report: {report_path(db).resolve()}", highlight=False, soft_wrap=True)


from pipelines.cli.diff_cmd import diff  # noqa: E402 (registered after the core commands)
from pipelines.cli.explain_cmd import explain  # noqa: E402

app.command(name="diff")(diff)
app.command(name="explain")(explain)


def main() -> None:
    try:
        app()
    except duckdb.Error as exc:  # a locked or full database file: say so, without a traceback
        from pipelines.cli.db_errors import describe

        err.print(describe(exc), markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
