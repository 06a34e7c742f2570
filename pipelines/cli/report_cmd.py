"""`okr report`: write the self-contained progress page (English and Vietnamese) from the database."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipelines.assets.resources import db_path_from_env
from pipelines.report.data import NoReportData
from pipelines.report.render import write_report


class Lang(StrEnum):
    en = "en"
    vi = "vi"


ReportDbOpt = Annotated[
    Path | None, typer.Option("--db", help="DuckDB file (default: DUCKDB_PATH or data/okr.duckdb).")
]
OutOpt = Annotated[Path | None, typer.Option("--out", help="HTML file to write (default: report.html beside the DB).")]
LangOpt = Annotated[Lang, typer.Option("--lang", help="Language the page opens in (both are in the file).")]


def report(db: ReportDbOpt = None, out: OutOpt = None, lang: LangOpt = Lang.en) -> None:
    """Write the progress report: one HTML file that opens from disk or any static host, offline."""
    console, err = Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)
    try:
        written = write_report(db or db_path_from_env(), out, Lang(lang).value)
    except NoReportData as exc:
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from None
    console.print(f"Report: {written.path}", markup=False, highlight=False)
