"""Two real DuckDB files for the report tests: a small team with hand-checked numbers, and the demo."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.cli.runner import run_pipeline
from tests.conftest import write_defs

SMALL_AS_OF = dt.date(2026, 1, 20)
SMALL_DEFS = {
    "sources.yaml": """
        sources:
          shop_ads:
            type: file
            path: ads.csv
            platform: meta_ads
            account_id: "42"
            currency: USD
            timezone: UTC
            date: {column: day}
            campaign_id: campaign
            campaign_name: campaign
            channel: Paid Social
            metrics: {spend: spend, clicks: clicks, conversions: conversions}
    """,
    "metrics.yaml": """
        metrics:
          spend: {agg: sum, unit: currency}
          clicks: {agg: sum}
          conversions: {agg: sum}
          cpa: {ratio: [spend, conversions], unit: currency}
          cpc: {ratio: [spend, clicks], unit: currency}
    """,
    "objectives/company.yaml": """
        objectives:
          - id: company
            title: Grow the shop
            owner: CEO
            period: {start: 2026-01-01, end: 2026-01-31}
            key_results:
              - {id: purchases, title: 150 purchases, metric: conversions, baseline: 0, target: 150}
              - {id: spend-cap, title: Spend 4000 USD, metric: spend, baseline: 0, target: 4000}
          - id: marketing
            title: Buy purchases cheaply
            parent: company
            type: committed
            period: {start: 2026-01-01, end: 2026-01-31}
            key_results:
              - {id: cpa, title: CPA from 60 to 40 USD, metric: cpa, baseline: 60, target: 40}
              - {id: cpc-daily, title: CPC under 2.2 USD every day, metric: cpc, direction: stay_below, target: 2.2}
          - id: social-team
            title: Make Alpha carry the month
            parent: marketing
            period: {start: 2026-01-01, end: 2026-01-31}
            key_results:
              - {id: alpha, title: 60 Alpha purchases, metric: conversions, filters: {campaign: Alpha}, baseline: 0, target: 60}
              - {id: gamma, title: Gamma purchases, metric: conversions, filters: {campaign: "Gamma*"}, baseline: 0, target: 10}
        kpis:
          - id: cpc
            title: CPC stays under 3 USD
            metric: cpc
            band: {stay_below: 3}
            trailing_days: 14
    """,
}


def small_csv() -> str:
    """Alpha: 100 USD, 50 clicks, 2 purchases a day. Beta: 50 USD, 20 clicks, 1 purchase a day to the 10th,
    3 a day after, and an empty purchases cell on the 5th (missing, not zero)."""
    lines = ["day,campaign,spend,clicks,conversions"]
    for d in range(1, 21):
        day = dt.date(2026, 1, d).isoformat()
        lines.append(f"{day},Alpha,100,50,2")
        beta = "" if d == 5 else ("1" if d <= 10 else "3")
        lines.append(f"{day},Beta,50,20,{beta}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Scored as of the 19th, then the 20th twice (a rerun): the history keeps one point per day."""
    root = tmp_path_factory.mktemp("small")
    defs = write_defs(root / "okr_defs", SMALL_DEFS)
    (defs / "ads.csv").write_text(small_csv(), encoding="utf-8")
    database = root / "okr.duckdb"
    for as_of in (SMALL_AS_OF - dt.timedelta(days=1), SMALL_AS_OF, SMALL_AS_OF):
        outcome = run_pipeline(defs, database, as_of)
        assert outcome.success, outcome.failures
    return database


@dataclass(frozen=True)
class Demo:
    db: Path
    stdout: str


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo team's database and report, built the way a user builds them (`okr demo`)."""
    root = tmp_path_factory.mktemp("demo")
    database = root / "data" / "okr.duckdb"
    run = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "demo", "--defs", str(root / "okr_defs"), "--db", str(database)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return Demo(database, run.stdout)
