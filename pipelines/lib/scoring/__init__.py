"""Scoring: KR specs → one set-based SQL pass → KR scores, objective roll-ups and history."""

from pipelines.lib.scoring.engine import ScoreRun, score_all

__all__ = ["ScoreRun", "score_all"]
