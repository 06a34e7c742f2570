"""Why a KR has its value: the lineage (sources, filters, window, rows counted) and what is behind it.

Recomputed on a read-only connection for the requested as-of day with the same scoring pass, so the
explanation can never disagree with the score.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.lib import db
from pipelines.lib.scoring.engine import compute_scores
from pipelines.lib.scoring.specs import kpi_key, kr_key
from pipelines.lib.spec import OkrDefs
from pipelines.lib.spec.conversion_checks import CONVERSION_MEASURES
from pipelines.lib.spec.models import BaseMetric, ExpressionMetric, RatioMetric


@dataclass
class Explanation:
    key: str
    score: dict
    metric: str
    formula: str
    window: tuple[str, str]
    filters: list[tuple[str, str, bool]]
    sources: list[dict]
    rows_counted: int
    days_counted: int
    top_campaigns: list[dict] = field(default_factory=list)
    movers: list[dict] = field(default_factory=list)
    periods: list[dict] = field(default_factory=list)  # distinct counts: the GA4 query behind the value
    quality: list[dict] = field(default_factory=list)  # what GA4 said about the data read (kr_quality.sql)
    # conversion metrics: per source and stored conversion_definition, the rows behind the value
    conversions: list[dict] = field(default_factory=list)


def _formula(defs: OkrDefs, name: str | None) -> str:
    metric = defs.metrics.get(name) if name else None
    if isinstance(metric, RatioMetric):
        return f"sum({metric.ratio[0]}) / sum({metric.ratio[1]}) over the window (ratio of sums)"
    if isinstance(metric, ExpressionMetric):
        return metric.expr
    if isinstance(metric, BaseMetric) and metric.per_period:
        return (
            f"distinct count {metric.column or name} from one GA4 query over the whole window with the KR's "
            "filters (agg: period): never a sum of days or campaigns"
        )
    if isinstance(metric, BaseMetric):
        return f"{metric.agg}({metric.column or name}) over the window"
    return "self-reported"


# The mart rows of a KR's conversion measures over its window, per source and conversion definition: the
# series the scoring pass matched to the KR's filters (kr_members.sql, left by compute_scores in this
# connection), never a second matcher; a series read in two roles counts once.
CONVERSIONS_SQL = """
WITH series AS (
    SELECT DISTINCT x.*
    FROM kr_members AS k
    JOIN kr_numbered AS s ON s.kr_no = k.kr_no
    JOIN kr_series AS x ON x.series_id = k.series_id
    WHERE s.kr_key = $key AND list_contains($measures, x.metric)
)
SELECT
    m.source,
    m.platform,
    m.conversion_definition AS definition,
    CAST(sum(m.value) FILTER (WHERE m.metric = 'conversions') AS DOUBLE) AS conversions,
    CAST(sum(m.value) FILTER (WHERE m.metric = 'conversions_value') AS DOUBLE) AS conversions_value,
    count(DISTINCT m.report_date) AS days,
    count(*) AS rows
FROM marts.campaign_daily_metrics AS m
JOIN series AS x
  ON m.source = x.source AND m.platform = x.platform AND m.account_id = x.account_id
 AND m.campaign_id = x.campaign_id AND m.campaign_name IS NOT DISTINCT FROM x.campaign_name
 AND m.channel = x.channel AND m.source_medium = x.source_medium
 AND m.unified_campaign_id IS NOT DISTINCT FROM x.unified_campaign_id AND m.metric = x.metric
 AND m.currency_code IS NOT DISTINCT FROM x.currency_code
