"""Faults around `okr run` itself: a locked database, two runs at once, a full disk, a day that vanished from a
re-pull, hostile text in the data, and days at the edges of the calendar. See docs/reliability.md.

Each test uses real processes and a real DuckDB file; the numbers asserted come from the rows written here.
"""

from __future__ import annotations

import datetime as dt
import resource
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from markupsafe import escape

from pipelines.cli.runner import RunOutcome, run_pipeline
from pipelines.cli.scores_view import read_scores
from pipelines.lib import db
from pipelines.lib.spec import DefsErrors, load_defs
from tests.conftest import REPO, write_defs
from tests.connectors.test_ga4 import COLUMNS as GA4_COLUMNS
from tests.fakes.ga4_server import FakeGa4Server, FakeProperty
from tests.reliability_kit import (
    SHOP_METRICS,
    checksums,
    okr,
    okr_process,
    shop_defs,
    shop_rows,
    shop_sources,
    table_rows,
    write_shop_csv,
)

JAN = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(10)]
PERIOD = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
AS_OF = "2026-01-10"
QUICK_LOCK = {"OKR_DB_LOCK_TIMEOUT": "1"}  # give up on a held lock after a second, not the default 16


def _krs(database: Path) -> dict[str, dict]:
    data = read_scores(database)
    return {kr["id"]: kr for obj in data["objectives"] for kr in obj["key_results"]}


def _hold_write_lock(database: Path) -> subprocess.Popen:
    """Another process with a write connection open on the file (as `dagster dev` or a notebook would have)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()",
            str(database),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "ready"
    return holder


def _release(holder: subprocess.Popen) -> None:
    holder.stdin.close()  # the holder returns from stdin.read() and exits, closing its connection
    holder.wait(timeout=30)
    holder.stdout.close()


def test_a_locked_database_fails_the_run_clearly_and_keeps_its_data(tmp_path: Path) -> None:
    defs = shop_defs(tmp_path / "defs", shop_rows(JAN, ["A", "B"]), PERIOD)
    database = tmp_path / "okr.duckdb"
    assert run_pipeline(defs, database, dt.date(2026, 1, 10)).success
    before = checksums(database)

    holder = _hold_write_lock(database)
    try:
        run = okr("run", "--defs", str(defs), "--db", str(database), "--as-of", "2026-01-11", env=QUICK_LOCK)
        shown = okr("scores", "--db", str(database), env=QUICK_LOCK)
    finally:
        _release(holder)

    for result in (run, shown):
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert f'Could not set lock on file "{database}"' in result.stderr
        assert "another process is using the database" in result.stderr
    assert checksums(database) == before
    assert _krs(database)["clicks"]["data_through"] == AS_OF  # the scores of the last good run


def test_two_runs_at_once_load_everything_once(tmp_path: Path) -> None:
    """Each step holds the file only while it writes; the other run waits for the lock (with backoff)."""
    rows = shop_rows(JAN, ["A", "B", "C"])
    defs = shop_defs(tmp_path / "defs", rows, PERIOD)
    database = tmp_path / "okr.duckdb"
    runs = [okr_process("run", "--defs", str(defs), "--db", str(database), "--as-of", AS_OF) for _ in range(2)]
    results = [(run.wait(timeout=300), *run.communicate()) for run in runs]

    succeeded = [code for code, _, _ in results if code == 0]
    assert succeeded, [err for _, _, err in results]
    for code, _, err in results:
        assert "Traceback" not in err
        if code != 0:  # a run that lost the race says why, naming the file
            assert f'"{database}"' in err and "another process is using the database" in err
    tables = table_rows(database)
    raw = tables["raw.file_exports"]
    assert len(raw) == len(rows) * 3 == 90  # 10 days × 3 campaigns × 3 metrics, each exactly once
    assert sorted((r[7], r[3], r[10], float(r[11])) for r in raw) == sorted(
        (day, name, metric, float(value))
        for day, name, clicks, spend, conversions in rows
        for metric, value in (("clicks", clicks), ("spend", spend), ("conversions", conversions))
    )
    assert len(tables["marts.campaign_daily_metrics"]) == 90
    assert len(tables["okr.kr_scores"]) == 2 and len(tables["okr.objective_scores"]) == 1
    assert len(tables["okr.score_history"]) == 2 * len(succeeded)  # one row per KR per finished run
    assert _krs(database)["clicks"]["actual"] == sum(r[2] for r in rows) == 735


def test_a_full_disk_fails_the_run_clearly_and_keeps_its_data(tmp_path: Path) -> None:
    """RLIMIT_FSIZE (no root needed) makes writes beyond the database's current size fail with EFBIG."""
    defs = shop_defs(tmp_path / "defs", shop_rows(JAN[:2], ["A"]), PERIOD)
    database = tmp_path / "okr.duckdb"
    assert run_pipeline(defs, database, dt.date(2026, 1, 2)).success
    before = checksums(database)
    names = [f"Campaign {i:04d}" for i in range(1_000)]
    write_shop_csv(defs, shop_rows(JAN, names))  # 10,000 campaign-days: the write-ahead log needs more than the cap
    cap = database.stat().st_size

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))

    run = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--defs", str(defs), "--db", str(database), "--as-of", AS_OF],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        preexec_fn=limit,
        check=False,
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "File too large" in run.stderr and str(database) in run.stderr
    assert "run failed: the database keeps its previous scores" in run.stderr
    assert checksums(database) == before


