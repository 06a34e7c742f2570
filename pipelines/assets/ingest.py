"""One raw asset per source in sources.yaml: read, validate, then replace its date window atomically."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from connectors import SourceDataError, read_file_feed
from pipelines.assets.metadata import column_schema, markdown
from pipelines.assets.resources import OkrDefsResource
from pipelines.lib import storage
from pipelines.lib.feeds import file_feed

OWNERS = ["team:marketing-analytics"]


def file_source_asset(name: str, platform: str) -> dg.AssetsDefinition:
    """The raw asset for file source `name` (key raw/<name>)."""

    @dg.asset(
        key=["raw", name],
        group_name="ingest",
        kinds={"duckdb", "csv"},
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
            written = storage.replace_source_window(conn, name, long, load.date_range) if load.date_range else 0
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
