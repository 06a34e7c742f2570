"""`okr explain KR_ID`: the lineage and the campaigns behind a key result's value and its last-week change."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipelines.cli.render import fmt_value
from pipelines.lib import db
from pipelines.lib.paths import DEFAULT_DEFS_DIR, db_path_from_env
from pipelines.lib.spec import DefsErrors, load_defs
from pipelines.report import queries


def latest_scored_day(database: Path) -> dt.date:
    """The as-of of the latest scores, so `okr explain` right after `okr scores` explains the numbers shown
    (a demo or a backfill scores an older day than yesterday); yesterday when nothing is scored yet."""
    yesterday = dt.date.today() - dt.timedelta(days=1)
    if not database.exists():
        return yesterday
    with db.connect(database, read_only=True) as conn:
        found = "okr.kr_scores" in queries.tables(conn)
        latest = conn.execute("SELECT max(as_of) FROM okr.kr_scores").fetchone()[0] if found else None
    return latest or yesterday


def explain(
    kr_id: Annotated[str, typer.Argument(help="objective/kr (or just the KR id when unique), or kpi/<id>.")],
    defs: Annotated[Path, typer.Option("--defs", help="okr_defs folder.")] = Path(DEFAULT_DEFS_DIR),
    db_path: Annotated[Path | None, typer.Option("--db", help="DuckDB file.")] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Day to explain (default: the day of the latest scores, as `okr scores`)."),
    ] = None,
) -> None:
    """Print where a KR's value comes from: sources, filters, window, rows, top campaigns, 7-day movers."""
    from pipelines.lib.scoring.explain import explain as build

    err, out = Console(stderr=True), Console(width=140)
    database = db_path or db_path_from_env()
    day = dt.date.fromisoformat(as_of) if as_of else latest_scored_day(database)
    try:
        loaded = load_defs(defs)
    except DefsErrors as exc:
        for e in exc.errors:
            err.print(str(e), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    key = _resolve(loaded, kr_id)
    try:
        ex = build(database, loaded, key, day)
    except KeyError as exc:
        err.print(str(exc.args[0]), markup=False)
        raise typer.Exit(1) from None
    s, cur = ex.score, ex.score.get("currency_code")
    out.print(f"[bold]{ex.key}[/] — {s['title']}  (as of {day})")
    out.print(f"metric {ex.metric}: {ex.formula}", markup=False)
    counted = (
        "one GA4 period query, below" if ex.periods else f"{ex.days_counted} days, {ex.rows_counted} mart rows counted"
    )
    out.print(f"window {ex.window[0]} .. {ex.window[1]}; {counted}")
    for dim, pattern, glob in ex.filters:
        out.print(f"filter {dim} {'GLOB' if glob else '='} {pattern!r}", markup=False)
    for src in ex.sources:
        out.print(
            f"source {src['source']}: data through {str(src['data_through'])[:10]} "
            f"(allowed lag {src['allowed_lag_days']} days)",
            markup=False,
        )
    for line in period_lines(ex.periods) + quality_lines(ex.quality) + conversion_lines(ex.conversions):
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    parts = f"numerator {_num(s['numerator'])}" + (
        f", denominator {_num(s['denominator'])}" if _opt(s["denominator"]) is not None else ""
    )
    out.print(
        f"actual {fmt_value(s['actual'], s['unit'], cur)} ({parts}); baseline "
        f"{fmt_value(_opt(s['baseline']), s['unit'], cur)}, target {fmt_value(_opt(s['target']), s['unit'], cur)}; "
        f"status {s['status']}" + (f"; {s['note']}" if s.get("note") else ""),
        markup=False,
    )
    if ex.periods:  # users of two campaigns overlap: a distinct count has no per-campaign split to show
        out.print("no campaign breakdown: distinct users of several campaigns do not add up", markup=False)
        return
    out.print(_table("Top campaigns behind the value", ex.top_campaigns, "num_sum", "share"))
    out.print(_table("What moved it: last 7 days vs the 7 before", ex.movers, "change_7d", "num_last7"))


def _opt(value: float | None) -> float | None:
    return None if value is None or value != value else value


def _num(value: float | None) -> str:
    return "-" if _opt(value) is None else f"{value:,.2f}"


def _yes(flag: object) -> str:
    return "yes" if flag else "no"


def period_lines(periods: list[dict]) -> list[str]:
    """The GA4 period query behind a distinct-count KR (and its measured baseline): window, filter, value."""
    out = []
    for p in periods:
        head = (
            f"period query ({p['role']}) {p['source']}: {p['ga4_metric'] or p['metric']} over "
            f"{str(p['window_start'])[:10]}..{str(p['window_end'])[:10]}, no date dimension, "
            + ("no filter" if p["filter_text"] == "no filter" else f"filter {p['filter_text']}")
        )
        if p["extracted_at"] is None:
            out.append(f"{head}: not queried yet (run `okr run` for this as-of date)")
            continue
        value = "no row (nothing matched, or no users)" if p["value"] is None else f"{p['value']:,.0f}"
        ratio = f" ({p['sampling_ratio']:.1%} of the data read)" if p["sampling_ratio"] is not None else ""
        out.append(
            f"{head} = {value}; queried {str(p['extracted_at'])[:16]}; thresholded {_yes(p['thresholded'])}, "
            f"sampled {_yes(p['sampled'])}{ratio}, (other) row {_yes(p['data_loss_from_other_row'])}"
        )
    return out


def quality_lines(quality: list[dict]) -> list[str]:
    """What GA4 said about the days a KR read (daily sources), per source."""
    out = []
    for q in quality:
        if q["origin"] != "daily":
            continue  # told with the period query
        ratio = f" (as little as {q['min_sampling_ratio']:.1%} read)" if q["min_sampling_ratio"] is not None else ""
        out.append(
            f"GA4 {q['source']} ({q['role']}) {str(q['window_start'])[:10]}..{str(q['window_end'])[:10]}: "
            f"{int(q['checked'])} days loaded, {int(q['thresholded'])} thresholded, {int(q['sampled'])} "
            f"sampled{ratio}, {int(q['other_row'])} with an (other) row"
        )
    return out


def conversion_lines(conversions: list[dict]) -> list[str]:
    """The conversion definitions of the rows behind a KR, per source: when there are several, the value
    adds different events (a Google Ads primary conversion, a Meta action_type, a GA4 key event)."""
    if not conversions:
        return []
    kinds = {c["definition"] for c in conversions}
    head = (
        f"conversions of {len(kinds)} definitions are added up in this value:"
        if len(kinds) > 1
        else "conversion definition of the rows behind the value:"
    )
    lines = [head]
    for c in conversions:
        amounts = [
            f"{label} {c[column]:,.2f}"
            for column, label in (("conversions", "conversions"), ("conversions_value", "conversion value"))
            if c[column] is not None
        ]
        definition = c["definition"] or "not recorded (rows loaded before definitions were stored)"
        lines.append(
            f"  {c['source']} ({c['platform']}): {definition}; {', '.join(amounts)} over {int(c['days'])} days"
        )
    return lines


def _resolve(defs, kr_id: str) -> str:
    if "/" in kr_id:
        return kr_id
    keys = [f"{o.id}/{kr.id}" for o in defs.objectives for kr in o.key_results if kr.id == kr_id]
    return keys[0] if len(keys) == 1 else kr_id


def _table(title: str, rows: list[dict], value: str, extra: str) -> Table:
    table = Table(title=title, title_justify="left")
    for name in ("Platform", "Channel", "Campaign", value, extra):
        table.add_column(name)
    for r in rows:
        table.add_row(
            r["platform"],
            r["channel"],
            f"{r['campaign_name']} ({r['campaign_id']})",
            f"{r[value]:,.2f}" if r[value] == r[value] else "-",
            f"{r[extra]:.1%}" if extra == "share" else f"{r[extra] or 0:,.2f}",
        )
    return table