def _raw_warnings(outcome: RunOutcome) -> list[str]:
    """The warnings of the source assets' checks (the mart has checks of its own, about other things)."""
    return [w for w in outcome.warnings if w.startswith("raw/")]


def test_a_day_missing_from_a_re_exported_file_is_removed_and_flagged(tmp_path: Path) -> None:
    """A file is the source of truth for the window it covers: a day the new export lacks is deleted,
    and the row-count anomaly check says so (the run still succeeds; the scores move)."""
    rows = shop_rows(JAN, ["A", "B"])
    defs = shop_defs(tmp_path / "defs", rows, PERIOD)
    database = tmp_path / "okr.duckdb"
    as_of = dt.date(2026, 1, 10)
    first = run_pipeline(defs, database, as_of)
    assert first.success and _raw_warnings(first) == [], first.failures
    assert _krs(database)["clicks"]["actual"] == sum(r[2] for r in rows) == 480

    lost = dt.date(2026, 1, 8)
    write_shop_csv(defs, [r for r in rows if r[0] != lost])
    second = run_pipeline(defs, database, as_of)
    assert second.success, second.failures
    assert second.ranges == {"UTC": (dt.date(2026, 1, 4), as_of)}  # the 7-day look-back, re-read
    assert _raw_warnings(second) == ["raw/shop check row_count_anomaly: 1 day(s) with few or no rows"]
    with db.connect(database, read_only=True) as conn:
        days = [d for (d,) in conn.execute("SELECT DISTINCT report_date FROM raw.file_exports ORDER BY 1").fetchall()]
    assert days == [d for d in JAN if d != lost]
    assert _krs(database)["clicks"]["actual"] == 480 - (31 + 32)  # 8 January's two campaigns


def _ga4_rows(days: list[dt.date]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (
                d.strftime("%Y%m%d"),
                str(c),
                f"Campaign {c}",
                "Paid Search",
                "google / cpc",
                100 + 10 * (d.day - 1) + c,
                1.0,
                0.0,
            )
            for d in days
            for c in (1, 2)
        ],
        columns=GA4_COLUMNS,
    )


def test_a_platform_that_stops_reporting_a_day_or_the_whole_window(tmp_path: Path) -> None:
    """GA4 re-pull: one day comes back empty → that day is replaced by nothing and flagged; the whole
    window comes back empty → what is stored is kept (an outage must not erase days)."""
    ga4 = FakeGa4Server(properties={"412345678": FakeProperty(_ga4_rows(JAN))})
    with ga4:
        defs = write_defs(
            tmp_path / "defs",
            {
                "sources.yaml": f"""
sources:
  web:
    type: ga4
    property_id: "412345678"
    metrics: {{sessions: sessions}}
    endpoint: "{ga4.endpoint}"
    credentials: anonymous
""",
                "metrics.yaml": "metrics:\n  sessions: {agg: sum}\n",
                "objectives/o.yaml": """
objectives:
  - id: traffic
    title: Traffic
    period: {start: 2026-01-01, end: 2026-01-31}
    key_results:
      - {id: sessions, metric: sessions, baseline: 0, target: 10000}
""",
            },
        )
        database = tmp_path / "okr.duckdb"
        as_of = dt.date(2026, 1, 10)
        outcome = run_pipeline(defs, database, as_of)
        assert outcome.success, outcome.failures
        full = sum(200 + 20 * i + 3 for i in range(10))
        assert _krs(database)["sessions"]["actual"] == full == 2_930

        lost = dt.date(2026, 1, 8)
        ga4.properties["412345678"] = FakeProperty(_ga4_rows([d for d in JAN if d != lost]))
        outcome = run_pipeline(defs, database, as_of)
        assert outcome.success, outcome.failures
        assert _raw_warnings(outcome) == ["raw/web check row_count_anomaly: 1 day(s) with few or no rows"]
        assert _krs(database)["sessions"]["actual"] == full - (200 + 20 * 7 + 3)

        before = checksums(database)["raw.ga4_reports"]
        ga4.properties["412345678"] = FakeProperty(_ga4_rows([]))
        outcome = run_pipeline(defs, database, as_of)
        assert outcome.success, outcome.failures
        assert outcome.materialized["raw/web"]["dagster/row_count"] == 0
        assert checksums(database)["raw.ga4_reports"] == before
        assert _krs(database)["sessions"]["actual"] == full - 343


