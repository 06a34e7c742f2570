"""okr/kr_scores, okr/objective_scores and okr/score_history: one scoring pass, one transaction."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipelines.assets.config import AsOfConfig
from pipelines.assets.ingest import OWNERS
from pipelines.assets.metadata import markdown
from pipelines.assets.periods import PERIODS
from pipelines.assets.resources import OkrDefsResource
from pipelines.lib import storage
from pipelines.lib.scoring import score_all
from pipelines.lib.spec import OkrDefs

MART = dg.AssetKey(["marts", "campaign_daily"])
KR_SCORES = dg.AssetKey(["okr", "kr_scores"])
OBJECTIVE_SCORES = dg.AssetKey(["okr", "objective_scores"])
SCORE_HISTORY = dg.AssetKey(["okr", "score_history"])


def _spec(key: dg.AssetKey, deps: list[dg.AssetKey], description: str) -> dg.AssetSpec:
    return dg.AssetSpec(key, deps=deps, group_name="okr", kinds={"duckdb"}, owners=OWNERS, description=description)


@dg.multi_asset(
    name="okr_scores",
    specs=[
        _spec(
            KR_SCORES,
            [MART, PERIODS],
            "Each KR and KPI as of a date: actual, progress, score, pace, forecast, status.",
        ),
        _spec(OBJECTIVE_SCORES, [KR_SCORES], "Objectives: weighted roll-up of KRs and aligned children."),
        _spec(SCORE_HISTORY, [KR_SCORES], "Append-only: one row per KR per run, never rewritten."),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "every_kr_scored",
            asset=KR_SCORES,
            description="Every KR and KPI in okr_defs has a score or an explicit no_data/stale/not_started status.",
        )
    ],
    pool="duckdb",
)
def okr_scores(
    context: dg.AssetExecutionContext,
    config: AsOfConfig,
    duckdb: DuckDBResource,
    okr_defs: OkrDefsResource,
):
    defs = okr_defs.load()
    as_of = config.as_of_date()
    with duckdb.get_connection() as conn:
        storage.ensure_schema(conn)
        run = score_all(conn, defs, as_of, run_id=context.run.run_id)
        history_rows = conn.execute("SELECT count(*) FROM okr.score_history").fetchone()[0]
    krs = run.kr_scores
    counts = krs["status"].value_counts().to_dict()
    context.log.info(f"scored {len(krs)} KRs/KPIs as of {as_of}: {counts}")
    card = krs.loc[:, ["objective_id", "kr_id", "actual", "target", "score", "expected_progress", "status"]]
    objectives = pd.DataFrame([vars(o) for o in run.objective_scores])
    yield dg.MaterializeResult(
        asset_key=KR_SCORES,
        metadata={
            "dagster/row_count": len(krs),
            "as_of": str(as_of),
            "scorecard": markdown(card),
            "statuses": dg.MetadataValue.json(counts),
        },
    )
    yield coverage_check(defs, krs)
    yield dg.MaterializeResult(
        asset_key=OBJECTIVE_SCORES,
        metadata={
            "dagster/row_count": len(objectives),
            "as_of": str(as_of),
            "objectives": markdown(objectives),
        },
    )
    yield dg.MaterializeResult(
        asset_key=SCORE_HISTORY, metadata={"dagster/row_count": history_rows, "appended": len(krs)}
    )


def coverage_check(defs: OkrDefs, krs: pd.DataFrame) -> dg.AssetCheckResult:
    """A KR silently missing from the scores, or scored `invalid`, would read as "nothing to worry about"."""
    expected = {("kr", o.id, kr.id) for o in defs.objectives for kr in o.key_results}
    expected |= {("kpi", "", k.id) for k in defs.kpis}
    present = {("kpi", "", r.kr_id) if r.kind == "kpi" else ("kr", r.objective_id, r.kr_id) for r in krs.itertuples()}
    missing = sorted("/".join(k[1:]).lstrip("/") for k in expected - present)
    invalid = krs.loc[krs["status"].isna() | (krs["status"] == "invalid"), ["objective_id", "kr_id", "note"]]
    return dg.AssetCheckResult(
        asset_key=KR_SCORES,
        check_name="every_kr_scored",
        passed=not missing and invalid.empty,
        description=None if not missing and invalid.empty else f"{len(missing)} missing, {len(invalid)} invalid",
        metadata={
            "defined": len(expected),
            "scored": len(present & expected),
            "missing": dg.MetadataValue.json(missing),
            "invalid": markdown(invalid),
        },
    )
