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
