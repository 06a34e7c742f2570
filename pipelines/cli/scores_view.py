"""Read scores back from DuckDB in the shape of the CLI contract (DESIGN.md)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.lib import db

KR_FIELDS = [
    "id",
    "title",
    "metric",
    "actual",
    "baseline",
    "target",
    "progress",
    "score",
    "expected_progress",
    "forecast",
    "status",
    "data_through",
]


class NoScores(Exception):
    """The database holds no scores (for that as-of date)."""


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | dt.date):
        return value.isoformat()[:10]
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def recompute_scores(db_path: Path, defs_dir: Path, as_of: dt.date) -> dict:
    """Score `as_of` again with today's data (read-only), beside what was computed then.

    Platforms restate past days; this shows what the restatement changed without rewriting history.
    Each KR gains `then`: the score, status and actual of the latest run for that day (None if never scored).
    """
    from pipelines.lib.scoring.engine import compute_scores
    from pipelines.lib.scoring.rollup import roll_up
    from pipelines.lib.spec import load_defs

    if not db_path.exists():
        raise NoScores(f"no database at {db_path}: run `okr run` (or `okr demo`) first")
    defs = load_defs(defs_dir)
    with db.connect(db_path, read_only=True) as conn:
        krs = compute_scores(conn, defs, as_of, run_id="latest-knowledge")
        then = conn.execute(
            "SELECT kind, objective_id, kr_id, score, status, actual FROM okr.score_history WHERE run_id = "
            "(SELECT arg_max(run_id, computed_at) FROM okr.score_history WHERE as_of = ?)",
            [as_of],
        ).df()
    objectives = {o.id: o for o in defs.objectives}
    objs = pd.DataFrame(
        [
            {
                **vars(s),
                "title": objectives[s.objective_id].title,
                "parent": objectives[s.objective_id].parent,
                "type": objectives[s.objective_id].type,
            }
            for s in roll_up(defs.objectives, krs, as_of)
        ]
    )
    data = _shape(krs, objs)
    data["latest_knowledge"] = True
    before = {
        (r.kind, r.objective_id if isinstance(r.objective_id, str) else None, r.kr_id): r for r in then.itertuples()
    }
    for obj in data["objectives"]:
        for kr in obj["key_results"]:
            old = before.get(("kr", obj["id"], kr["id"]))
            kr["then"] = (
                None
                if old is None
                else {"score": _clean(old.score), "status": old.status, "actual": _clean(old.actual)}
            )
    return data


def read_scores(db_path: Path, as_of: dt.date | None = None) -> dict:
    """The latest run's scores, or the latest run for `as_of` from the append-only history."""
    if not db_path.exists():
        raise NoScores(f"no database at {db_path}: run `okr run` (or `okr demo`) first")
    with db.connect(db_path, read_only=True) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_catalog = ?",
                [db.CATALOG],
            ).fetchall()
        }
        if "okr.kr_scores" not in tables:
            raise NoScores(f"{db_path} holds no scores yet: run `okr run` first")
        if as_of is None:
            krs = conn.execute("SELECT * FROM okr.kr_scores ORDER BY position").df()
            objs = conn.execute("SELECT * FROM okr.objective_scores").df()
        else:
            run = conn.execute(
                "SELECT run_id FROM okr.score_history WHERE as_of = ? ORDER BY computed_at DESC LIMIT 1",
                [as_of],
            ).fetchone()
            if run is None:
                raise NoScores(f"no scores as of {as_of} in {db_path}")
            krs = conn.execute("SELECT * FROM okr.score_history WHERE run_id = ? ORDER BY position", [run[0]]).df()
            objs = conn.execute(
                "SELECT * FROM okr.objective_history WHERE run_id = ?",
                [run[0]],
            ).df()
    if krs.empty:
        raise NoScores(f"{db_path} holds no scores yet: run `okr run` first")
    return _shape(krs, objs)


def _shape(krs: pd.DataFrame, objs: pd.DataFrame) -> dict:
    as_of = _clean(krs["as_of"].iloc[0])
    objectives = []
    for o in objs.itertuples():
        rows = krs.loc[(krs["kind"] == "kr") & (krs["objective_id"] == o.objective_id)]
        objectives.append(
            {
                "id": o.objective_id,
                "title": _clean(o.title),
                "score": _clean(o.score),
                "status": o.status,
                "parent": _clean(o.parent),
                "type": _clean(o.type),
                "forecast_score": _clean(o.forecast_score),
                "key_results": [_kr(r) for r in rows.to_dict("records")],
            }
        )
    kpis = [
        {
            "id": r["kr_id"],
            "title": r["title"],
            "metric": r["metric"],
            "unit": r["unit"],
            "currency_code": _clean(r["currency_code"]),
            "actual": _clean(r["actual"]),
            "stay_above": _clean(r["band_low"]),
            "stay_below": _clean(r["band_high"]),
            "status": r["status"],
            "data_through": _clean(r["data_through"]),
        }
        for r in krs.loc[krs["kind"] == "kpi"].to_dict("records")
    ]
    return {"as_of": as_of, "objectives": objectives, "kpis": kpis}


def _kr(row: dict) -> dict:
    out = {"id": row["kr_id"]}
    for name in KR_FIELDS[1:]:
        out[name] = _clean(row[name])
    out["weight"] = _clean(row["weight"])
    out["unit"] = _clean(row["unit"])
    out["currency_code"] = _clean(row["currency_code"])
    out["note"] = _clean(row["note"])
    return out
