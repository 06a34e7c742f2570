"""Decode GA4 report pages into typed columns, and gather what the response metadata says about them.

Metric values arrive as strings whose meaning is in `metricHeaders[].type`: integers stay exact, currency
goes through Decimal and keeps 6 decimals (micros), other types are plain floats. The metadata (currency,
time zone, sampling, thresholding, the `(other)` roll-up) decides how far an analyst can trust a number, so
it is carried next to the rows instead of being dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

import pandas as pd
from google.analytics.data_v1beta.types import MetricType, RunReportResponse

from connectors.ga4_paging import PagedReport

MICRO = Decimal("0.000001")


class DecodeError(Exception):
    """A response that does not match its request or cannot be read; the load must not be written."""


@dataclass
class ReportFacts:
    """What the responses' metadata said, merged over every page of a load."""

    currency_code: str | None = None
    time_zone: str | None = None
    thresholded: bool = False
    data_loss_from_other_row: bool = False
    sampling_ratio: float | None = None  # lowest samplesReadCount / samplingSpaceSize seen; None = unsampled
    currency_metrics: set[str] = field(default_factory=set)  # GA4 metrics typed TYPE_CURRENCY

    def observe(self, page: RunReportResponse) -> None:
        meta = RunReportResponse.pb(page).metadata
        self.currency_code = _same(self.currency_code, meta.currency_code or None, "currency code")
        self.time_zone = _same(self.time_zone, meta.time_zone or None, "time zone")
        self.thresholded |= meta.subject_to_thresholding
        self.data_loss_from_other_row |= meta.data_loss_from_other_row
        for sample in meta.sampling_metadatas:
            if sample.sampling_space_size > 0:
                ratio = sample.samples_read_count / sample.sampling_space_size
                self.sampling_ratio = ratio if self.sampling_ratio is None else min(self.sampling_ratio, ratio)

    def merge(self, other: ReportFacts) -> None:
        """Add what another set of pages said (a load's facts are the merge of its reports' facts)."""
        self.currency_code = _same(self.currency_code, other.currency_code, "currency code")
        self.time_zone = _same(self.time_zone, other.time_zone, "time zone")
        self.thresholded |= other.thresholded
        self.data_loss_from_other_row |= other.data_loss_from_other_row
        if other.sampling_ratio is not None:
            mine = self.sampling_ratio
            self.sampling_ratio = other.sampling_ratio if mine is None else min(mine, other.sampling_ratio)
        self.currency_metrics |= other.currency_metrics

    @property
    def sampled(self) -> bool:
        return self.sampling_ratio is not None


def _same(seen: str | None, new: str | None, what: str) -> str | None:
    """A property has one currency and one zone; two within a load mean it was changed mid-load."""
    if seen and new and seen != new:
        raise DecodeError(f"the property's {what} changed during the load ({seen} → {new}); run the load again")
    return seen or new


def decode(report: PagedReport, facts: ReportFacts) -> pd.DataFrame:
    """One frame per query: a str column per dimension, a float64 column per metric, one row per GA4 row."""
    dims, metrics = list(report.query.dimensions), list(report.query.metrics)
    where = f"{report.query.start}..{report.query.end}"
    dim_cells: list[list[str]] = [[] for _ in dims]
    metric_cells: list[list[str]] = [[] for _ in metrics]
    types: list[int] = [0] * len(metrics)
    received = 0
    for page in report.pages:
        facts.observe(page)
        pb = RunReportResponse.pb(page)
        if not pb.rows:
            continue  # an empty page may come without headers
        types = _check_headers(pb, dims, metrics)
        facts.currency_metrics |= {m for m, t in zip(metrics, types, strict=True) if t == MetricType.TYPE_CURRENCY}
        received += len(pb.rows)
        try:
            for row in pb.rows:
                for cells, value in zip(dim_cells, row.dimension_values, strict=True):
                    cells.append(value.value)
                for cells, value in zip(metric_cells, row.metric_values, strict=True):
                    cells.append(value.value)
        except ValueError:
            raise DecodeError(f"{where}: a row has the wrong number of values") from None
    if received != report.row_count:
        raise DecodeError(f"{where}: rowCount said {report.row_count} rows, the pages held {received}")
    frame = pd.DataFrame({name: pd.Series(cells, dtype=object) for name, cells in zip(dims, dim_cells, strict=True)})
    for name, cells, kind in zip(metrics, metric_cells, types, strict=True):
        frame[name] = pd.Series(_numbers(name, cells, kind), dtype="float64")
    if dims and frame.duplicated(subset=dims).any():
        raise DecodeError(f"{where}: a row came twice across pages (data changed while paging); run the load again")
    return frame


def _check_headers(pb: object, dims: list[str], metrics: list[str]) -> list[int]:
    """The response must describe exactly the requested columns, in order; returns the metric types."""
    got_dims = [h.name for h in pb.dimension_headers]
    got_metrics = [h.name for h in pb.metric_headers]
    if got_dims != dims or got_metrics != metrics:
        raise DecodeError(f"response columns {got_dims + got_metrics} differ from the requested {dims + metrics}")
    return [h.type_ for h in pb.metric_headers]


def _numbers(name: str, cells: list[str], kind: int) -> list[float]:
    try:
        if kind == MetricType.TYPE_INTEGER:
            return [float(int(v)) for v in cells]
        if kind == MetricType.TYPE_CURRENCY:
            return [float(Decimal(v).quantize(MICRO, rounding=ROUND_HALF_EVEN)) for v in cells]
        return [float(v) for v in cells]
    except (ValueError, InvalidOperation):
        bad = next(v for v in cells if not _parses(v, kind))
        raise DecodeError(f"metric {name!r}: value {bad!r} is not a {MetricType(kind).name}") from None


def _parses(value: str, kind: int) -> bool:
    try:
        int(value) if kind == MetricType.TYPE_INTEGER else Decimal(value)
    except (ValueError, InvalidOperation):
        return False
    return True


def join_groups(frames: list[pd.DataFrame], dims: list[str]) -> pd.DataFrame:
    """Join metric groups of one chunk on the dimension values.

    GA4 leaves out a row whose requested metrics are all zero, so a key missing from one group means zeros
    for that group's metrics, not unknown values.
    """
    joined = frames[0]
    for frame in frames[1:]:
        joined = joined.merge(frame, on=dims, how="outer") if dims else pd.concat([joined, frame], axis=1)
    metric_columns = [c for c in joined.columns if c not in dims]
    joined[metric_columns] = joined[metric_columns].fillna(0.0)
    return joined
