""" "What moved it": campaign and channel changes, with ratio effects that add up to the KR's change."""

from __future__ import annotations

import pytest

from pipelines.report.movers import kr_movers


def row(platform: str, channel: str, campaign: str, n1: float | None, d1: float | None, n0, d0, name=None) -> dict:
    return {
        "platform": platform,
        "channel": channel,
        "campaign_id": campaign,
        "campaign_name": name,
        "numerator_last7": n1,
        "denominator_last7": d1,
        "numerator_prev7": n0,
        "denominator_prev7": d0,
    }


ROWS = [
    row("google_ads", "Paid Search", "1", 700, 14, 700, 14, "Alpha"),
    row("google_ads", "Paid Search", "2", 350, 21, 350, 13, "Beta"),
    row("meta_ads", "Paid Social", "3", 90, 2, None, None, "New"),
    row("meta_ads", "Paid Social", "4", None, None, 40, 1, None),
]


def test_sum_metrics_rank_campaigns_by_their_change() -> None:
    movers = kr_movers(ROWS, is_ratio=False)
    assert [(m.label, m.delta) for m in movers.campaigns] == [("New", 90.0), ("4", -40.0)]  # Alpha, Beta: no change
    assert movers.total.last7 == 1140 and movers.total.prev7 == 1090 and movers.total.delta == 50
    assert [(m.label, m.detail, m.delta) for m in movers.channels] == [("Paid Social", "meta_ads", 50.0)]


def test_ratio_effects_add_up_to_the_change_of_the_ratio() -> None:
    movers = kr_movers(ROWS, is_ratio=True)
    r1, r0 = 1140 / 37, 1090 / 28
    assert movers.total.ratio_last7 == pytest.approx(r1) and movers.total.ratio_prev7 == pytest.approx(r0)
    assert movers.total.effect == pytest.approx(r1 - r0)
    assert sum(m.effect for m in movers.campaigns) == pytest.approx(r1 - r0)
    by_label = {m.label: m for m in movers.campaigns}
    # Beta bought 8 more purchases at 16.7 a piece, far cheaper than the 38.9 average: it pulled the ratio down most.
    assert movers.campaigns[0].label == "Beta"
    assert by_label["Beta"].effect == pytest.approx((350 - r0 * 21) / 37 - (350 - r0 * 13) / 28)
    assert by_label["Beta"].ratio_last7 == pytest.approx(350 / 21) and by_label["Beta"].ratio_delta == pytest.approx(
        350 / 21 - 350 / 13
    )
    assert by_label["New"].ratio_prev7 is None and by_label["New"].ratio_delta is None
    assert sum(m.effect for m in movers.channels) == pytest.approx(r1 - r0)


def test_no_contributions_means_nothing_to_explain() -> None:
    movers = kr_movers([], is_ratio=True)
    assert movers.empty and movers.total is None
