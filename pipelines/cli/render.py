"""Terminal output: a compact scorecard tree with statuses in words (not colour alone)."""

from __future__ import annotations

import csv
import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipelines.cli.scores_view import KR_FIELDS
from pipelines.report import format as report_format
from pipelines.report.i18n import STATUS

STATUS_STYLE = {
    "on_track": "green",
    "at_risk": "yellow",
    "off_track": "red",
    "no_data": "dim",
    "not_started": "dim",
    "stale": "magenta",
    "invalid": "red",
    "healthy": "green",
    "breached": "red",
}
COLUMNS = [
    ("Objective / key result", "left"),
    ("Actual", "right"),
    ("Target", "right"),
    ("Progress", "right"),
    ("Expected", "right"),
    ("Score", "right"),
    ("Status", "left"),
    ("Data through", "left"),
]


def fmt_value(value: float | None, unit: str | None, currency: str | None = None) -> str:
    """A value in its unit, written exactly as the HTML report writes it in English."""
    text = report_format.metric_value(value, unit, currency, "en")
    return "-" if text == report_format.MISSING else text.replace(report_format.NBSP, " ")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def status_words(status: str) -> str:
    """The report's English status words, lower case (on track, no data, stale data ...)."""
    pair = STATUS.get(status)
    return pair[0].lower() if pair else status.replace("_", " ")


def _status(status: str) -> str:
    style = STATUS_STYLE.get(status, "")
    words = status_words(status)
    return f"[{style}]{words}[/]" if style else words


def tree_rows(objectives: list[dict]) -> list[tuple[str, str, dict]]:
    """(kind, branch prefix, item) in alignment order: each objective, its KRs, then its aligned children.

    The prefixes draw company → department → team as a tree (├ └ │), so the roll-up reads at a glance.
    """
    ids = {o["id"] for o in objectives}
    by_parent: dict[str | None, list[dict]] = {}
    for o in objectives:
        by_parent.setdefault(o["parent"] if o["parent"] in ids else None, []).append(o)
    out: list[tuple[str, str, dict]] = []

    def walk(obj: dict, lead: str, branch: str) -> None:
        out.append(("objective", branch, obj))
        items = [("kr", kr) for kr in obj["key_results"]] + [("objective", o) for o in by_parent.get(obj["id"], [])]
        for i, (kind, item) in enumerate(items):
            last = i == len(items) - 1
            connector = lead + ("└ " if last else "├ ")
            if kind == "kr":
                out.append(("kr", connector, item))
            else:
                walk(item, lead + ("  " if last else "│ "), connector)

    for root in by_parent.get(None, []):
        walk(root, "", "")
    return out


def scorecard_table(data: dict) -> Table:
    table = Table(title=f"OKR scores as of {data['as_of']}", title_justify="left", expand=False)
    for name, justify in COLUMNS:
        table.add_column(name, justify=justify)
    for kind, prefix, item in tree_rows(data["objectives"]):
        if kind == "objective":
            label = f"{prefix}[bold]{escape(item['title'])}[/] ({escape(item['id'])})"
            table.add_row(label, "", "", "", "", _pct(item["score"]), _status(item["status"]), "")
            continue
        cur = item.get("currency_code")
        table.add_row(
            f"{prefix}{escape(item['title'])}",
            fmt_value(item["actual"], item.get("unit"), cur),
            fmt_value(item["target"], item.get("unit"), cur),
            _pct(item["progress"]),
            _pct(item["expected_progress"]),
            _pct(item["score"]),
            _status(item["status"]),
            item["data_through"] or "-",
        )
    for kpi in data.get("kpis", []):
        _kpi_row(table, kpi)
    return table


def _kpi_row(table: Table, kpi: dict) -> None:
    band = " / ".join(
        f"{label} {fmt_value(kpi[key], kpi.get('unit'), kpi.get('currency_code'))}"
        for label, key in (("≥", "stay_above"), ("≤", "stay_below"))
        if kpi[key] is not None
    )
    table.add_row(
        f"[italic]KPI[/] {escape(kpi['title'])}",
        fmt_value(kpi["actual"], kpi.get("unit"), kpi.get("currency_code")),
        band,
        "",
        "",
        "",
        _status(kpi["status"]),
        kpi["data_through"] or "-",
    )


def print_table(data: dict, console: Console) -> None:
    console.print(scorecard_table(data))


def to_csv(data: dict) -> str:
    """One row per KR (and KPI), flat, for spreadsheets."""
    buffer = io.StringIO()
    fields = ["as_of", "objective_id", "objective_status", "kr_id", *KR_FIELDS[1:]]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for obj in data["objectives"]:
        for kr in obj["key_results"]:
            writer.writerow(
                {
                    "as_of": data["as_of"],
                    "objective_id": obj["id"],
                    "objective_status": obj["status"],
                    "kr_id": kr["id"],
                    **kr,
                }
            )
    for kpi in data.get("kpis", []):
        writer.writerow({"as_of": data["as_of"], "objective_id": "", "kr_id": kpi["id"], **kpi})
    return buffer.getvalue()
