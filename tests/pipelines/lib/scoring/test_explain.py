"""`okr explain`: the lineage and the campaigns behind a KR agree with the score and with the raw export."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli.runner import run_pipeline
from pipelines.lib.scoring.explain import explain
from pipelines.lib.spec import load_defs
from tests.fixtures import acceptance_defs

pytestmark = pytest.mark.shared_data


def purchases_by_day(folder: Path) -> dict[dt.date, int]:
    out = {}
    with (folder / "test_group.csv").open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            out[dt.datetime.strptime(row["Date"], "%d.%m.%Y").date()] = int(row["# of Purchase"])
    return out


def test_explain_matches_the_score_and_the_export(tmp_path: Path, shared_data: Path) -> None:
    folder = shared_data / "ab_test_campaigns"
    defs_dir = acceptance_defs(tmp_path / "defs", str(folder / "*.csv"))
    database = tmp_path / "okr.duckdb"
    assert run_pipeline(defs_dir, database, dt.date(2019, 8, 15)).success
    ex = explain(database, load_defs(defs_dir), "aug-purchase-push/purchases", dt.date(2019, 8, 15))
    daily = purchases_by_day(folder)
    assert ex.window == ("2019-08-01", "2019-08-15") and ex.days_counted == 15 and ex.rows_counted == 15
    assert ex.filters == [("campaign_name", "Test Campaign", False)]
    assert [s["source"] for s in ex.sources] == ["ab_test"]
    (top,) = ex.top_campaigns
    assert top["campaign_name"] == "Test Campaign" and top["share"] == 1.0 and top["num_sum"] == 8474
    last7 = sum(daily[dt.date(2019, 8, d)] for d in range(9, 16))
    prev7 = sum(daily[dt.date(2019, 8, d)] for d in range(2, 9))
    (mover,) = ex.movers
    assert (mover["num_last7"], mover["num_prev7"], mover["change_7d"]) == (last7, prev7, last7 - prev7)
    assert ex.score["actual"] == 8474 and ex.formula == "sum(conversions) over the window"
    # a file load records the column it maps to conversions as its conversion definition (trap 8)
    assert [(c["source"], c["definition"], c["conversions"], c["days"]) for c in ex.conversions] == [
        ("ab_test", "file:conversions=# of Purchase", 8474.0, 15)
    ]

    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "explain",
            "purchases",
            "--defs",
            str(defs_dir),
            "--db",
            str(database),
            "--as-of",
            "2019-08-15",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert "filter campaign_name = 'Test Campaign'" in shown.stdout and "Test Campaign" in shown.stdout
    assert f"{last7 - prev7:,.2f}" in shown.stdout
    assert (
        "conversion definition of the rows behind the value:\n"
        "  ab_test (meta_ads): file:conversions=# of Purchase; conversions 8,474.00 over 15 days\n"
    ) in shown.stdout
