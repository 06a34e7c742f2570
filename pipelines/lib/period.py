"""marts.period_metrics: distinct counts (users) queried from GA4 for each KR's whole window.

"Users in Q3" is not the sum of daily users (a returning user counts once per day), nor the sum of the
users of each campaign (a user who came through two campaigns counts twice). The only exact figure is
GA4's own count over the window under the KR's filters, so for every KR, KPI and measured baseline on a
metric with `agg: period`:

- the window is the KR's start through min(as_of, its end) (a baseline: its own window);
- the campaign / campaign_id / channel / source_medium filters go to GA4 as the report's dimensionFilter
  (exact values and globs, case-sensitive like the daily filters); platform / source / account choose
  the GA4 source (the definitions allow exactly one per KR: users of two properties cannot be de-duplicated);
- GA4 answers one number per metric; it is stored under (source, metric, filter fingerprint, window).

One difference from daily rows: `campaign_id` is compared with GA4's sessionCampaignId. On daily rows a
campaign without an id (utm_campaign without utm_id) is keyed by its name (connectors.ga4_frame.key_by_name),
so filter such a campaign on `campaign` (its name) when it should count in a period KR.

Why not query "by campaign" and filter afterwards: adding the users of the matching campaigns counts a
user of two of them twice, the same error as adding days. A server-side filter costs one small report per
KR window and is exact, so that is what is sent.

A window that ended before the source's restatement look-back and is already stored is not asked again
(GA4 no longer changes it); every other needed window is re-queried each run and its row replaced, all
rows of a run in one transaction. No dagster here: the asset in pipelines/assets/periods.py calls this.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pandas as pd
from google.analytics.data_v1beta import BetaAnalyticsDataClient

from connectors import ga4_filter
from connectors.ga4 import PeriodQuery, fetch_periods
from connectors.ga4_config import Ga4Config
from connectors.ga4_filter import FilterTerms
from pipelines.lib import storage
from pipelines.lib.api_sources import connector_config, lookback
from pipelines.lib.ga4_tables import PERIOD_METRICS
from pipelines.lib.scoring.specs import build_specs, kpi_key, kr_key
from pipelines.lib.spec import OkrDefs
from pipelines.lib.spec.models import Filters
from pipelines.lib.spec.period_checks import period_metric, period_sources

# okr_defs filter names that become the GA4 dimensionFilter, and the grain column each one filters.
GA4_FILTERS = {
    "campaign": "campaign_name",
    "campaign_id": "campaign_id",
    "channel": "channel",
    "source_medium": "source_medium",
}
LINK_COLUMNS = ["kr_key", "source", "metric", "window_start", "window_end", "filter_key", "filter_text"]
KEY = ["source", "metric", "filter_key", "window_start", "window_end"]


@dataclass(frozen=True)
class PeriodNeed:
    """One value a KR reads: a metric of a GA4 source over a window under a filter."""

    source: str
    metric: str  # the stored measure (the key of the source's metrics mapping)
    window_start: dt.date
    window_end: dt.date  # min(KR window end, as-of)
    filters: FilterTerms
    filter_key: str
    filter_text: str


@dataclass
class PeriodPull:
    """The rows a run fetched (PERIOD_METRICS layout), and what it cost per source."""

    frame: pd.DataFrame
    metadata: dict[str, dict] = field(default_factory=dict)


def ga4_terms(filters: Filters) -> FilterTerms:
    """The KR filters GA4 applies itself, as canonical terms over grain columns."""
    chosen = dict(filters.items())
    return ga4_filter.terms({GA4_FILTERS[name]: chosen[name] for name in GA4_FILTERS if name in chosen})


def _readers(defs: OkrDefs) -> dict[str, Filters]:
    """Filters per spec key, for every KR, measured baseline and KPI (keys as in the scoring tables)."""
    out: dict[str, Filters] = {}
    for obj in defs.objectives:
        for kr in obj.key_results:
            key = kr_key(obj.id, kr.id)
            out.setdefault(key, kr.filters)
            out.setdefault(f"{key}#baseline", kr.filters)
    for kpi in defs.kpis:
        out.setdefault(kpi_key(kpi.id), kpi.filters)
    return out


def plan_links(defs: OkrDefs, as_of: dt.date, specs: pd.DataFrame | None = None) -> list[tuple[str, PeriodNeed]]:
    """(spec key, need) for every period KR, KPI and baseline whose window has started by as-of.

    `specs` is the kr_spec frame of a scoring pass (built here when not given), so the loader and the
    scoring join on exactly the same windows and filter fingerprints.
    """
    specs = build_specs(defs, as_of).specs if specs is None else specs
    readers = _readers(defs)
    configs: dict[str, Ga4Config] = {}
    out = []
    for row in specs.itertuples(index=False):
        metric = period_metric(defs, row.metric)
        if metric is None or row.self_reported or row.kr_key not in readers:
            continue
        start, end = _day(row.window_start), min(_day(row.window_end), as_of)
        if start > end:
            continue  # not started: nothing to count yet
        column = metric.column or row.metric
        filters = readers[row.kr_key]
        terms = ga4_terms(filters)
        for source in period_sources(defs, column, filters):
            config = configs.get(source) or configs.setdefault(source, connector_config(defs, source))
            expr = ga4_filter.as_json(ga4_filter.expression(config, terms))
            need = PeriodNeed(
                source, column, start, end, terms, ga4_filter.fingerprint(expr), ga4_filter.describe(terms)
            )
            out.append((row.kr_key, need))
    return out


def links_frame(links: list[tuple[str, PeriodNeed]]) -> pd.DataFrame:
    """The links as the scoring's kr_period table."""
    rows = [[key, n.source, n.metric, n.window_start, n.window_end, n.filter_key, n.filter_text] for key, n in links]
    return pd.DataFrame(rows, columns=LINK_COLUMNS)


