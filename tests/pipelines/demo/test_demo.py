"""The demo team: generated exports are deterministic and realistic; `okr demo` runs end to end."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from pipelines.demo.generator import DEMO_AS_OF, DEMO_START, TET_DAYS, write_demo_exports


def digest(files: dict[str, Path]) -> dict[str, str]:
    return {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in files.items()}


def test_exports_are_seeded_and_cover_18_months(tmp_path: Path) -> None:
    first = write_demo_exports(tmp_path / "a")
    assert digest(first) == digest(write_demo_exports(tmp_path / "b"))
    assert digest(first) != digest(write_demo_exports(tmp_path / "c", seed=7))
    ga4 = pd.read_csv(first["ga4"], dtype={"date": str})
    days = pd.to_datetime(ga4["date"], format="%Y%m%d").dt.date
    assert (days.min(), days.max()) == (DEMO_START, DEMO_AS_OF)
    assert (DEMO_AS_OF - DEMO_START).days + 1 >= 18 * 30
    assert first["meta_ads"].read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, as Excel writes it
    assert ga4["purchaseRevenue"].isna().sum() > 0  # a few missing cells on purpose


def test_tet_peak_then_holiday_dip(tmp_path: Path) -> None:
    ga4 = pd.read_csv(write_demo_exports(tmp_path)["ga4"], dtype={"date": str})
    ga4["day"] = pd.to_datetime(ga4["date"], format="%Y%m%d").dt.date
    daily = ga4.groupby("day")["sessions"].sum()
    tet = TET_DAYS[2026]
    peak = daily.loc[tet - dt.timedelta(days=14) : tet - dt.timedelta(days=3)].mean()
    holiday = daily.loc[tet - dt.timedelta(days=1) : tet + dt.timedelta(days=4)].mean()
    autumn = daily.loc[dt.date(2025, 10, 1) : dt.date(2025, 10, 31)].mean()
    assert peak > 1.5 * autumn and holiday < 0.6 * peak


def test_okr_demo_end_to_end(tmp_path: Path) -> None:
    defs, database = tmp_path / "okr_defs", tmp_path / "okr.duckdb"
    run = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "demo", "--defs", str(defs), "--db", str(database)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "Make Tết 2026 our biggest online season yet" in run.stdout and f"Database: {database}" in run.stdout
    shown = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "scores", "--db", str(database), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    data = json.loads(shown.stdout)
    assert data["as_of"] == DEMO_AS_OF.isoformat()
    objectives = {o["id"]: o for o in data["objectives"]}
    assert objectives["marketing-tet-paid"]["parent"] == "company-tet-2026"
    krs = {kr["id"]: kr for o in data["objectives"] for kr in o["key_results"]}
    assert all(kr["status"] in {"on_track", "at_risk", "off_track"} for kr in krs.values())
    assert {k["status"] for k in data["kpis"]} <= {"healthy", "breached"} and len(data["kpis"]) == 2
    # Independent check against the generated export: revenue since 1 Dec, blanks skipped.
    ga4 = pd.read_csv(tmp_path / "data" / "demo" / "ga4_sessions.csv", dtype={"date": str})
    in_window = ga4.loc[(ga4["date"] >= "20251201") & (ga4["date"] <= DEMO_AS_OF.strftime("%Y%m%d"))]
    assert krs["online-revenue"]["actual"] == in_window["purchaseRevenue"].sum()
    ads = [pd.read_csv(tmp_path / "data" / "demo" / "google_ads_campaigns.csv")]
    google = ads[0].loc[ads[0]["Day"] >= "2025-12-01"]
    meta = pd.read_csv(tmp_path / "data" / "demo" / "meta_ads_campaigns.csv", sep=";", encoding="utf-8-sig")
    meta = meta.loc[pd.to_datetime(meta["Reporting starts"], format="%d/%m/%Y") >= "2025-12-01"]
    purchases = google["Conversions"].sum() + meta["Purchases"].sum()
    assert abs(krs["paid-purchases"]["actual"] - purchases) < 1e-6
    spend = google["Cost"].sum() + meta["Amount spent (VND)"].sum()
    assert abs(krs["blended-cpa"]["actual"] - spend / purchases) < 1e-6 * spend / purchases
