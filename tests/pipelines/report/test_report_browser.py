"""The demo report in a real browser (Debian's chromium via playwright): what a marketer actually sees.

Opened from disk with file://, it must load nothing else, log no error, show every objective and KR
with the numbers `okr scores --format json` gives, switch to Vietnamese and back, hide the switch in
print, and keep every piece of text readable (contrast from the computed styles, not from the CSS).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipelines.report.theme import contrast
from tests.conftest import REPO
from tests.pipelines.report.conftest import Demo

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = REPO / "test-artifacts" / "report.png"
EN_STATUS = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track", "healthy": "Healthy"}
EN_STATUS |= {"breached": "Breached", "no_data": "No data"}

# For each element that has text of its own: its text colour and the first opaque background behind it.
TEXT_COLOURS_JS = """
() => {
  const out = [];
  const opaque = (c) => c && c !== 'transparent' && !/rgba\\(.*,\\s*0\\)$/.test(c);
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.checkVisibility()) continue;
    const style = getComputedStyle(el);
    const fg = el instanceof SVGElement ? style.fill : style.color;
    let bg = null;
    for (let a = el; a && !bg; a = a.parentElement) {
      const c = getComputedStyle(a).backgroundColor;
      if (opaque(c)) bg = c;
    }
    out.push([fg, bg || 'rgb(255, 255, 255)', el.tagName, el.textContent.trim().slice(0, 40)]);
  }
  return out;
}
"""


def _need_browser() -> Any:
    """Chromium and playwright are required in CI; elsewhere their absence skips with the reason."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    missing = [] if CHROMIUM.exists() else [f"{CHROMIUM} (apt-get install chromium)"]
    missing += [] if sync_playwright else ["the playwright package (pip install playwright)"]
    if missing:
        reason = "browser test needs " + " and ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    return sync_playwright