WHERE m.report_date BETWEEN $start AND $through
GROUP BY ALL
ORDER BY ALL
"""


def _conversions(conn, key: str, start: dt.date, through: dt.date) -> list[dict]:
    """Where the KR's conversions come from, by definition: a Google Ads primary conversion, a Meta
    action_type and a GA4 key event are different events, and a KR without a platform filter adds them.
    A KR that reads no conversion measure matches no series here."""
    params = {"key": key, "measures": list(CONVERSION_MEASURES), "start": start, "through": through}
    return _records(conn.execute(CONVERSIONS_SQL, params).df())


def _share(frame: pd.DataFrame, column: str) -> pd.Series:
    total = frame[column].sum()
    return frame[column] / total if total else frame[column] * 0


def explain(database: Path, defs: OkrDefs, key: str, as_of: dt.date, top: int = 5) -> Explanation:
    """Everything behind KR `key` (objective/kr, or kpi/id or kpi:id for a KPI) as of a day."""
    with db.connect(database, read_only=True) as conn:
        scores = compute_scores(conn, defs, as_of, run_id="explain")
        is_kpi = scores["kind"] == "kpi"
        scores["spec_key"] = [
            kpi_key(k) if kpi else kr_key(str(o), k)
            for kpi, o, k in zip(is_kpi, scores["objective_id"], scores["kr_id"], strict=True)
        ]
        scores["label"] = scores["spec_key"].where(~is_kpi, "kpi/" + scores["kr_id"])
        found = scores.loc[scores["spec_key"] == key]
        if found.empty:  # `kpi/<id>` names a KPI unless a KR of an objective `kpi` has that key
            found = scores.loc[scores["label"] == key]
        if found.empty:
            raise KeyError(f"no key result or KPI {key!r}; known: {', '.join(sorted(scores['label']))}")
        row = found.iloc[0].to_dict()
        spec_key = row["spec_key"]
        spec = conn.execute("SELECT * FROM kr_spec WHERE kr_key = ?", [spec_key]).df().iloc[0]
        filters = conn.execute(
            "SELECT dimension, pattern, is_glob FROM kr_filters WHERE kr_key = ? ORDER BY ALL", [spec_key]
        ).fetchall()
        sources = conn.execute(
            "SELECT ks.source, ks.allowed_lag_days, max(m.report_date) AS data_through FROM kr_sources ks "
            "LEFT JOIN marts.campaign_daily_metrics m ON m.source = ks.source AND m.report_date <= ? "
            "WHERE ks.kr_key = ? GROUP BY ALL ORDER BY 1",
            [as_of, spec_key],
        ).df()
        campaigns = conn.execute(
            "SELECT platform, channel, campaign_id, campaign_name, num_sum, den_sum, num_last7, num_prev7, rows "
            "FROM kr_grouped WHERE is_campaign AND kr_key = ?",
            [spec_key],
        ).df()
        days = conn.execute(
            "SELECT count(*), coalesce(sum(rows), 0) FROM kr_grouped WHERE is_daily AND kr_key = ?", [spec_key]
        ).fetchone()
        keys = [spec_key, f"{spec_key}#baseline"]
        periods = conn.execute(
            "SELECT CASE WHEN l.kr_key = ? THEN 'actual' ELSE 'baseline' END AS role, l.source, p.account_id, "
            "l.metric, p.ga4_metric, l.window_start, l.window_end, l.filter_text, p.dimension_filter, p.value, "
            "p.source_rows, p.sampled, p.sampling_ratio, p.thresholded, p.data_loss_from_other_row, p.extracted_at "
            "FROM kr_period AS l LEFT JOIN period_values AS p ON p.source = l.source AND p.metric = l.metric "
            "AND p.filter_key = l.filter_key AND p.window_start = l.window_start AND p.window_end = l.window_end "
            "WHERE list_contains(?, l.kr_key) ORDER BY role, l.source",
            [spec_key, keys],
        ).df()
        quality = conn.execute(
            "SELECT CASE WHEN kr_key = ? THEN 'actual' ELSE 'baseline' END AS role, * EXCLUDE (kr_key, reader_key) "
            "FROM kr_quality WHERE list_contains(?, kr_key) ORDER BY role, source, origin",
            [spec_key, keys],
        ).df()
        start = spec["window_start"].date()
        conversions = _conversions(conn, spec_key, start, min(spec["window_end"].date(), as_of))
    campaigns["share"] = _share(campaigns, "num_sum")
    campaigns["change_7d"] = campaigns["num_last7"].fillna(0) - campaigns["num_prev7"].fillna(0)
    movers = campaigns.reindex(campaigns["change_7d"].abs().sort_values(ascending=False).index).head(top)
    return Explanation(
        key=key,
        score=row,
        metric=row["metric"] or "-",
        formula=_formula(defs, row["metric"]),
        window=(str(spec["window_start"])[:10], str(min(spec["window_end"].date(), as_of))),
        filters=[(d, p, bool(g)) for d, p, g in filters],
        sources=sources.to_dict("records"),
        rows_counted=int(days[1]),
        days_counted=int(days[0]),
        top_campaigns=campaigns.sort_values("num_sum", ascending=False).head(top).to_dict("records"),
        movers=movers.to_dict("records"),
        periods=_records(periods),
        quality=_records(quality),
        conversions=conversions,
    )


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with None (not NaN/NaT) for missing values, so callers can test `is None`."""
    return [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]
