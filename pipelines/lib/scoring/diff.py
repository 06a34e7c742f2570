"""What a change to okr_defs does to the scores: both versions scored against the same database.

A reviewer of a pull request sees "this lowers the CPA target and turns at_risk into on_track", and
a target eased while its period is running is flagged: moving the goalposts should be a decision,
not a side effect.
"""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import tarfile
import tempfile
from dataclasses import asdict, dataclass
from io import BytesIO
from pathlib import Path

import pandas as pd

from pipelines.lib import db
from pipelines.lib.scoring.engine import compute_scores
from pipelines.lib.spec import OkrDefs, load_defs


@dataclass(frozen=True)
class KrChange:
    key: str
    change: str  # new | removed | changed | unchanged
    target_change: str | None  # eased | raised | None
    target_before: float | None
    target_after: float | None
    score_before: float | None
    score_after: float | None
    status_before: str | None
    status_after: str | None
    eased_mid_period: bool

    def as_dict(self) -> dict:
        return asdict(self)


def defs_at_revision(repo_dir: Path, defs_dir: Path, rev: str, into: Path) -> Path:
    """Extract okr_defs as they were at a git revision (git archive; the working tree is untouched)."""
    top = Path(
        subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=repo_dir, capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    rel = defs_dir.resolve().relative_to(top)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "--", str(rel)], cwd=top, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / rel


def _scores(database: Path, defs: OkrDefs, as_of: dt.date) -> pd.DataFrame:
    with db.connect(database, read_only=True) as conn:
        frame = compute_scores(conn, defs, as_of, run_id="diff")
    frame = frame.loc[frame["kind"] == "kr"].copy()
    frame["key"] = frame["objective_id"] + "/" + frame["kr_id"]
    return frame.set_index("key")


def _num(value: object) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _target_change(before: pd.Series, after: pd.Series) -> str | None:
    tb, ta = _num(before["target"]), _num(after["target"])
    if tb is None or ta is None or math.isclose(tb, ta, rel_tol=1e-12):
        return None
    harder = ta > tb if after["direction"] in {"increase", "stay_above", "milestone"} else ta < tb
    return "raised" if harder else "eased"


def diff_scores(database: Path, base: OkrDefs, head: OkrDefs, as_of: dt.date) -> list[KrChange]:
    before, after = _scores(database, base, as_of), _scores(database, head, as_of)
    changes = []
    for key in sorted(set(before.index) | set(after.index)):
        b = before.loc[key] if key in before.index else None
        a = after.loc[key] if key in after.index else None
        target = _target_change(b, a) if b is not None and a is not None else None
        running = a is not None and a["window_start"].date() <= as_of <= a["window_end"].date()
        fields = (
            _num(b["score"]) if b is not None else None,
            _num(a["score"]) if a is not None else None,
            b["status"] if b is not None else None,
            a["status"] if a is not None else None,
        )
        kind = (
            "new"
            if b is None
            else "removed"
            if a is None
            else ("changed" if target or fields[0] != fields[1] or fields[2] != fields[3] else "unchanged")
        )
        changes.append(
            KrChange(
                key,
                kind,
                target,
                _num(b["target"]) if b is not None else None,
                _num(a["target"]) if a is not None else None,
                *fields,
                bool(target == "eased" and running),
            )
        )
    return changes


def diff_against(database: Path, defs_dir: Path, as_of: dt.date, base_defs: Path | None, rev: str | None):
    """Load both versions (a folder, or okr_defs at a git revision) and compare them."""
    head = load_defs(defs_dir)
    if base_defs is not None:
        return diff_scores(database, load_defs(base_defs), head, as_of)
    with tempfile.TemporaryDirectory() as tmp:
        base_dir = defs_at_revision(defs_dir, defs_dir, rev or "HEAD", Path(tmp))
        return diff_scores(database, load_defs(base_dir), head, as_of)
