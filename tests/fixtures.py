"""The acceptance example of the walking-skeleton issue, written exactly as an analyst would."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import REPO, write_defs

ACCEPTANCE_METRICS = """
metrics:
  spend: {agg: sum, unit: currency}
  impressions: {agg: sum}
  clicks: {agg: sum}
  conversions: {agg: sum}
  cpa: {ratio: [spend, conversions], unit: currency}
  ctr: {ratio: [clicks, impressions], unit: percent}
"""

ACCEPTANCE_OBJECTIVES = """
objectives:
  - id: aug-purchase-push
    title: Turn August paid social into a purchase engine
    period: {start: 2019-08-01, end: 2019-08-31}
    key_results:
      - {id: purchases, metric: conversions, filters: {campaign: Test Campaign}, baseline: 0, target: 20000, weight: 2}
      - {id: cpa, metric: cpa, filters: {campaign: Test Campaign}, baseline: 6.0, target: 4.0}
      - {id: ctr, metric: ctr, filters: {campaign: Test Campaign}, baseline: 0.05, target: 0.09}
"""


def acceptance_sources(path: str) -> str:
    return f"""
sources:
  ab_test:
    type: file
    path: {path}
    platform: meta_ads
    account_id: ab-test
    currency: USD
    timezone: UTC
    delimiter: ";"
    date: {{column: Date, format: "%d.%m.%Y"}}
    campaign_id: Campaign Name
    campaign_name: Campaign Name
    channel: paid_social
    metrics:
      spend: Spend [USD]
      impressions: "# of Impressions"
      clicks: "# of Website Clicks"
      conversions: "# of Purchase"
"""


def acceptance_defs(root: Path, data_glob: str) -> Path:
    return write_defs(
        root,
        {
            "sources.yaml": acceptance_sources(data_glob),
            "metrics.yaml": ACCEPTANCE_METRICS,
            "objectives/aug.yaml": ACCEPTANCE_OBJECTIVES,
        },
    )


FEBRUARY_OBJECTIVE = """
objectives:
  - id: feb-push
    title: A February push
    period: {start: 2026-02-01, end: 2026-02-28}
    key_results:
      - {id: purchases, metric: conversions, filters: {platform: google_ads}, baseline: 0, target: 3000}
"""


def demo_defs(root: Path, objectives: str | None = None) -> Path:
    """The shipped okr_defs under root/okr_defs with the seeded demo exports where their sources.yaml expects
    them; `objectives` replaces the demo objectives (a short period keeps partition counts small)."""
    from pipelines.demo.generator import write_demo_exports

    defs = root / "okr_defs"
    shutil.copytree(REPO / "okr_defs", defs)
    if objectives is not None:
        for old in (defs / "objectives").glob("*.yaml"):
            old.unlink()
        (defs / "objectives" / "objectives.yaml").write_text(objectives, encoding="utf-8")
    write_demo_exports(root / "data" / "demo")
    return defs
