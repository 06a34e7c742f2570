"""K synthetic key results, and the okr_defs folder that makes the engine score them.

One list of `BenchKr` is the single source of truth: the engine reads it as YAML (through the real loader,
so the benchmark scores what an analyst could have written), the hand-written SQL reads it as a table and
the pandas baseline loops over it. The mix follows what the issue asks for: sums and ratios, filters by
platform, channel, campaign glob and campaign id list, windows of 30-180 days over two years of data.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from benchmarks.data import ACCOUNT_IDS, AS_OF, CHANNELS, DAYS, KINDS, METRICS, PLATFORMS, START, THEMES, YEARS

SUMS = ("spend", "clicks", "impressions", "conversions", "conversions_value")
RATIOS = {"ctr": ("clicks", "impressions"), "cpc": ("spend", "clicks"), "cpa": ("spend", "conversions")}
RATIOS |= {"roas": ("conversions_value", "spend")}
PERIOD_END = AS_OF + dt.timedelta(days=122)  # objectives run past the as-of day: some KRs are still open
KRS_PER_OBJECTIVE = 4


class _PlainDumper(yaml.SafeDumper):
    """Repeated dates stay written out (no &id001 anchors), as an analyst would type them."""

    def ignore_aliases(self, data: object) -> bool:
        return True


@dataclass(frozen=True)
class BenchKr:
    """One KR as all three implementations see it; `filters` uses okr_defs filter names (campaign = name)."""

    objective_id: str
    kr_id: str
    metric: str
    window_start: dt.date
    window_end: dt.date
    trailing_days: int | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.objective_id}/{self.kr_id}"

    @property
    def parts(self) -> tuple[str, str | None]:
        """(numerator, denominator) measures: a ratio is the ratio of the sums over the window."""
        return RATIOS.get(self.metric, (self.metric, None))

    @property
    def through(self) -> dt.date:
        """Rows count from window start through the as-of day, never past it."""
        return min(self.window_end, AS_OF)


def campaign_count(rows: int) -> int:
    """How many campaigns the generator makes for `rows` mart rows (five metrics a day for DAYS days)."""
    campaign_days = -(-rows // len(METRICS))
    return -(-campaign_days // DAYS)


def _filters(rng: random.Random, campaigns: int) -> dict[str, list[str]]:
    """A filter mix like real OKRs: none, platform(s), channel(s), a campaign glob, an id list, or several."""
    roll = rng.random()
    if roll < 0.10:
        return {}
    if roll < 0.35:
        return {"platform": rng.sample(PLATFORMS, rng.randint(1, 2))}
    if roll < 0.50:
        return {"channel": rng.sample(CHANNELS, rng.randint(1, 2))}
    if roll < 0.70:
        return {"campaign": [_glob(rng)]}
    if roll < 0.85:
        ids = rng.sample(range(campaigns), min(campaigns, rng.randint(3, 30)))
        return {"campaign_id": [f"c{i:06d}" for i in sorted(ids)]}
    return {"platform": [rng.choice(PLATFORMS)], "channel": rng.sample(CHANNELS, 2), "campaign": [_glob(rng)]}


def _glob(rng: random.Random) -> str:
    """Campaign-name globs of the kinds analysts write ("Tết 2025*", "*Sale #*", "Brand 202? - *")."""
    theme, year, kind = rng.choice(THEMES), rng.choice(YEARS), rng.choice(KINDS)
    return rng.choice([f"{theme} {year}*", f"*{kind} #*", f"{theme} 202? - *", f"* - {kind} #1*", f"{theme}*"])


def _window(rng: random.Random) -> tuple[dt.date, dt.date, int | None]:
    """30-180 days: a quarter trailing to as-of, the rest fixed, some still open after the as-of day."""
    length = rng.randint(30, 180)
    if rng.random() < 0.25:
        return AS_OF - dt.timedelta(days=length - 1), AS_OF, length
    end = START + dt.timedelta(days=rng.randint(length - 1, DAYS - 1 + 60))
    return end - dt.timedelta(days=length - 1), end, None


def make_krs(count: int, rows: int, seed: int) -> list[BenchKr]:
    """`count` KRs, four per objective, seeded: the same arguments always give the same KRs."""
    rng = random.Random(seed)
    campaigns = campaign_count(rows)
    metrics = [*SUMS, *RATIOS]
    weights = [12] * len(SUMS) + [10] * len(RATIOS)  # about 60 % sums, 40 % ratios
    krs = []
    for n in range(count):
        start, end, trailing = _window(rng)
        krs.append(
            BenchKr(
                objective_id=f"obj-{n // KRS_PER_OBJECTIVE:04d}",
                kr_id=f"kr-{n % KRS_PER_OBJECTIVE}",
                metric=rng.choices(metrics, weights)[0],
                window_start=start,
                window_end=end,
                trailing_days=trailing,
                filters=_filters(rng, campaigns),
            )
        )
    return krs


def _kr_yaml(kr: BenchKr) -> dict:
    """The KR as an analyst would write it; baseline and target only need to be valid, not meaningful."""
    window = (
        {"trailing": f"{kr.trailing_days}d"} if kr.trailing_days else {"start": kr.window_start, "end": kr.window_end}
    )
    lower_is_better = kr.metric in {"cpa", "cpc"}
    return {
        "id": kr.kr_id,
        "metric": kr.metric,
        **({"filters": kr.filters} if kr.filters else {}),
        "window": window,
        "baseline": 10.0 if lower_is_better else 0.0,
        "target": 1.0 if lower_is_better else 1_000_000.0,
    }


def _objectives_yaml(krs: list[BenchKr]) -> dict:
    """Objectives in a shallow alignment tree (parent = n // 5), so `score_all` also has a roll-up to do."""
    objectives: dict[str, dict] = {}
    for kr in krs:
        if kr.objective_id not in objectives:
            n = len(objectives)
            objectives[kr.objective_id] = {
                "id": kr.objective_id,
                "title": f"Objective {n}",
                "period": {"start": START, "end": PERIOD_END},
                **({"parent": f"obj-{(n - 1) // 5:04d}"} if n else {}),
                "key_results": [],
            }
        objectives[kr.objective_id]["key_results"].append(_kr_yaml(kr))
    return {"objectives": list(objectives.values())}


def _sources_yaml() -> dict:
    """One `type: file` source per generated platform: a platform filter must name a platform a source has.

    The paths do not exist; scoring reads only the mart, never the exports.
    """
    sources = {}
    for platform in PLATFORMS:
        sources[platform] = {
            "type": "file",
            "path": f"exports/{platform}.csv",
            "platform": platform,
            "account_id": ACCOUNT_IDS[platform],
            "currency": "USD",
            "date": {"column": "day"},
            "campaign_id": "campaign_id",
            "campaign_name": "campaign",
            "channel": {"column": "channel"},
            "metrics": {m: m for m in METRICS},
        }
    return {"sources": sources}


def write_defs(folder: Path, krs: list[BenchKr]) -> Path:
    """Write sources.yaml, metrics.yaml and objectives/bench.yaml for `krs`; returns the folder."""
    metrics: dict[str, dict] = {m: {"agg": "sum"} for m in SUMS}
    metrics |= {name: {"ratio": list(parts)} for name, parts in RATIOS.items()}
    files = {
        "sources.yaml": _sources_yaml(),
        "metrics.yaml": {"metrics": metrics},
        "objectives/bench.yaml": _objectives_yaml(krs),
    }
    for rel, doc in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.dump(doc, Dumper=_PlainDumper, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder
