"""The okr_defs models in one import: sources.yaml, metrics.yaml and objectives/*.yaml.

`extra="forbid"` everywhere: a misspelt key is an error with a position, not a silently ignored
setting. Cross-file rules (a KR's metric exists, a parent objective exists) live in `checks.py`.
"""

from pipelines.lib.spec.base import Identifier, MetricName, Strict
from pipelines.lib.spec.metrics_model import (
    UNION_TAGS,
    BaseMetric,
    ExpressionMetric,
    Metric,
    MetricsFile,
    RatioMetric,
    Unit,
)
from pipelines.lib.spec.objectives_model import (
    FILTER_DIMENSIONS,
    Band,
    Filters,
    KeyResult,
    Kpi,
    MeasuredBaseline,
    Objective,
    ObjectivesFile,
    Period,
    RelativeTarget,
    Window,
)
from pipelines.lib.spec.sources_model import (
    DEFAULT_LOOKBACK,
    DEFAULT_RESTATEMENT,
    ColumnRef,
    CountRows,
    DateColumn,
    FileSource,
    FxRates,
    Ga4Source,
    GoogleAdsSource,
    MetaAdsSource,
    Refresh,
    Source,
    SourcesFile,
)

__all__ = [
    "DEFAULT_LOOKBACK",
    "DEFAULT_RESTATEMENT",
    "FILTER_DIMENSIONS",
    "UNION_TAGS",
    "Band",
    "BaseMetric",
    "ColumnRef",
    "CountRows",
    "DateColumn",
    "ExpressionMetric",
    "FileSource",
    "Filters",
    "FxRates",
    "Ga4Source",
    "GoogleAdsSource",
    "Identifier",
    "KeyResult",
    "Kpi",
    "MeasuredBaseline",
    "MetaAdsSource",
    "Metric",
    "MetricName",
    "MetricsFile",
    "Objective",
    "ObjectivesFile",
    "Period",
    "RatioMetric",
    "Refresh",
    "RelativeTarget",
    "Source",
    "SourcesFile",
    "Strict",
    "Unit",
    "Window",
]
