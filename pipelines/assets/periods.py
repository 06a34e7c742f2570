"""marts/period_metrics: distinct counts (users) per KR window, asked of GA4 with the KR's filters.

It runs after the GA4 raw loads (same run, nightly and in `okr run`) and before the scores, which read
it as the actual of every KR on an `agg: period` metric. The network calls happen before the database
is opened; the rows of a run are then replaced in one transaction, so a failed query writes nothing.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from connectors.errors import Ga4Error
from pipelines.assets.config import AsOfConfig
from pipelines.assets.ingest import OWNERS, RETRY
from pipelines.assets.metadata import column_schema, markdown
from pipelines.assets.resources import OkrDefsResource
from pipelines.lib import storage
from pipelines.lib.ga4_tables import PERIOD_METRICS
from pipelines.lib.period import pull_periods, replace_periods, settled_keys

PERIODS = dg.AssetKey(["marts", "period_metrics"])


def period_metrics_asset(ga4_sources: list[str]) -> dg.AssetsDefinition:
    """The asset, downstream of the GA4 API sources' raw assets (none: it has nothing to ask, and says so)."""

    @dg.asset(
        key=PERIODS,
        deps=[dg.AssetKey(["raw", name]) for name in ga4_sources],
        group_name="marts",
        kinds={"duckdb", "googleanalytics"},
        owners=OWNERS,
        pool="duckdb",
        retry_policy=RETRY,
        description="Distinct counts (users) over each KR's whole window, queried from GA4 with the KR's "
        "filters and no date dimension: never a sum of daily or per-campaign values.",
    )
    def period_metrics(
        context: dg.AssetExecutionContext, config: AsOfConfig, duckdb: DuckDBResource, okr_defs: OkrDefsResource
    ) -> dg.MaterializeResult:
        defs = okr_defs.load()
        as_of = config.as_of_date()
        with duckdb.get_connection() as conn:
            storage.ensure_schema(conn)
            settled = settled_keys(conn)
        try:
            pulled = pull_periods(defs, as_of, settled)  # the network never holds the DuckDB lock
        except Ga4Error as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        with duckdb.get_connection() as conn:
            written = replace_periods(conn, pulled.frame)
            stored = conn.execute(f"SELECT count(*) FROM {PERIOD_METRICS}").fetchone()[0]  # noqa: S608
            schema = column_schema(conn, PERIOD_METRICS)
        shown = ["source", "metric", "filter_text", "period_start", "period_end", "value", "thresholded", "sampled"]
        preview = pulled.frame[shown] if len(pulled.frame) else pulled.frame
        context.log.info(f"{PERIOD_METRICS}: {written} period values written as of {as_of}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": stored,
                "dagster/column_schema": schema,
                "written": written,
                "as_of": str(as_of),
                "per_source": dg.MetadataValue.json(pulled.metadata),
                "preview": markdown(preview),
            }
        )

    return period_metrics
