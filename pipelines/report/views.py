"""Helpers the templates call: both languages side by side, status badges and chart figures.

Everything visible is produced once per language and wrapped in `data-l` spans; the stylesheet shows
the spans of the page's current `<html lang>`, so switching language needs no network and no re-render.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from pipelines.report import format as fmt
from pipelines.report import i18n
from pipelines.report.charts import Chart, Line, interpolate, svg
from pipelines.report.model import KeyResult, Kpi, MetricSeries, Point, QualityNote
from pipelines.report.theme import STATUS_FAMILY

PerLang = Callable[[str], str]


class Dual(Markup):
    """The markup of a text in both languages that remembers each plain text, so it can be nested in t()."""

    texts: dict[str, str]


def dual(render: PerLang) -> Dual:
    """One text per language; a single text when both read the same (names, most dates)."""
    texts = {lang: render(lang) for lang in fmt.LANGS}
    if len(set(texts.values())) == 1:
        out = Dual(escape(texts[fmt.LANGS[0]]))
    else:
        out = Dual(Markup("").join(Markup('<span data-l="{}">{}</span>').format(k, v) for k, v in texts.items()))
    out.texts = texts
    return out


def _in(value: Any, lang: str) -> Any:
    return value.texts[lang] if isinstance(value, Dual) else value


def t(key: str, **values: Any) -> Dual:
    """A UI string in both languages; a value may itself be a Dual (a number formatted per language)."""
    return dual(lambda lang: i18n.text(key, lang, **{k: _in(v, lang) for k, v in values.items()}))


def metric(value: float | None, unit: str | None, currency: str | None) -> Markup:
    return dual(lambda lang: fmt.metric_value(value, unit, currency, lang))


def signed_metric(value: float | None, unit: str | None, currency: str | None) -> Markup:
    """A change: +1,234 for a rise, -1,234 for a fall."""
    return dual(
        lambda lang: (
            fmt.metric_value(value, unit, currency, lang)
            if value is None
            else fmt.signed(fmt.metric_value(value, unit, currency, lang), value)
        )
    )


def count(value: float) -> Markup:
    return dual(lambda lang: fmt.count(value, lang))


def share(value: float | None) -> Markup:
    return dual(lambda lang: fmt.share(value, lang))


def quality_note(note: QualityNote) -> Markup:
    """A data-quality note in both languages: the KRs it concerns, each with how much of its data."""
    if not note.items:
        return escape(note.text)

    def render(lang: str) -> str:
        items = []
        for item in note.items:
            title = i18n.text("baseline_window", lang, title=item.title) if item.baseline else item.title
            values = {
                "title": title,
                "flagged": fmt.count(item.flagged, lang),
                "checked": fmt.count(item.checked, lang),
            }
            items.append(i18n.text(f"quality_item.{item.origin}", lang, **values))
        share_text = fmt.share(note.share, lang) if note.share is not None else "?"
        return i18n.text(f"quality_note.{note.kind}", lang, items="; ".join(items), share=share_text)

    return dual(render)


def date(day: dt.date | None) -> Markup:
    return dual(lambda lang: fmt.date(day, lang))


def status(name: str) -> Markup:
    """A badge that says its status in words; the colour only repeats it."""
    family = STATUS_FAMILY.get(name, "neutral")
    return Markup('<span class="badge b-{}" data-status="{}">{}</span>').format(family, name, t(f"status.{name}"))


def baseline_detail(kind: str | None) -> Markup | str:
    """How a measured baseline was measured, in words; an unknown kind (a newer engine) as written."""
    if not kind:
        return ""
    return t(f"baseline_kind.{kind}") if f"baseline_kind.{kind}" in i18n.STRINGS else kind


def anchor(*parts: str) -> str:
    """An HTML id from analyst-written ids (kept to letters, digits, - and _)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", "-".join(parts)).strip("-")


def bar_width(share_value: float | None) -> str:
    """Progress as a bar width: 0–100 %, whatever the uncapped number says."""
    return f"{max(0.0, min(1.0, share_value or 0.0)) * 100:.1f}%"


@dataclass(frozen=True)
class Figure:
    caption_id: str
    svg: Markup | None
    columns: list[str]
    rows: list[list[Markup]]
    legend: list[str]


def _table_rows(series: MetricSeries, unit: str | None, currency: str | None) -> tuple[list[str], list[list[Markup]]]:
    columns = ["date", "actual"] + (["legend_pace"] if series.pace else []) + (["forecast"] if series.forecast else [])
    rows = []
    for p in series.points:
        row = [date(p.day), metric(p.value, unit, currency)]
        if series.pace:
            row.append(metric(interpolate(series.pace, p.day), unit, currency))
        if series.forecast:
            row.append(metric(None, unit, currency))
        rows.append(row)
    if series.forecast:
        end = series.forecast[-1]
        row = [date(end.day), metric(None, unit, currency)]
        row += [metric(interpolate(series.pace, end.day), unit, currency)] if series.pace else []
        rows.append([*row, metric(end.value, unit, currency)])
    return columns, rows


def metric_figure(item: KeyResult | Kpi, caption_id: str) -> Figure:
    """The metric's trend with its pace line, forecast and thresholds, plus the same numbers as a table."""
    series = item.series
    lines = [Line("actual", series.points), Line("pace", series.pace), Line("forecast", series.forecast)]
    chart = Chart(
        caption_id,
        [line for line in lines if line.points],
        item.window_start,
        item.window_end,
        item.unit,
        levels=series.levels,
        zero_based=series.kind in ("cumulative", "running_count"),
    )
    legend = [name for name, on in (("legend_actual", True), ("legend_pace", series.pace)) if on]
    legend += ["legend_forecast"] if series.forecast else []
    names = {name for name, _ in series.levels}
    legend += ["legend_level"] if names - {"baseline"} else []
    legend += ["legend_baseline"] if "baseline" in names else []
    columns, rows = _table_rows(series, item.unit, item.currency)
    return Figure(caption_id, svg(chart) if series.points else None, columns, rows, legend)


def history_figure(kr: KeyResult, caption_id: str) -> Figure:
    """The KR's score on each as-of date (the latest run of each day), 0–100 %."""
    points = [Point(p.day, p.value) for p in kr.history]
    days = [p.day for p in points]
    start, end = min(days, default=kr.window_start), max(days, default=kr.window_start)
    chart = Chart(caption_id, [Line("actual", points)], start, end, "percent", domain=(0.0, 1.0), width=320)
    rows = [[date(p.day), share(p.value)] for p in points]
    has_values = any(p.value is not None for p in points)
    return Figure(caption_id, svg(chart) if has_values else None, ["date", "score"], rows, ["legend_actual"])
