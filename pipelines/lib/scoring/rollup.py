"""Objective scores: the weighted mean of their KRs and of their aligned children, at any depth.

A KR without data (no_data, not_started, invalid) is left out of the mean rather than counted as 0:
a missing number must never look like failure. The counts of scored and unscored parts are kept.
A stale KR keeps its last complete score, and that score counts: an objective whose sources are all late
shows where it stood, marked `stale`, rather than "no data" next to KRs that plainly have numbers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from pipelines.lib.spec.models import Objective

UNSCORED = {"no_data", "not_started", "invalid"}
BANDS = {"committed": (1.0, 0.7), "aspirational": (0.7, 0.4)}


@dataclass(frozen=True)
class ObjectiveScore:
    objective_id: str
    score: float | None
    forecast_score: float | None
    expected_progress: float | None
    status: str
    scored_children: int
    unscored_children: int


def status_for(objective_type: str, forecast_score: float | None) -> str:
    """Committed OKRs are on track only when heading for 1.0; aspirational ones at 0.7."""
    if forecast_score is None:
        return "no_data"
    on_track, at_risk = BANDS[objective_type]
    if forecast_score >= on_track:
        return "on_track"
    return "at_risk" if forecast_score >= at_risk else "off_track"


def roll_up(objectives: list[Objective], kr_scores: pd.DataFrame, as_of: dt.date) -> list[ObjectiveScore]:
    by_objective = defaultdict(list)
    for row in kr_scores.loc[kr_scores["kind"] == "kr"].itertuples():
        by_objective[row.objective_id].append(row)
    children = defaultdict(list)
    for obj in objectives:
        if obj.parent:
            children[obj.parent].append(obj)
    done: dict[str, ObjectiveScore] = {}

    def visit(obj: Objective) -> ObjectiveScore:
        if obj.id in done:
            return done[obj.id]
        parts, unscored, stale = [], 0, 0
        for row in by_objective[obj.id]:
            if row.status in UNSCORED or pd.isna(row.score):
                unscored += 1
            else:
                parts.append((row.weight, row.score, row.forecast_score))
                stale += row.status == "stale"
        for child in children[obj.id]:
            result = visit(child)
            if result.score is None:
                unscored += 1
            else:
                parts.append((child.weight, result.score, result.forecast_score))
                stale += result.status == "stale"
        score = _weighted([(w, s) for w, s, _ in parts])
        forecast = _weighted([(w, f) for w, _, f in parts])
        expected, status = None, status_for(obj.type, forecast)
        if parts and stale == len(parts):  # every number behind it is a last complete one
            status = "stale"
        if obj.period is not None:
            expected = min(max((as_of - obj.period.start).days + 1, 0), obj.period.days) / obj.period.days
            status = "not_started" if as_of < obj.period.start else status
        done[obj.id] = ObjectiveScore(obj.id, score, forecast, expected, status, len(parts), unscored)
        return done[obj.id]

    return [visit(obj) for obj in objectives]


def _weighted(parts: list[tuple[float, float]]) -> float | None:
    parts = [(w, v) for w, v in parts if v is not None and not pd.isna(v)]
    total = sum(w for w, _ in parts)
    return sum(w * v for w, v in parts) / total if total else None