def test_a_renamed_api_field_is_a_validate_error_before_any_request(tmp_path: Path) -> None:
    """GA4 renamed `conversions` to `keyEvents`: the definitions fail `okr validate` (and `okr run` before any
    request) at the source's line, saying what to write instead."""
    defs = write_defs(
        tmp_path / "defs",
        {
            "sources.yaml": """
sources:
  web:
    type: ga4
    property_id: "412345678"
    metrics: {sessions: sessions, conversions: conversions}
""",
            "metrics.yaml": "metrics:\n  sessions: {agg: sum}\n  conversions: {agg: sum}\n",
            "objectives/o.yaml": """
objectives:
  - id: o
    title: Traffic
    period: {start: 2026-01-01, end: 2026-03-31}
    key_results:
      - {id: s, metric: sessions, baseline: 0, target: 10}
""",
        },
    )
    with pytest.raises(DefsErrors) as caught:
        load_defs(defs)
    (error,) = [e for e in caught.value.errors if not e.warning]
    assert (error.file.name, error.line) == ("sources.yaml", 3)
    assert "GA4 renamed field 'conversions' to 'keyEvents'; use 'keyEvents' in sources.yaml" in error.message


HOSTILE = [
    "x'; DROP TABLE raw.file_exports; --",
    'Robert"); DELETE FROM okr.score_history; --',
    "<script>alert('okr')</script>",
    "50% off_sale [*] ?",
    "Tết 🎉 \\ \" ' ;",
]


