"""Read one DuckDB file into a `Report`: the latest scores, their history, trends and movers.

Opened read-only through `pipelines.lib.db.connect`, so the report can be written while the UI or
another reader has the file open, and never changes it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from pipelines.lib import db
from pipelines.lib.scoring import specs
from pipelines.report import queries
from pipelines.report.model import KeyResult, Kpi, Objective, Point, Report
from pipelines.report.movers import kr_movers
from pipelines.report.quality import data_quality
from pipelines.report.series import kpi_series, kr_series


class NoReportData(Exception):
    """The database is missing or holds no scores: there is nothing to report yet."""


def kr_key(row: dict[str, Any]) -> str:
    """The key okr.kr_daily and okr.kr_contributions use (the scoring specs' `objective/kr` or `kpi:id`)."""
    return specs.kpi_key(row["kr_id"]) if row["kind"] == "kpi" else specs.kr_key(row["objective_id"], row["kr_id"])


def _grouped(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    return out


def _optional(conn: Any, found: set[str], table: str, sql: str, params: list[Any] | None = None) -> list[dict]:
    """Rows of a table a scores-only or older database may not have yet (then: nothing to show)."""
    return queries.rows(conn, sql, params) if table in found else []


def _key_result(row: dict[str, Any], daily: list[dict], history: list[Point], contrib: list[dict]) -> KeyResult:
    return KeyResult(
        id=row["kr_id"],
        objective_id=row["objective_id"],
        title=row["title"] or row["kr_id"],
        owner=row["owner"],
        metric=row["metric"],
        unit=row["unit"],
        currency=row["currency_code"],
        direction=row["direction"],
        actual=row["actual"],
        baseline=row["baseline"],
        target=row["target"],
        baseline_kind=row["baseline_kind"],
        target_text=row["target_text"],
        progress=row["progress"],
        score=row["score"],
        expected_progress=row["expected_progress"],
        forecast=row["forecast"],
        forecast_score=row["forecast_score"],
        forecast_low=row.get("forecast_low"),  # newer engines only
        forecast_high=row.get("forecast_high"),
        status=row["status"],
        data_through=queries.day(row["data_through"]),
        window_start=queries.day(row["window_start"]),
        window_end=queries.day(row["window_end"]),
        note=row["note"],
        weight=row["weight"],
        self_reported=bool(row["self_reported"]),
        history=history,
        series=kr_series(row, daily),
        movers=kr_movers(contrib, is_ratio=row["denominator"] is not None),
    )


def _kpi(row: dict[str, Any], daily: list[dict]) -> Kpi:
    return Kpi(
        id=row["kr_id"],
        title=row["title"] or row["kr_id"],
        owner=row["owner"],
        metric=row["metric"],
        unit=row["unit"],
        currency=row["currency_code"],
        actual=row["actual"],
        band_low=row["band_low"],
        band_high=row["band_high"],
        status=row["status"],
        data_through=queries.day(row["data_through"]),
        window_start=queries.day(row["window_start"]),
        window_end=queries.day(row["window_end"]),
        series=kpi_series(row, daily),
    )


def _tree(objectives: list[dict[str, Any]], krs: dict[str, list[KeyResult]], order: dict[str, int]) -> list[Objective]:
    """company → department → team at any depth; an unknown parent makes a root; cycles are cut."""
    ids = {o["objective_id"] for o in objectives}
    children = _grouped(
        [o | {"_parent": o["parent"] if o["parent"] in ids else None} for o in objectives],
        "_parent",
    )
    seen: set[str] = set()

    def build(row: dict[str, Any], depth: int) -> Objective:
        seen.add(row["objective_id"])
        kids = [
            build(c, depth + 1)
            for c in _sorted(children.get(row["objective_id"], []), order)
            if c["objective_id"] not in seen
        ]
        return Objective(
            id=row["objective_id"],
            title=row["title"] or row["objective_id"],
            owner=row["owner"],
            parent=row["parent"],
            type=row["type"],
            period_start=queries.day(row["period_start"]),
            period_end=queries.day(row["period_end"]),
            score=row["score"],
            forecast_score=row["forecast_score"],
            expected_progress=row["expected_progress"],
            status=row["status"],
            key_results=krs.get(row["objective_id"], []),
            children=kids,
            depth=depth,
        )

    return [build(r, 0) for r in _sorted(children.get(None, []), order)]


def _sorted(objectives: list[dict[str, Any]], order: dict[str, int]) -> list[dict[str, Any]]:
    """In the order the analysts wrote them (their first KR's position), then by id."""
    return sorted(objectives, key=lambda o: (order.get(o["objective_id"], 1 << 30), o["objective_id"]))


def load_report(db_path: Path) -> Report:
    """Everything the page shows, from one read-only connection."""
    if not Path(db_path).exists():
        raise NoReportData(f"no database at {db_path}: run `okr run` (or `okr demo`) first")
    with db.connect(db_path, read_only=True) as conn:
        found = queries.tables(conn)
        scores = _optional(conn, found, "okr.kr_scores", queries.KR_SCORES)
        if not scores:
            raise NoReportData(f"{db_path} holds no scores yet: run `okr run` first")
        as_of = queries.day(scores[0]["as_of"])
        objectives = _optional(conn, found, "okr.objective_scores", queries.OBJECTIVES)
        daily = _grouped(_optional(conn, found, "okr.kr_daily", queries.KR_DAILY), "kr_key")
        contrib = _grouped(_optional(conn, found, "okr.kr_contributions", queries.CONTRIBUTIONS), "kr_key")
        history: dict[str, list[Point]] = defaultdict(list)
        for h in _optional(conn, found, "okr.score_history", queries.HISTORY, [as_of]):
            history[kr_key(h)].append(Point(queries.day(h["as_of"]), h["score"]))
        krs = [
            _key_result(r, daily[kr_key(r)], history[kr_key(r)], contrib[kr_key(r)])
            for r in scores
            if r["kind"] == "kr"
        ]
        kpis = [_kpi(r, daily[kr_key(r)]) for r in scores if r["kind"] == "kpi"]
        quality = data_quality(conn, as_of, [*krs, *kpis], found)
    order: dict[str, int] = {}
    for r in scores:
        order.setdefault(r["objective_id"], r["position"])
    roots = _tree(objectives, _grouped_krs(krs), order)
    computed_at = scores[0]["computed_at"]
    return Report(as_of, computed_at if isinstance(computed_at, dt.datetime) else None, roots, kpis, quality)


def _grouped_krs(krs: list[KeyResult]) -> dict[str, list[KeyResult]]:
    out: dict[str, list[KeyResult]] = defaultdict(list)
    for kr in krs:
        out[kr.objective_id].append(kr)
    return out
