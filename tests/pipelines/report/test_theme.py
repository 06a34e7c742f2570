"""Text contrast: every text/background pair the stylesheet uses is at least 4.5:1 (WCAG AA)."""

from __future__ import annotations

import re

import pytest

from pipelines.report import theme
from pipelines.report.render import environment


def test_contrast_formula_matches_known_values() -> None:
    assert theme.contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert theme.contrast("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert theme.contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic "just fails" grey
    assert theme.contrast("#fff", "#0b57d0") == theme.contrast("#0b57d0", "#ffffff")


@pytest.mark.parametrize(("fg", "bg"), theme.TEXT_PAIRS)
def test_text_pairs_reach_aa(fg: str, bg: str) -> None:
    assert theme.contrast(theme.COLOURS[fg], theme.COLOURS[bg]) >= 4.5, (fg, bg)


def test_the_stylesheet_uses_these_colours_and_no_others() -> None:
    css = environment().get_template("report.css.j2").render()
    declared = dict(re.findall(r"--([a-z_-]+): (#[0-9a-f]{6});", css))
    assert declared == theme.COLOURS
    rules = css.split(":root", 1)[1].split("}", 1)[1]
    assert re.findall(r"#[0-9a-fA-F]{3,6}\b", rules) == []  # every other colour goes through a variable
    for prop in re.findall(r"(?<![-\w])color: var\(--([a-z_-]+)\)", rules):
        assert any(fg == prop for fg, _ in theme.TEXT_PAIRS), prop
