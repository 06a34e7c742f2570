"""The HTML file: self-contained, both languages, headings in order, a table behind every chart."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli.app import app
from pipelines.report.data import load_report
from pipelines.report.format import NBSP
from pipelines.report.render import default_path, render_html, write_report


class Outline(HTMLParser):
    """Headings in document order, and each <figure>'s contents."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.figures: list[set[str]] = []
        self.open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "figure":
            self.figures.append(set())
            self.open = True
        elif self.open:
            self.figures[-1].add(tag)

    def handle_endtag(self, tag: str) -> None:
        self.open = self.open and tag != "figure"


@pytest.fixture(scope="module")
def html(small_db: Path) -> str:
    return render_html(load_report(small_db), "en")


def test_self_contained_no_network(html: str) -> None:
    without_svg_ns = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not re.search(r"https?://|//[a-z]", without_svg_ns, re.IGNORECASE)
    assert not re.search(r"<link|<img|<iframe|\bsrc=|@import|url\(", html, re.IGNORECASE)
    assert html.count("<style>") == 1 and html.count("<script>") == 1


def test_headings_are_in_order_and_every_chart_has_a_table(html: str) -> None:
    outline = Outline()
    outline.feed(html)
    levels = outline.headings
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b <= a + 1 for a, b in pairwise(levels)), levels
    assert levels.count(3) == 3 + 1 + 3  # 3 objectives, 1 KPI, 3 data-quality parts (notes only when there are any)
    charts = [f for f in outline.figures if "svg" in f]
    assert len(charts) == 6 * 2 + 1 - 2  # 6 KRs × (trend + history) + 1 KPI, less Gamma's two (no data)
    assert all({"table", "details", "figcaption"} <= f and "article" not in f for f in charts)
    assert len(outline.figures) == 6 * 2 + 1  # Gamma's figures say "no data" instead of drawing a 0 line


def test_both_languages_are_in_the_file(html: str, small_db: Path) -> None:
    assert html.count('data-l="en"') == html.count('data-l="vi"') > 100
    assert "Báo cáo tiến độ OKR" in html and "OKR progress report" in html
    assert f"USD{NBSP}3,000.00" in html and f"3.000,00{NBSP}US$" in html  # spend-cap actual
    assert '<html lang="en"' in html
    assert render_html(load_report(small_db), "vi").startswith('<!doctype html>\n<html lang="vi"')
    with pytest.raises(ValueError, match="unsupported language"):
        render_html(load_report(small_db), "fr")


def test_no_data_is_a_badge_and_a_dash_never_zero(html: str) -> None:
    card = re.search(r'<article class="kr" id="kr-social-team-gamma".*?</article>', html, re.DOTALL).group(0)
    assert 'data-status="no_data"' in card and "No data" in card and "Chưa có dữ liệu" in card
    progress = re.search(r'data-field="progress"[^>]*>(.*?)</dd>', card).group(1)
    assert progress == "–" and "0%" not in re.search(r'data-field="score"[^>]*>(.*?)</dd>', card).group(1)


def test_okr_report_command(small_db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "site" / "okr.html"
    result = runner.invoke(app, ["report", "--db", str(small_db), "--out", str(out), "--lang", "vi"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Report: {out.resolve()}"
    assert out.read_text(encoding="utf-8").startswith('<!doctype html>\n<html lang="vi"')
    result = runner.invoke(app, ["report", "--db", str(small_db)])
    assert result.exit_code == 0 and default_path(small_db).exists()
    assert result.output.strip() == f"Report: {small_db.parent.resolve() / 'report.html'}"
    missing = runner.invoke(app, ["report", "--db", str(tmp_path / "nope.duckdb")])
    assert missing.exit_code == 1 and "no database at" in missing.output
    bad = runner.invoke(app, ["report", "--db", str(small_db), "--lang", "fr"])
    assert bad.exit_code == 2


def test_write_report_counts(small_db: Path, tmp_path: Path) -> None:
    written = write_report(small_db, tmp_path / "r.html")
    assert (written.objectives, written.key_results, written.kpis) == (3, 6, 1)
    assert written.statuses == {"on_track": 5, "no_data": 1, "healthy": 1}
    assert written.size_bytes == (tmp_path / "r.html").stat().st_size
    assert oct((tmp_path / "r.html").stat().st_mode & 0o777) == "0o644"