def _day(value: object) -> dt.date:
    return value.date() if isinstance(value, dt.datetime | pd.Timestamp) else value


def settled_keys(conn: duckdb.DuckDBPyConnection) -> set[tuple]:
    """Stored rows GA4 no longer restates: their windows need not be asked again."""
    rows = conn.execute(
        f"SELECT source, metric, filter_key, window_start, window_end FROM {PERIOD_METRICS} WHERE is_settled"  # noqa: S608
    ).fetchall()
    return {tuple(r) for r in rows}


def pull_periods(
    defs: OkrDefs,
    as_of: dt.date,
    settled: set[tuple] | None = None,
    clients: dict[str, BetaAnalyticsDataClient] | None = None,
) -> PeriodPull:
    """Ask GA4 for every needed window not already settled; network only, no database.

    Raises the connector's Ga4Error on a configuration, permission or quota failure: then nothing is written.
    """
    settled = settled or set()
    needs = {n for _, n in plan_links(defs, as_of)}
    frames, metadata = [], {}
    for source in sorted({n.source for n in needs}):
        config = connector_config(defs, source)
        settled_before = as_of - dt.timedelta(days=lookback(defs, source) - 1)
        mine = [n for n in needs if n.source == source]
        todo = [n for n in mine if (n.source, n.metric, n.filter_key, n.window_start, n.window_end) not in settled]
        grouped: dict[tuple, set[str]] = {}
        for n in todo:
            grouped.setdefault((n.window_start, n.window_end, n.filters), set()).add(n.metric)
        queries = [PeriodQuery(s, e, tuple(sorted(m)), f) for (s, e, f), m in sorted(grouped.items(), key=repr)]
        load = fetch_periods(config, queries, (clients or {}).get(source))
        frame = load.frame.copy()
        texts = {n.filter_key: n.filter_text for n in mine}
        frame.insert(0, "source", source)
        frame["filter_text"] = frame["filter_key"].map(texts)
        frame["is_settled"] = pd.to_datetime(frame["period_end"]).dt.date < settled_before
        frames.append(frame)
        metadata[source] = {
            "windows_needed": len({(n.window_start, n.window_end, n.filter_key) for n in mine}),
            "windows_settled_skipped": len(mine) - len(todo),
            "reports": load.reports,
            "requests": load.requests,
            "retries": load.retries,
            "tokens_consumed": load.tokens_consumed,
            "tokens_remaining_hour": load.tokens_remaining_hour,
            "thresholded_queries": sum(r.thresholded for r in load.ranges),
            "sampled_queries": sum(r.sampled for r in load.ranges),
            "other_row_queries": sum(r.data_loss_from_other_row for r in load.ranges),
        }
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return PeriodPull(frame, metadata)


def replace_periods(conn: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> int:
    """Replace the fetched (source, metric, filter, window) rows in one transaction; others stay as they are."""
    if frame.empty:
        return 0
    extracted_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    incoming = pd.DataFrame(
        {
            "source": frame["source"],
            "platform": frame["platform"],
            "account_id": frame["account_id"],
            "metric": frame["metric"],
            "ga4_metric": frame["ga4_metric"],
            "filter_key": frame["filter_key"],
            "filter_text": frame["filter_text"],
            "dimension_filter": frame["dimension_filter"],
            "window_start": pd.to_datetime(frame["period_start"]).dt.date,
            "window_end": pd.to_datetime(frame["period_end"]).dt.date,
            "value": frame["value"].astype("float64"),
            "source_rows": frame["rows"].astype("int64"),
            "account_timezone": frame["account_timezone"],
            "sampled": frame["sampled"].astype(bool),
            "sampling_ratio": frame["sampling_ratio"].astype("float64"),
            "thresholded": frame["thresholded"].astype(bool),
            "data_loss_from_other_row": frame["data_loss_from_other_row"].astype(bool),
            "is_settled": frame["is_settled"].astype(bool),
        }
    )
    incoming["extracted_at"] = extracted_at
    conn.register("incoming_periods", incoming)
    try:
        with storage.transaction(conn):
            conn.execute(
                f"DELETE FROM {PERIOD_METRICS} AS p WHERE EXISTS (SELECT 1 FROM incoming_periods AS i "  # noqa: S608
                "WHERE i.source = p.source AND i.metric = p.metric AND i.filter_key = p.filter_key "
                "AND i.window_start = p.window_start AND i.window_end = p.window_end)"
            )
            conn.execute(f"INSERT INTO {PERIOD_METRICS} BY NAME SELECT * FROM incoming_periods")  # noqa: S608
    finally:
        conn.unregister("incoming_periods")
    return len(incoming)
