"""Inline SVG charts: positions follow the data, gaps stay gaps, labels exist in both languages."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from pipelines.report.charts import HEIGHT, LEFT, PLOT_H, TOP, Chart, Line, interpolate, nice_ticks, svg
from pipelines.report.model import Point

D = dt.date(2026, 1, 1)


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def polylines(markup: str, role: str) -> list[list[tuple[float, float]]]:
    found = re.findall(rf'<polyline class="l-{role}" points="([^"]+)"', markup)
    return [[tuple(map(float, xy.split(","))) for xy in p.split()] for p in found]


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (0, 70e9, [0, 20e9, 40e9, 60e9, 80e9]),
        (3.9, 5.0, [3.5, 4.0, 4.5, 5.0]),
        (0.0, 1.0, [0, 0.25, 0.5, 0.75, 1.0]),
        (5.0, 5.0, [4.5, 4.75, 5.0, 5.25, 5.5]),  # a flat line gets ±10 % of room
    ],
)
def test_nice_ticks(lo: float, hi: float, expected: list[float]) -> None:
    assert nice_ticks(lo, hi) == pytest.approx(expected)


def test_points_land_where_their_day_and_value_say() -> None:
    points = [Point(day(0), 0.0), Point(day(5), 50.0), Point(day(10), 100.0)]
    chart = Chart("c", [Line("actual", points)], day(0), day(20), "count", zero_based=True, width=400)
    markup = str(svg(chart))
    (line,) = polylines(markup, "actual")
    plot_w = 400 - LEFT - 16
    assert line[0] == pytest.approx((LEFT, TOP + PLOT_H), abs=0.06)
    assert line[1] == pytest.approx((LEFT + plot_w / 4, TOP + PLOT_H / 2), abs=0.06)  # day 5 of 20, 50 of 0..100
    assert line[2] == pytest.approx((LEFT + plot_w / 2, TOP), abs=0.06)
    assert 'viewBox="0 0 400 210"' in markup and f"{HEIGHT}" in markup
    assert 'aria-labelledby="c"' in markup and 'role="img"' in markup


def test_a_missing_day_breaks_the_line_instead_of_dropping_to_zero() -> None:
    points = [Point(day(0), 1.0), Point(day(1), 2.0), Point(day(2), None), Point(day(3), 3.0), Point(day(4), 4.0)]
    markup = str(svg(Chart("c", [Line("actual", points)], day(0), day(4), "ratio")))
    assert [len(p) for p in polylines(markup, "actual")] == [2, 2]


def test_labels_exist_once_per_language_and_levels_are_drawn() -> None:
    points = [Point(day(0), 0.02), Point(day(27), 0.03)]
    markup = str(svg(Chart("k", [Line("actual", points)], day(0), day(27), "percent", levels=[("stay_above", 0.026)])))
    en = re.search(r'<g data-l="en">(.*?)</g>', markup).group(1)
    vi = re.search(r'<g data-l="vi">(.*?)</g>', markup).group(1)
    assert ">1 Jan<" in en and ">28 Jan<" in en and ">01/01<" in vi and ">28/01<" in vi
    assert ">2.5%<" in en and ">2,5%<" in vi
    assert markup.count('class="l-level"') == 1
    assert "http://" not in markup.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_one_point_is_drawn_in_the_middle() -> None:
    markup = str(svg(Chart("h", [Line("actual", [Point(day(3), 0.5)])], day(3), day(3), "percent", domain=(0, 1))))
    cx = float(re.search(r'<circle class="dot" cx="([\d.]+)"', markup).group(1))
    assert cx == pytest.approx(LEFT + (600 - LEFT - 16) / 2, abs=0.06)


def test_interpolate_the_pace_line() -> None:
    pace = [Point(day(0), 10.0), Point(day(10), 110.0)]
    assert interpolate(pace, day(0)) == 10.0
    assert interpolate(pace, day(4)) == pytest.approx(50.0)
    assert interpolate(pace, day(11)) is None
