"""One raw asset per source in sources.yaml, partitioned by the source's local day.

A run covers a partition range (one day nightly, a quarter in a backfill: single-run policy, so a file is
read and an API queried once per run, not once per day). Each run validates what it read (the blocking
`schema` check), then replaces exactly its window in one transaction; a rejected load writes nothing.
"""

import datetime as dt
import warnings

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from connectors import SourceDataError, read_file_feed
from connectors.errors import Ga4Error, SourceApiError
from pipelines.assets.config import AsOfConfig
from pipelines.assets.metadata import column_schema, markdown
from pipelines.assets.partitions import DEFAULT_TIMEZONE, window_of
from pipelines.assets.resources import OkrDefsResource
from pipelines.lib import api_sources, ga4_tables, quality, source_zones, storage
from pipelines.lib.feeds import count_metrics, file_feed
from pipelines.lib.spec import OkrDefs
from pipelines.lib.spec.conversion_checks import file_conversion_definition

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
SCHEMA_CHECK, FRESHNESS_CHECK, ANOMALY_CHECK = "schema", "freshness", "row_count_anomaly"


def check_specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            SCHEMA_CHECK,
            asset=key,
            blocking=True,
            description="pandera: one row per grain, days inside the run's window, ids and counts valid. "
            "A failing load writes nothing and stops the mart and the scores.",
        ),
        dg.AssetCheckSpec(
            FRESHNESS_CHECK, asset=key, description="The newest stored day is within the source's allowed lag."
        ),
        dg.AssetCheckSpec(
            ANOMALY_CHECK, asset=key, description="No day in the window has under half the trailing 28-day median rows."
        ),
    ]


def source_asset(defs: OkrDefs, name: str, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The raw asset for source `name` (key raw/<name>), partitioned by its time zone's days."""
    src = defs.sources[name]
    key = dg.AssetKey(["raw", name])
    body = _load_file if src.type == "file" else _pull_api
    description = (
        f"Rows of file source '{name}' at the campaign-day grain, one row per metric."
        if src.type == "file"
        else f"Campaign-day rows pulled from the {src.platform} API for source '{name}', one row per metric."
    )

    with warnings.catch_warnings():  # backfill_policy is beta in Dagster 1.13; the single-run policy is the point
        warnings.simplefilter("ignore", dg.BetaWarning)
        return _define(name, src, key, body, description, partitions)


def _define(name, src, key, body, description, partitions) -> dg.AssetsDefinition:
    @dg.asset(
        key=key,
        group_name="ingest",
        kinds=KINDS[src.type],
        owners=OWNERS,
        pool="duckdb",
        retry_policy=None if src.type == "file" else RETRY,
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=check_specs(key),
        tags={"platform": src.platform},
        description=description,
    )
    def _raw(context: dg.AssetExecutionContext, config: AsOfConfig, duckdb: DuckDBResource, okr_defs: OkrDefsResource):
        return body(context, name, config.as_of_date(), duckdb, okr_defs.load())

    return _raw


def _load_file(context, name: str, as_of: dt.date, duckdb: DuckDBResource, defs: OkrDefs) -> dg.MaterializeResult:
    window = window_of(context)
    feed = file_feed(defs, name)
    try:
        load = read_file_feed(feed)  # parsed and validated before the database is opened
    except SourceDataError as exc:
        return _rejected(context, name, "file", as_of, duckdb, defs, window, str(exc), None)
    days = pd.to_datetime(load.frame["report_date"]).dt.date
    frame = load.frame[(days >= window[0]) & (days <= window[1])]
    metrics = list(feed.metrics)
    failures = quality.schema_failures(frame, quality.grain_schema(metrics, set(feed.nonnegative), window))
    if failures is not None:
        return _rejected(context, name, "file", as_of, duckdb, defs, window, "rows fail the grain schema", failures)
    long = storage.to_long(frame, name, metrics)
    with duckdb.get_connection() as conn:
        storage.ensure_schema(conn)
        # the columns a file maps to conversions are its conversion definition, recorded like an API load's
        definition = file_conversion_definition(defs.sources[name])
        written = storage.replace_source_window(conn, "file", name, long, window, conversion_definition=definition)
        checks, schema = _after_write(conn, "file", name, as_of, defs, window), column_schema(conn, "raw.file_exports")
    context.log.info(
        f"{name}: {load.rows_read} rows read from {len(load.files)} file(s); {len(frame)} grain rows in "
        f"{window[0]}..{window[1]}, {written} metric rows written"
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": written,
            "dagster/column_schema": schema,
            "rows_read": load.rows_read,
            "grain_rows": len(frame),
            "files": dg.MetadataValue.json(load.files),
            "duplicate_rows": load.duplicate_rows,
            "dropped_duplicates": load.dropped_duplicates,
            "rows_with_missing_metric": dg.MetadataValue.json(load.missing_values),
            "window_start": str(window[0]),
            "window_end": str(window[1]),
            "data_through": str(max(days[frame.index])) if len(frame) else "None",
            "preview": markdown(frame.head(20)),
        },
        check_results=checks,
    )