def test_hostile_campaign_names_are_data_not_code(tmp_path: Path) -> None:
    """Names that would break SQL (or the page) if pasted into it flow through load, scoring and the report unchanged."""
    rows = shop_rows(JAN[:3], HOSTILE)
    chosen = [HOSTILE[0], HOSTILE[2]]
    defs = shop_defs(tmp_path / "defs", rows, PERIOD, campaigns=chosen)
    database = tmp_path / "okr.duckdb"
    outcome = run_pipeline(defs, database, dt.date(2026, 1, 3))
    assert outcome.success, outcome.failures

    tables = table_rows(database)
    assert {r[3] for r in tables["raw.file_exports"]} == set(HOSTILE)  # campaign_id column, byte for byte
    assert {r[4] for r in tables["marts.campaign_daily_metrics"]} == set(HOSTILE)  # campaign_name
    assert len(tables["raw.file_exports"]) == 3 * 5 * 3 and len(tables["okr.score_history"]) == 2
    krs = _krs(database)
    mine = [r for r in rows if r[1] in chosen]
    assert krs["clicks"]["actual"] == sum(r[2] for r in mine) == (10 + 13 + 16) + (12 + 15 + 18)  # those two only
    assert krs["cpa"]["actual"] == pytest.approx(sum(r[3] for r in mine) / sum(r[4] for r in mine), rel=1e-12)

    page = (database.parent / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(" not in page  # the page shows the name; it never runs it
    assert str(escape(HOSTILE[2])) in page and str(escape(HOSTILE[0])) in page  # both, in "what moved"


def _zone_defs(root: Path, timezone: str, rows: list[tuple], objectives: str) -> Path:
    defs = write_defs(
        root, {"sources.yaml": shop_sources(timezone), "metrics.yaml": SHOP_METRICS, "objectives/o.yaml": objectives}
    )
    write_shop_csv(defs, rows)
    return defs


def _stored_days(database: Path) -> list[tuple]:
    with db.connect(database, read_only=True) as conn:
        return conn.execute(
            "SELECT report_date, account_timezone, sum(value) FROM raw.file_exports WHERE metric = 'clicks' "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()


def test_days_across_the_new_year_and_a_dst_change_are_the_accounts_own_days(tmp_path: Path) -> None:
    """report_date is the account's local day: 31 December/1 January and the 23-hour 8 March (clocks go forward
    in New York) are each one day, never shifted through UTC; the elapsed share counts days, not hours."""
    days = [dt.date(2025, 12, 30) + dt.timedelta(days=i) for i in range(4)]  # 30 Dec .. 2 Jan
    days += [dt.date(2026, 3, 7) + dt.timedelta(days=i) for i in range(3)]  # 7 .. 9 March
    defs = _zone_defs(
        tmp_path / "defs",
        "America/New_York",
        shop_rows(days, ["Search"]),
        """
objectives:
  - id: new-year
    title: Across the new year
    period: {start: 2025-12-15, end: 2026-01-14}
    key_results:
      - {id: ny-clicks, metric: clicks, baseline: 0, target: 1000}
  - id: dst
    title: Across the spring DST change
    period: {start: 2026-03-01, end: 2026-03-31}
    key_results:
      - {id: dst-clicks, metric: clicks, baseline: 0, target: 1000}
""",
    )
    database = tmp_path / "okr.duckdb"
    outcome = run_pipeline(defs, database, dt.date(2026, 1, 1))
    assert outcome.success, outcome.failures
    krs = _krs(database)
    assert krs["ny-clicks"]["expected_progress"] == pytest.approx(18 / 31)  # 15 Dec .. 1 Jan: 18 of 31 days
    assert (krs["ny-clicks"]["actual"], krs["ny-clicks"]["data_through"]) == (10 + 13 + 16, "2026-01-01")

    outcome = run_pipeline(defs, database, dt.date(2026, 3, 8))
    assert outcome.success, outcome.failures
    krs = _krs(database)
    assert krs["dst-clicks"]["expected_progress"] == pytest.approx(8 / 31)  # the 23-hour day counts as one
    assert (krs["dst-clicks"]["actual"], krs["dst-clicks"]["data_through"]) == (22 + 25, "2026-03-08")
    new_york = "America/New_York"
    assert [(d, tz, float(v)) for d, tz, v in _stored_days(database)] == [
        (dt.date(2025, 12, 30), new_york, 10.0),
        (dt.date(2025, 12, 31), new_york, 13.0),
        (dt.date(2026, 1, 1), new_york, 16.0),
        (dt.date(2026, 1, 2), new_york, 19.0),
        (dt.date(2026, 3, 7), new_york, 22.0),
        (dt.date(2026, 3, 8), new_york, 25.0),
    ]


def test_tet_days_in_ho_chi_minh_city_stay_on_their_local_dates(tmp_path: Path) -> None:
    """Tết Bính Ngọ (17 February 2026) in an account at UTC+7: each holiday day keeps its own date, the
    period's share is counted in local days, and the days before as-of are all there."""
    days = [dt.date(2026, 2, 14) + dt.timedelta(days=i) for i in range(7)]  # 14 .. 20 February
    defs = _zone_defs(
        tmp_path / "defs",
        "Asia/Ho_Chi_Minh",
        shop_rows(days, ["Lì xì"]),
        """
objectives:
  - id: tet
    title: Tết
    period: {start: 2026-02-01, end: 2026-02-28}
    key_results:
      - {id: tet-clicks, metric: clicks, baseline: 0, target: 1000}
""",
    )
    database = tmp_path / "okr.duckdb"
    outcome = run_pipeline(defs, database, dt.date(2026, 2, 17))
    assert outcome.success, outcome.failures
    kr = _krs(database)["tet-clicks"]
    assert kr["expected_progress"] == pytest.approx(17 / 28)
    assert (kr["actual"], kr["data_through"]) == (10 + 13 + 16 + 19, "2026-02-17")
    assert [(d, float(v)) for d, _, v in _stored_days(database)] == [
        (dt.date(2026, 2, 14), 10.0),
        (dt.date(2026, 2, 15), 13.0),
        (dt.date(2026, 2, 16), 16.0),
        (dt.date(2026, 2, 17), 19.0),
    ]
