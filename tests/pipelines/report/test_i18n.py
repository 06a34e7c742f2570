"""Every string exists in both languages with the same placeholders, and every status has words."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.report import i18n, theme

TEMPLATES = Path(i18n.__file__).parent / "templates"


def test_both_languages_are_filled_and_take_the_same_placeholders() -> None:
    for key, (en, vi) in i18n.STRINGS.items():
        assert en.strip() and vi.strip(), key
        assert i18n.fields(en) == i18n.fields(vi), key
    assert i18n.text("as_of", "vi", date="22/02/2026") == "Điểm tính đến ngày 22/02/2026"
    assert i18n.text("status.off_track", "en") == "Off track"


def test_every_status_the_engine_or_report_uses_has_words_and_a_colour() -> None:
    engine_statuses = {"on_track", "at_risk", "off_track", "no_data", "not_started", "stale", "invalid"}
    kpi_statuses = {"healthy", "breached"}
    for status in engine_statuses | kpi_statuses | {"self_reported"}:
        assert f"status.{status}" in i18n.STRINGS
        assert status in theme.STATUS_FAMILY


def test_every_key_the_templates_use_exists() -> None:
    used: set[str] = set()
    for template in TEMPLATES.glob("*.j2"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_0-9.]+)["']\s*[,)]""", template.read_text(encoding="utf-8")))
    assert len(used) > 30
    assert used - set(i18n.STRINGS) == set()
