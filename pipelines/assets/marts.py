"""marts/campaign_daily: every configured source unified at the campaign-day grain.

The mart converts money into the reporting currency (fx_rates) and pairs GA4 campaigns with ad campaigns
(campaign_map); its check reports how much of the last 28 days the pairing leaves unmatched.
"""

import datetime as dt

import dagster as dg
from dagster_duckdb import DuckDBResource

from connectors import SourceDataError
from pipelines.assets.ingest import OWNERS
from pipelines.assets.metadata import column_schema, markdown
from pipelines.assets.resources import OkrDefsResource
from pipelines.lib import storage
from pipelines.lib.campaign_map import unmatched_share
from pipelines.lib.fx import FxError
from pipelines.lib.mart import build_mart

MART = dg.AssetKey(["marts", "campaign_daily"])
UNMATCHED_CHECK = "unmatched_campaign_share"
# Above this share of GA4 sessions (or of ad spend) with no campaign on the other side, cross-platform KRs
# such as "CPA of campaign X" are probably missing a campaign_map.yaml link or a utm_id.
MAX_UNMATCHED_SHARE = 0.25
RECENT_DAYS = 28


def campaign_daily_asset(sources: list[str]) -> dg.AssetsDefinition:
    @dg.asset(
        key=MART,
        deps=[dg.AssetKey(["raw", name]) for name in sources],
        group_name="marts",
        kinds={"duckdb"},
        owners=OWNERS,
        pool="duckdb",
        check_specs=[
            dg.AssetCheckSpec(
                UNMATCHED_CHECK,
                asset=MART,
                description=f"Over the last {RECENT_DAYS} days, at most {MAX_UNMATCHED_SHARE:.0%} of GA4 campaign "
                "sessions and of ad spend lack a campaign on the other side (by id, name or campaign_map.yaml).",
            )
        ],
        description="Unified campaign-day facts (long table + wide view with money in micros), in the "
        "reporting currency when one is set, each row carrying its unified campaign key.",
    )
    def campaign_daily(
        context: dg.AssetExecutionContext, duckdb: DuckDBResource, okr_defs: OkrDefsResource
    ) -> dg.MaterializeResult:
        defs = okr_defs.load()
        with duckdb.get_connection() as conn:
            storage.ensure_schema(conn)
            try:
                rows = build_mart(conn, defs)
            except (FxError, SourceDataError) as exc:  # a missing rate or a bad rates file: fix the data
                raise dg.Failure(description=str(exc), allow_retries=False) from None
            per_source = conn.execute(
                "SELECT source, platform, currency_code, min(report_date) AS first_day, "
                "max(report_date) AS data_through, count(DISTINCT campaign_id) AS campaigns, count(*) AS rows "
                "FROM marts.campaign_daily_metrics GROUP BY ALL ORDER BY source"
            ).df()
            ((last,),) = conn.execute("SELECT max(report_date) FROM marts.campaign_daily_metrics").fetchall()
            shares = unmatched_share(conn, last - dt.timedelta(days=RECENT_DAYS - 1), last) if last else {}
            schema = column_schema(conn, "marts.campaign_daily_metrics")
        context.log.info(f"marts.campaign_daily_metrics: {rows} rows from {len(sources)} source(s)")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "dagster/column_schema": schema,
                "sources": markdown(per_source),
            },
            check_results=[unmatched_check(shares)],
        )

    return campaign_daily


def unmatched_check(shares: dict) -> dg.AssetCheckResult:
    """Warn (never block): unmatched campaigns skew cross-platform KRs but single-platform ones stay right."""
    # One side alone (no GA4 source, or no ad platform) has nothing to be matched against.
    both = bool(shares.get("ga4_campaigns")) and bool(shares.get("ads_campaigns"))
    keys = ("ga4_sessions_unmatched_share", "ads_spend_unmatched_share") if both else ()
    measured = {k: shares[k] for k in keys if shares.get(k) is not None}
    worst = max(measured.values(), default=None)
    passed = worst is None or worst <= MAX_UNMATCHED_SHARE
    return dg.AssetCheckResult(
        check_name=UNMATCHED_CHECK,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=None if passed else f"{worst:.0%} unmatched (threshold {MAX_UNMATCHED_SHARE:.0%})",
        metadata={
            "threshold": MAX_UNMATCHED_SHARE,
            **{k: float(v) for k, v in measured.items()},
            "details": dg.MetadataValue.json(
                {k: v for k, v in shares.items() if isinstance(v, (int, float, str, list, type(None)))}
            ),
        },
    )