def _rgb_hex(css: str) -> str:
    r, g, b = (int(float(v)) for v in re.findall(r"[\d.]+", css)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _number(text: str) -> float:
    """A number read back from English text: VND 34,381,916,000 → 34381916000.0; 2.57% → 2.57."""
    return float(re.sub(r"[^\d.\-]", "", text.replace("\u2212", "-")))


@pytest.fixture(scope="module")
def report_file(demo_run: Demo) -> Path:
    lines = demo_run.stdout.strip().splitlines()
    assert lines[-1].startswith("Report: ")  # okr demo's last line is the report's path
    path = Path(lines[-1].removeprefix("Report: "))
    assert path == (demo_run.db.parent / "report.html").resolve() and path.is_absolute()
    return path


@pytest.fixture(scope="module")
def scores(demo_run: Demo) -> dict:
    shown = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "scores", "--db", str(demo_run.db), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(shown.stdout)


@pytest.fixture(scope="module")
def page(report_file: Path) -> Iterator[Any]:
    sync_playwright = _need_browser()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(30_000)
        page.requests, page.errors = [], []
        page.on("request", lambda request: page.requests.append(request.url))
        page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.goto(report_file.as_uri(), wait_until="load")
        yield page
        browser.close()


def test_opens_offline_without_errors_and_stays_small(page: Any, report_file: Path) -> None:
    assert page.requests == [report_file.as_uri()]  # the file itself, nothing else
    assert page.errors == []
    assert report_file.stat().st_size < 1_000_000
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.title() == "OKR progress report · 2026-02-22"


def test_every_objective_and_kr_with_the_numbers_okr_scores_shows(page: Any, scores: dict) -> None:
    assert page.inner_text('[data-field="as_of"]') == "Scores as of 22 Feb 2026"
    for obj in scores["objectives"]:
        card = page.locator(f'article[data-objective="{obj["id"]}"]')
        assert card.locator("h3").inner_text() == obj["title"]
        assert card.locator('.obj-score [data-field="score"]').inner_text() == f"{obj['score']:.0%}"
        assert card.locator(".obj-score .badge").first.inner_text() == EN_STATUS[obj["status"]]
        assert page.locator(f'li[data-tree="{obj["id"]}"] a').first.inner_text() == obj["title"]
        assert card.locator("article.kr").count() == len(obj["key_results"])
        for kr in obj["key_results"]:
            _check_kr(card.locator(f'article[data-kr="{kr["id"]}"]'), kr)
    tree = page.locator('li[data-tree="company-tet-2026"] li[data-tree="marketing-tet-paid"]')
    assert tree.count() == 1  # the department sits under the company in the alignment tree


def _check_kr(card: Any, kr: dict) -> None:
    assert card.locator("h4").inner_text() == kr["title"]
    assert card.get_attribute("data-status") == kr["status"]
    assert card.locator(".kr-head .badge").first.inner_text() == EN_STATUS[kr["status"]]
    actual = card.locator('[data-field="actual"]').inner_text()
    decimals = {"currency": 0, "ratio": 2, "percent": 4}.get(kr["unit"], 0)
    scale = 100 if kr["unit"] == "percent" else 1
    tolerance = 0.5 * 10**-decimals * scale + 1e-9  # half of the last digit shown
    assert abs(_number(actual) - kr["actual"] * scale) <= tolerance, (kr["id"], actual)
    for field in ("target", "baseline", "forecast"):
        shown = _number(card.locator(f'[data-field="{field}"]').inner_text())
        assert abs(shown - kr[field] * scale) <= tolerance, (kr["id"], field, shown)
    if kr["unit"] == "currency":
        assert actual == f"VND\u00a0{kr['actual']:,.0f}"
    for field in ("progress", "expected_progress", "score"):
        assert card.locator(f'[data-field="{field}"]').inner_text() == f"{kr[field]:.0%}", (kr["id"], field)
    assert card.locator('[data-field="data_through"]').inner_text() == "22 Feb 2026"
    assert card.locator("svg.chart").count() == 2 and card.locator("details table").count() == 2
    assert card.locator(".movers-table").count() >= 1  # every demo KR has campaigns behind its change


def test_kpis_show_their_band_and_health(page: Any, scores: dict) -> None:
    for kpi in scores["kpis"]:
        card = page.locator(f'article[data-kpi="{kpi["id"]}"]')
        assert card.get_attribute("data-status") == kpi["status"]
        assert card.locator(".badge").inner_text() == EN_STATUS[kpi["status"]]
        scale = 100 if kpi["unit"] == "percent" else 1
        shown = _number(card.locator('[data-field="actual"]').inner_text())
        assert abs(shown - kpi["actual"] * scale) <= 0.5 * (0.01 if kpi["unit"] == "percent" else 1)
    assert page.locator('[data-kpi="blended-cpc"] [data-field="band_high"]').inner_text() == "VND\u00a05,000"
    assert page.locator('[data-kpi="store-conversion-rate"] [data-field="band_low"]').inner_text() == "2.60%"


def test_language_switch_to_vietnamese_and_back(page: Any) -> None:
    revenue = page.locator('article[data-kr="online-revenue"] [data-field="actual"]')
    page.click("#lang-switch")
    assert page.evaluate("document.documentElement.lang") == "vi"
    assert page.inner_text("h1") == "Báo cáo tiến độ OKR"
    assert page.inner_text("#lang-switch") == "English"
    assert revenue.inner_text() == "34.381.916.000\u00a0₫"
    assert page.locator('article[data-kr="online-revenue"] .badge').first.inner_text() == "Đúng tiến độ"
    assert page.inner_text('[data-field="as_of"]') == "Điểm tính đến ngày 22/02/2026"
    assert page.title().startswith("Báo cáo tiến độ OKR")
    assert not page.locator('[data-l="en"]').first.is_visible()
    page.click("#lang-switch")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.inner_text("h1") == "OKR progress report" and revenue.inner_text() == "VND\u00a034,381,916,000"
    assert page.errors == []


def test_text_contrast_from_computed_styles(page: Any) -> None:
    seen = page.evaluate(TEXT_COLOURS_JS)
    assert len(seen) > 200
    low = [(fg, bg, tag, text) for fg, bg, tag, text in seen if contrast(_rgb_hex(fg), _rgb_hex(bg)) < 4.5]
    assert low == []


def test_print_layout_is_a4_without_the_switch(page: Any) -> None:
    page.emulate_media(media="print")
    try:
        assert not page.locator("#lang-switch").is_visible()
        assert page.locator("article.kr").first.is_visible()
        pdf = page.pdf(prefer_css_page_size=True)  # the page size comes from the stylesheet's @page
    finally:
        page.emulate_media(media="screen")
    assert page.locator("#lang-switch").is_visible()
    sizes = {tuple(round(float(v)) for v in box.split()) for box in re.findall(rb"/MediaBox \[([^\]]+)\]", pdf)}
    assert sizes == {(0, 0, 595, 842)}  # A4 in points


def test_screenshot_for_people(page: Any) -> None:
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1200, "height": 1600})
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    assert SCREENSHOT.read_bytes().startswith(b"\x89PNG") and SCREENSHOT.stat().st_size > 20_000
