"""`okr diff`: how a definitions change would move each KR's score and status."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipelines.lib import db
from pipelines.lib.paths import DEFAULT_DEFS_DIR, db_path_from_env
from pipelines.lib.spec import DefsErrors


def _latest_as_of(database: Path) -> dt.date:
    with db.connect(database, read_only=True) as conn:
        row = conn.execute("SELECT max(as_of) FROM okr.kr_scores").fetchone()
    if row is None or row[0] is None:
        raise typer.BadParameter(f"{database} holds no scores yet: run `okr run` first, or pass --as-of")
    return row[0]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def diff(
    base: Annotated[str | None, typer.Option("--base", help="Git revision of okr_defs to compare with.")] = None,
    base_defs: Annotated[Path | None, typer.Option("--base-defs", help="Or a folder with the old okr_defs.")] = None,
    defs: Annotated[Path, typer.Option("--defs", help="The changed okr_defs folder.")] = Path(DEFAULT_DEFS_DIR),
    db_path: Annotated[Path | None, typer.Option("--db", help="DuckDB file with the data.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Day to score (default: the latest scored).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Per KR: new, removed, target eased or raised, score and status before → after."""
    from pipelines.lib.scoring.diff import diff_against

    err = Console(stderr=True)
    database = db_path or db_path_from_env()
    if not database.exists():
        err.print(f"no database at {database}: run `okr run` first", markup=False)
        raise typer.Exit(1)
    day = dt.date.fromisoformat(as_of) if as_of else _latest_as_of(database)
    try:
        changes = diff_against(database, defs, day, base_defs, base)
    except DefsErrors as exc:
        for e in exc.errors:
            err.print(str(e), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    if json_out:
        sys.stdout.write(
            json.dumps(
                {"as_of": day.isoformat(), "changes": [c.as_dict() for c in changes]}, ensure_ascii=False, indent=2
            )
            + "\n"
        )
        return
    table = Table(title=f"Definition change, scored as of {day}", title_justify="left")
    for name in ("Key result", "Change", "Target", "Score", "Status", "Flag"):
        table.add_column(name)
    for c in changes:
        if c.change == "unchanged":
            continue
        target = f"{c.target_before} → {c.target_after}" + (f" ({c.target_change})" if c.target_change else "")
        table.add_row(
            c.key,
            c.change,
            target,
            f"{_pct(c.score_before)} → {_pct(c.score_after)}",
            f"{c.status_before or '-'} → {c.status_after or '-'}",
            "target eased mid-period" if c.eased_mid_period else "",
        )
    Console(width=160).print(table)