def _pull_api(context, name: str, as_of: dt.date, duckdb: DuckDBResource, defs: OkrDefs) -> dg.MaterializeResult:
    kind = defs.sources[name].type
    window = window_of(context)
    try:
        pulled = api_sources.pull(defs, name, window, as_of)  # the network never holds the DuckDB lock
    except SourceApiError as exc:
        raise dg.Failure(description=str(exc), allow_retries=exc.transient) from None
    except (Ga4Error, ValueError) as exc:  # configuration, permission or field errors: a retry cannot help
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    zones = source_zones.compare(defs, name, pulled.metadata.get("time_zones") or {}, DEFAULT_TIMEZONE)
    if zones.mismatch is not None:  # days in the wrong zone: nothing is written, the scores keep their state
        return _rejected(context, name, kind, as_of, duckdb, defs, window, zones.mismatch, None)
    if zones.advice is not None:
        context.log.warning(f"{name}: {zones.advice}")
    failures = (
        quality.schema_failures(
            pulled.frame, quality.grain_schema(pulled.metrics, count_metrics(defs, pulled.metrics), window)
        )
        if len(pulled.frame)
        else None
    )
    if failures is not None:
        return _rejected(context, name, kind, as_of, duckdb, defs, window, "rows fail the grain schema", failures)
    long = storage.to_long(pulled.frame, name, pulled.metrics) if len(pulled.frame) else pulled.frame
    also = _day_quality_writer(name, defs, pulled, window)
    with duckdb.get_connection() as conn:
        storage.ensure_schema(conn)
        # An empty answer for a whole window keeps what is stored (an outage must not erase days);
        # the anomaly check below still flags days that came back with far fewer rows than usual.
        written = (
            storage.replace_source_window(
                conn, kind, name, long, window, pulled.settled_before, pulled.conversion_definition, also
            )
            if len(long)
            else 0
        )
        checks, schema = (
            _after_write(conn, kind, name, as_of, defs, window),
            column_schema(conn, storage.RAW_TABLES[kind]),
        )
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
            **_zone_metadata(zones),
        },
        check_results=checks,
    )


def _zone_metadata(zones: source_zones.ZoneCheck) -> dict[str, str]:
    """The declared and reported zones; `time_zone_warning` only when undeclared days are counted in the wrong
    zone (`okr run` prints it, pipelines/cli/runner.py)."""
    meta = {
        "declared_time_zone": zones.declared or f"(none: {DEFAULT_TIMEZONE})",
        "reported_time_zone": zones.reported_text or "(none reported)",
    }
    return meta | ({"time_zone_warning": zones.advice} if zones.misdated and zones.advice else {})


def _day_quality_writer(name: str, defs: OkrDefs, pulled: api_sources.ApiPull, window):
    """GA4: what the responses said about each day (sampled, thresholded, `(other)`), written with the rows."""
    if not pulled.ranges:
        return None
    (account,) = defs.sources[name].accounts()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    frame = ga4_tables.day_quality_frame(name, account, pulled.ranges, now)
    return lambda conn: ga4_tables.replace_day_quality(conn, name, frame, window)


def _after_write(conn, kind: str, name: str, as_of: dt.date, defs: OkrDefs, window) -> list[dg.AssetCheckResult]:
    """Freshness and row-count anomaly on what is now stored: both warn, neither blocks the scores."""
    return [
        dg.AssetCheckResult(check_name=SCHEMA_CHECK, passed=True),
        _freshness(conn, kind, name, as_of, defs),
        _anomaly(conn, kind, name, window),
    ]


def _freshness(conn, kind: str, name: str, as_of: dt.date, defs: OkrDefs) -> dg.AssetCheckResult:
    fresh = quality.freshness(conn, kind, name, as_of, defs.sources[name].allowed_lag_days)
    return dg.AssetCheckResult(
        check_name=FRESHNESS_CHECK,
        passed=fresh.passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=None if fresh.passed else f"data through {fresh.data_through}, {fresh.lag_days} day(s) behind",
        metadata={
            "data_through": str(fresh.data_through),
            "lag_days": fresh.lag_days if fresh.lag_days is not None else -1,
            "allowed_lag_days": fresh.allowed_lag_days,
            "as_of": str(as_of),
        },
    )


def _anomaly(conn, kind: str, name: str, window) -> dg.AssetCheckResult:
    found = quality.row_count_anomaly(conn, kind, name, window)
    return dg.AssetCheckResult(
        check_name=ANOMALY_CHECK,
        passed=found.passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=None if found.passed else f"{len(found.low_days)} day(s) with few or no rows",
        metadata={
            "trailing_median_rows": found.trailing_median if found.trailing_median is not None else -1.0,
            "low_days": dg.MetadataValue.json(found.low_days),
        },
    )


def _rejected(context, name, kind, as_of, duckdb, defs, window, why: str, failures) -> dg.MaterializeResult:
    """Nothing is written: the blocking schema check fails, so the mart and scores keep their last state."""
    context.log.error(f"{name}: load for {window[0]}..{window[1]} rejected: {why}")
    with duckdb.get_connection() as conn:
        storage.ensure_schema(conn)
        fresh = _freshness(conn, kind, name, as_of, defs)
    metadata = {"failure_cases": markdown(failures)} if failures is not None else {}
    return dg.MaterializeResult(
        metadata={"dagster/row_count": 0, "rejected": why[:2000], "window_start": str(window[0])},
        check_results=[
            dg.AssetCheckResult(check_name=SCHEMA_CHECK, passed=False, description=why[:2000], metadata=metadata),
            fresh,
            dg.AssetCheckResult(
                check_name=ANOMALY_CHECK, passed=True, description="not evaluated: the load was rejected"
            ),
        ],
    )
