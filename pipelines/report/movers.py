""" "What moved it": the campaigns and channels behind a KR's change over the last 7 days.

okr.kr_contributions holds, per KR and campaign, the numerator and denominator sums of the last 7
days and of the 7 before. For a sum the effect of a campaign is its own change. For a ratio
R = N/D the change R1 − R0 splits exactly into one term per campaign i:

    effect_i = (n1_i − R0·d1_i)/D1 − (n0_i − R0·d0_i)/D0

(the second sum is zero over all campaigns, the first is R1 − R0), so the effects add up to the KR's
change and a campaign that grew at a worse-than-average ratio shows as pulling the ratio down.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pipelines.report.model import Mover, Movers

TOP = 5
NOT_SET = "(not set)"


@dataclass
class _Sums:
    n1: float = 0.0
    d1: float = 0.0
    n0: float = 0.0
    d0: float = 0.0
    seen_n1: bool = False
    seen_n0: bool = False

    def add(self, row: dict[str, Any]) -> None:
        self.n1 += row["numerator_last7"] or 0.0
        self.d1 += row["denominator_last7"] or 0.0
        self.n0 += row["numerator_prev7"] or 0.0
        self.d0 += row["denominator_prev7"] or 0.0
        self.seen_n1 |= row["numerator_last7"] is not None
        self.seen_n0 |= row["numerator_prev7"] is not None


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _mover(label: str, detail: str, part: _Sums, whole: _Sums, is_ratio: bool) -> Mover:
    last7 = part.n1 if part.seen_n1 else None
    prev7 = part.n0 if part.seen_n0 else None
    if not is_ratio:
        return Mover(label, detail, last7, prev7, effect=part.n1 - part.n0)
    r0 = _ratio(whole.n0, whole.d0)
    effect = 0.0
    if r0 is not None and whole.d1:
        effect = (part.n1 - r0 * part.d1) / whole.d1 - (part.n0 - r0 * part.d0) / whole.d0
    return Mover(label, detail, last7, prev7, effect, _ratio(part.n1, part.d1), _ratio(part.n0, part.d0))


def _top(movers: Iterable[Mover]) -> list[Mover]:
    moved = [m for m in movers if abs(m.effect) > 0]
    return sorted(moved, key=lambda m: (-abs(m.effect), m.label, m.detail))[:TOP]


def kr_movers(rows: list[dict[str, Any]], is_ratio: bool) -> Movers:
    """Top campaigns and channels by the size of their effect on the KR's 7-day change."""
    if not rows:
        return Movers(is_ratio=is_ratio)
    whole = _Sums()
    campaigns: dict[tuple[str, str, str], _Sums] = defaultdict(_Sums)
    names: dict[tuple[str, str, str], str] = {}
    channels: dict[tuple[str, str], _Sums] = defaultdict(_Sums)
    for row in rows:
        key = (row["platform"], row["channel"], row["campaign_id"])
        names[key] = row["campaign_name"] or row["campaign_id"] or NOT_SET
        for sums in (whole, campaigns[key], channels[key[:2]]):
            sums.add(row)
    total = _mover("", "", whole, whole, is_ratio)
    if is_ratio:
        r1, r0 = _ratio(whole.n1, whole.d1), _ratio(whole.n0, whole.d0)
        effect = r1 - r0 if r1 is not None and r0 is not None else 0.0
        total = Mover("", "", total.last7, total.prev7, effect, r1, r0)
    return Movers(
        total=total,
        campaigns=_top(_mover(names[k], f"{k[0]} · {k[1]}", s, whole, is_ratio) for k, s in sorted(campaigns.items())),
        channels=_top(_mover(k[1], k[0], s, whole, is_ratio) for k, s in sorted(channels.items())),
        is_ratio=is_ratio,
    )
