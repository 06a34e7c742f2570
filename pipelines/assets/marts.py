"""marts/campaign_daily: every configured source unified at the campaign-day grain."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.assets.ingest import OWNERS
from pipelines.assets.metadata import column_schema, markdown
from pipelines.lib import storage


def campaign_daily_asset(sources: list[str]) -> dg.AssetsDefinition:
    @dg.asset(
        key=["marts", "campaign_daily"],
        deps=[dg.AssetKey(["raw", name]) for name in sources],
        group_name="marts",
        kinds={"duckdb"},
        owners=OWNERS,
        pool="duckdb",
        description="Unified campaign-day facts (long table + wide view with money in micros).",
    )
    def campaign_daily(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        with duckdb.get_connection() as conn:
            storage.ensure_schema(conn)
            rows = storage.rebuild_mart(conn, sources)
            per_source = conn.execute(
                "SELECT source, platform, currency_code, min(report_date) AS first_day, "
                "max(report_date) AS data_through, count(DISTINCT campaign_id) AS campaigns, count(*) AS rows "
                "FROM marts.campaign_daily_metrics GROUP BY ALL ORDER BY source"
            ).df()
            schema = column_schema(conn, "marts.campaign_daily_metrics")
        context.log.info(f"marts.campaign_daily_metrics: {rows} rows from {len(sources)} source(s)")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "dagster/column_schema": schema,
                "sources": markdown(per_source),
            }
        )

    return campaign_daily
