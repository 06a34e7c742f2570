"""One raw asset per source in sources.yaml: read or pull, validate, then replace its date window atomically."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from connectors import SourceDataError, read_file_feed
from connectors.errors import Ga4Error, SourceApiError
from pipelines.assets.config import AsOfConfig
from pipelines.assets.metadata import column_schema, markdown
from pipelines.assets.resources import OkrDefsResource
from pipelines.lib import api_sources, storage
from pipelines.lib.feeds import file_feed

OWNERS = ["team:marketing-analytics"]
KINDS = {
    "file": {"duckdb", "csv"},
    "google_ads": {"duckdb", "googleads"},
    "meta_ads": {"duckdb", "meta"},
    "ga4": {"duckdb", "googleanalytics"},
}
# Step retries for faults the connectors' own backoff could not outlast (a platform outage); errors that a
# retry cannot fix raise dg.Failure(allow_retries=False) and fail at once.
RETRY = dg.RetryPolicy(max_retries=2, delay=60, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def source_asset(name: str, kind: str, platform: str) -> dg.AssetsDefinition:
    return file_source_asset(name, platform) if kind == "file" else api_source_asset(name, kind, platform)


def file_source_asset(name: str, platform: str) -> dg.AssetsDefinition:
    """The raw asset for file source `name` (key raw/<name>)."""

    @dg.asset(
        key=["raw", name],
        group_name="ingest",
        kinds=KINDS["file"],
        owners=OWNERS,
        pool="duckdb",
        tags={"platform": platform},
        description=f"Rows of file source '{name}' at the campaign-day grain, one row per metric.",
    )
    def _raw(context: dg.AssetExecutionContext, duckdb: DuckDBResource, okr_defs: OkrDefsResource):
        feed = file_feed(okr_defs.load(), name)
        try:
            load = read_file_feed(feed)  # validated before the database is opened
        except SourceDataError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        long = storage.to_long(load.frame, name, list(feed.metrics))
        with duckdb.get_connection() as conn:
            storage.ensure_schema(conn)
            written = storage.replace_source_window(conn, "file", name, long, load.date_range) if load.date_range else 0
            schema = column_schema(conn, "raw.file_exports")
        first, last = load.date_range or (None, None)
        context.log.info(
            f"{name}: {load.rows_read} rows read from {len(load.files)} file(s), {len(load.frame)} grain rows, "
            f"{written} metric rows written for {first}..{last}"
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": written,
                "dagster/column_schema": schema,
                "rows_read": load.rows_read,
                "grain_rows": len(load.frame),
                "files": dg.MetadataValue.json(load.files),
                "duplicate_rows": load.duplicate_rows,
                "dropped_duplicates": load.dropped_duplicates,
                "rows_with_missing_metric": dg.MetadataValue.json(load.missing_values),
                "window_start": str(first),
                "data_through": str(last),
                "preview": markdown(load.frame.head(20)),
            }
        )

    return _raw


def api_source_asset(name: str, kind: str, platform: str) -> dg.AssetsDefinition:
    """The raw asset for a platform API source: what is missing plus the restatement look-back."""

    @dg.asset(
        key=["raw", name],
        group_name="ingest",
        kinds=KINDS[kind],
        owners=OWNERS,
        pool="duckdb",
        retry_policy=RETRY,
        tags={"platform": platform},
        description=f"Campaign-day rows pulled from the {platform} API for source '{name}', one row per metric.",
    )
    def _raw(context: dg.AssetExecutionContext, config: AsOfConfig, duckdb: DuckDBResource, okr_defs: OkrDefsResource):
        defs, as_of = okr_defs.load(), config.as_of_date()
        with duckdb.get_connection() as conn:
            storage.ensure_schema(conn)
            window = api_sources.plan_window(conn, defs, name, as_of)
        if window is None:
            return dg.MaterializeResult(metadata={"dagster/row_count": 0, "note": "nothing needed up to as-of"})
        try:
            pulled = api_sources.pull(defs, name, window, as_of)
        except SourceApiError as exc:
            raise dg.Failure(description=str(exc), allow_retries=exc.transient) from None
        except (Ga4Error, ValueError) as exc:  # configuration, permission or field errors: a retry cannot help
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        long = storage.to_long(pulled.frame, name, pulled.metrics) if len(pulled.frame) else pulled.frame
        with duckdb.get_connection() as conn:
            written = (
                storage.replace_source_window(
                    conn, kind, name, long, window, pulled.settled_before, pulled.conversion_definition
                )
                if len(pulled.frame)
                else 0
            )
            schema = column_schema(conn, storage.RAW_TABLES[kind])
        context.log.info(
            f"{name}: pulled {window[0]}..{window[1]}: {pulled.metadata['rows']} API rows, "
            f"{written} metric rows written ({pulled.metadata.get('requests')} requests)"
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": written,
                "dagster/column_schema": schema,
                "window_start": str(window[0]),
                "window_end": str(window[1]),
                "settled_before": str(pulled.settled_before),
                **{k: (dg.MetadataValue.json(v) if isinstance(v, dict) else v) for k, v in pulled.metadata.items()},
            }
        )

    return _raw
