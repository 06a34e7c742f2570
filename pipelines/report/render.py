"""Render the progress report to one self-contained HTML file (inline CSS, JS and SVG; no network).

One file a marketer can open from disk, mail, or put on any static host: nothing is fetched, so it
looks the same offline, printed, and a year later.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import jinja2

from pipelines.report import format as fmt
from pipelines.report import i18n, theme, views
from pipelines.report.data import load_report
from pipelines.report.model import Report

TEMPLATES = Path(__file__).parent / "templates"
REPORT_NAME = "report.html"


def environment() -> jinja2.Environment:
    """Autoescaping on, undefined names fail loudly: a typo in a template is an error, not a blank."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        t=views.t,
        metric=views.metric,
        signed_metric=views.signed_metric,
        count=views.count,
        share=views.share,
        date=views.date,
        quality_note=views.quality_note,
        status=views.status,
        anchor=views.anchor,
        baseline_detail=views.baseline_detail,
        bar_width=views.bar_width,
        metric_figure=views.metric_figure,
        history_figure=views.history_figure,
        text=i18n.text,
        langs=fmt.LANGS,
        css_variables=theme.css_variables(),
    )
    return env


def render_html(report: Report, lang: str = "en") -> str:
    """The whole page; `lang` is the language it opens in (the other is one click away)."""
    if lang not in fmt.LANGS:
        raise ValueError(f"unsupported language {lang!r}: use one of {', '.join(fmt.LANGS)}")
    computed = report.computed_at.strftime("%Y-%m-%d %H:%M") if report.computed_at else None
    titles = {o.id: o.title for o in report.walk()}
    template = environment().get_template("report.html.j2")
    return template.render(report=report, lang=lang, computed=computed, titles=titles)


def default_path(db_path: Path) -> Path:
    """report.html beside the DuckDB file (data/report.html for the default database)."""
    return Path(db_path).parent / REPORT_NAME


@dataclass(frozen=True)
class WrittenReport:
    path: Path
    size_bytes: int
    as_of: dt.date
    objectives: int
    key_results: int
    kpis: int
    statuses: dict[str, int]


def _write_atomically(path: Path, text: str) -> None:
    """Readers (a static host, an open browser tab) never see half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be served and shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(db_path: Path, out: Path | None = None, lang: str = "en") -> WrittenReport:
    """Read the database, render, and write the page; returns what was written for logs and metadata."""
    report = load_report(Path(db_path))
    html = render_html(report, lang)
    path = Path(out) if out is not None else default_path(Path(db_path))
    _write_atomically(path, html)
    krs = report.key_results
    return WrittenReport(
        path=path.resolve(),
        size_bytes=path.stat().st_size,
        as_of=report.as_of,
        objectives=len(report.walk()),
        key_results=len(krs),
        kpis=len(report.kpis),
        statuses=dict(Counter(item.status for item in [*krs, *report.kpis])),
    )
