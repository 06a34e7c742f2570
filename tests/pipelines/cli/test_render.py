"""The terminal scorecard: a compact alignment tree with the report's status words."""

from __future__ import annotations

from rich.console import Console

from pipelines.cli.render import fmt_value, scorecard_table, status_words, tree_rows


def kr(kr_id: str, status: str = "on_track", actual: float | None = 1.0) -> dict:
    return {
        "id": kr_id,
        "title": f"KR {kr_id}",
        "metric": "m",
        "actual": actual,
        "baseline": 0.0,
        "target": 2.0,
        "progress": None if actual is None else actual / 2,
        "score": None if actual is None else actual / 2,
        "expected_progress": 0.5,
        "forecast": actual,
        "status": status,
        "data_through": "2026-01-20" if actual is not None else None,
        "unit": "count",
        "currency_code": None,
    }


def objective(obj_id: str, parent: str | None, krs: list[dict], status: str = "on_track") -> dict:
    return {
        "id": obj_id,
        "title": f"Objective {obj_id}",
        "score": 0.5,
        "status": status,
        "parent": parent,
        "key_results": krs,
    }


DATA = {
    "as_of": "2026-01-20",
    "objectives": [
        objective("company", None, [kr("a"), kr("b")]),
        objective("marketing", "company", [kr("c", "at_risk")], "at_risk"),
        objective("team", "marketing", [kr("d", "no_data", None)]),
        objective("sales", "company", [kr("e", "stale")]),
    ],
    "kpis": [],
}


def test_tree_rows_draw_company_department_team() -> None:
    rows = [(prefix, item["id"]) for _, prefix, item in tree_rows(DATA["objectives"])]
    assert rows == [
        ("", "company"),
        ("├ ", "a"),
        ("├ ", "b"),
        ("├ ", "marketing"),
        ("│ ├ ", "c"),
        ("│ └ ", "team"),
        ("│   └ ", "d"),
        ("└ ", "sales"),
        ("  └ ", "e"),
    ]


def test_scorecard_shows_status_words_and_dashes_for_missing_data() -> None:
    console = Console(width=200, record=True, color_system=None)
    console.print(scorecard_table(DATA))
    text = console.export_text()
    assert "│   └ KR d" in text and "no data" in text and "stale data" in text and "at risk" in text
    line = next(row for row in text.splitlines() if "KR d" in row)
    cells = [c.strip() for c in line.split("│")[1:-1]]
    # actual, progress and score are dashes, never 0 %; the expected pace still shows
    assert cells[-7:] == ["-", "2", "-", "50%", "-", "no data", "-"]
    assert status_words("off_track") == "off track" and status_words("brand_new") == "brand new"


def test_values_are_written_as_the_report_writes_them() -> None:
    assert fmt_value(34_381_916_000, "currency", "VND") == "VND 34,381,916,000"
    assert fmt_value(1234.5, "currency", "USD") == "USD 1,234.50"
    assert fmt_value(0.025695, "percent") == "2.57%" and fmt_value(None, "count") == "-"
