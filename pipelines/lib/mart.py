"""Build the mart the way okr_defs asks: reporting currency, exchange rates and campaign links included.

The mart asset calls `build_mart(conn, defs)`. The rates file is read first, outside the database
transaction (a bad cell fails with file:line before anything is touched); then one transaction replaces
raw.fx_rates, the mart, and marts.campaign_map together.
"""

from __future__ import annotations

import duckdb

from pipelines.lib import campaign_map, fx, storage
from pipelines.lib.spec import OkrDefs
from pipelines.lib.spec.unify_checks import money_metrics


def mart_settings(defs: OkrDefs) -> storage.MartSettings:
    """The unification settings of okr_defs; reads the fx_rates file (raises SourceDataError on a bad cell)."""
    rates = fx.read_configured_rates(defs)
    stored = {getattr(defs.metrics[name], "column", None) or name for name in money_metrics(defs)}
    return storage.MartSettings(
        reporting_currency=defs.reporting_currency,
        money_metrics=tuple(sorted(stored | set(storage.MONEY_COLUMNS))),
        max_rate_age_days=defs.fx_rates.max_age_days if defs.fx_rates else None,
        fx_rates=rates.frame,
        rates_origin=rates.origin,
        links=campaign_map.links_frame(defs),
    )


def build_mart(conn: duckdb.DuckDBPyConnection, defs: OkrDefs) -> int:
    """Rebuild marts.campaign_daily_metrics and marts.campaign_map for every source of okr_defs.

    Raises fx.FxError (money without a usable rate) or connectors.SourceDataError (a bad rates file);
    either way the previous mart stays as it was. Returns the mart's row count.
    """
    settings = mart_settings(defs)
    return storage.rebuild_mart(conn, sorted(defs.sources), settings)
