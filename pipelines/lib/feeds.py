"""Bridge from okr_defs source definitions to connector configurations."""

from __future__ import annotations

from connectors import FileFeed, MetricColumn
from connectors.tabular import TableFormat
from pipelines.lib.spec import OkrDefs
from pipelines.lib.spec.models import BaseMetric, ColumnRef, CountRows, FileSource


def count_metrics(defs: OkrDefs, metrics) -> set[str]:
    """The catalogue metrics among `metrics` that count things, so can never be negative."""
    return {m for m in metrics if isinstance(defs.metrics.get(m), BaseMetric) and defs.metrics[m].unit == "count"}


def file_feed(defs: OkrDefs, name: str) -> FileFeed:
    """A FileFeed for source `name`, its glob resolved against the okr_defs folder."""
    src = defs.sources[name]
    assert isinstance(src, FileSource)
    metrics = {}
    for metric, mapping in src.metrics.items():
        if isinstance(mapping, CountRows) or mapping == "count":
            metrics[metric] = MetricColumn(count_rows=True)
        else:
            metrics[metric] = MetricColumn(column=mapping.column if isinstance(mapping, ColumnRef) else mapping)
    nonnegative = frozenset(count_metrics(defs, src.metrics))
    channel_column = src.channel.column if isinstance(src.channel, ColumnRef) else None
    return FileFeed(
        name=name,
        pattern=str(defs.resolve_path(src.path)),
        platform=src.platform,
        account_id=src.account_id,
        date_column=src.date.column,
        date_format=src.date.format,
        campaign_id_column=src.campaign_id,
        campaign_name_column=src.campaign_name,
        channel=src.channel if isinstance(src.channel, str) else "(not set)",
        channel_column=channel_column,
        source_medium_column=src.source_medium.column if src.source_medium else None,
        currency=src.currency,
        timezone=src.timezone,
        table=TableFormat(format=src.format, delimiter=src.delimiter, encoding=src.encoding),
        thousands=src.thousands,
        decimal=src.decimal,
        drop_duplicates=src.drop_duplicates,
        metrics=metrics,
        nonnegative=nonnegative,
    )
