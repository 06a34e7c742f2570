"""Terminal output: a compact scorecard tree with statuses in words (not colour alone)."""

from __future__ import annotations

import csv
import io

from rich.console import Console
from rich.table import Table

from pipelines.cli.scores_view import KR_FIELDS

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


def fmt_value(value: float | None, unit: str | None, currency: str | None = None) -> str:
    if value is None:
        return "-"
    if unit == "percent":
        return f"{value:.2%}"
    if unit == "currency":
        decimals = 0 if currency == "VND" or abs(value) >= 1000 else 2
        return f"{value:,.{decimals}f}" + (f" {currency}" if currency else "")
    if unit == "ratio":
        return f"{value:,.2f}"
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.2f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _status(status: str) -> str:
    style = STATUS_STYLE.get(status, "")
    return f"[{style}]{status.replace('_', ' ')}[/]" if style else status


def _depths(objectives: list[dict]) -> list[tuple[int, dict]]:
    """Objectives in alignment order (parents first, children indented beneath)."""
    by_parent: dict[str | None, list[dict]] = {}
    ids = {o["id"] for o in objectives}
    for o in objectives:
        by_parent.setdefault(o["parent"] if o["parent"] in ids else None, []).append(o)
    out: list[tuple[int, dict]] = []

    def walk(parent: str | None, depth: int) -> None:
        for o in by_parent.get(parent, []):
            out.append((depth, o))
            walk(o["id"], depth + 1)

    walk(None, 0)
    return out


def scorecard_table(data: dict) -> Table:
    table = Table(title=f"OKR scores as of {data['as_of']}", title_justify="left", expand=False)
    for name, justify in [
        ("Objective / key result", "left"),
        ("Actual", "right"),
        ("Target", "right"),
        ("Progress", "right"),
        ("Expected", "right"),
        ("Score", "right"),
        ("Status", "left"),
        ("Data through", "left"),
    ]:
        table.add_column(name, justify=justify)
    for depth, obj in _depths(data["objectives"]):
        pad = "  " * depth
        table.add_row(
            f"{pad}[bold]{obj['title']}[/] ({obj['id']})",
            "",
            "",
            "",
            "",
            _pct(obj["score"]),
            _status(obj["status"]),
            "",
        )
        for kr in obj["key_results"]:
            cur = kr.get("currency_code")
            table.add_row(
                f"{pad}  • {kr['title']}",
                fmt_value(kr["actual"], kr.get("unit"), cur),
                fmt_value(kr["target"], kr.get("unit"), cur),
                _pct(kr["progress"]),
                _pct(kr["expected_progress"]),
                _pct(kr["score"]),
                _status(kr["status"]),
                kr["data_through"] or "-",
            )
    for kpi in data.get("kpis", []):
        band = " / ".join(
            f"{label} {fmt_value(kpi[key], kpi.get('unit'))}"
            for label, key in (("≥", "stay_above"), ("≤", "stay_below"))
            if kpi[key] is not None
        )
        table.add_row(
            f"[italic]KPI[/] {kpi['title']}",
            fmt_value(kpi["actual"], kpi.get("unit")),
            band,
            "",
            "",
            "",
            _status(kpi["status"]),
            kpi["data_through"] or "-",
        )
    return table


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
