"""Turn a window and a metric list into GA4 report requests, and page through them in batches of five.

The API caps a request at 10 metrics and 9 dimensions and a page at 250,000 rows; it allows 5 requests per
batchRunReports call. So the window is cut into date chunks, the metrics into groups of ten that share the
same dimensions (joined back later on the dimension values), and every page, first or later, waits in one
queue from which calls take five at a time: first pages of several chunks share a trip, and so do the later
pages of a large chunk once its first page has told us `rowCount`.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from google.analytics.data_v1beta.types import (
    DateRange,
    Dimension,
    FilterExpression,
    Metric,
    OrderBy,
    RunReportRequest,
    RunReportResponse,
)

MAX_METRICS = 10
MAX_DIMENSIONS = 9
MAX_BATCH = 5


@dataclass(frozen=True)
class ReportQuery:
    """One report: a date range, its dimensions (also its sort order), up to ten metrics and a filter."""

    start: dt.date
    end: dt.date
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    group: int = 0  # which metric group this is; groups of one chunk are joined on the dimensions
    dimension_filter: str | None = None  # a FilterExpression as JSON (hashable); see connectors.ga4_filter


def plan(
    start: dt.date,
    end: dt.date,
    dimensions: list[str],
    metrics: list[str],
    chunk_days: int | None,
    dimension_filter: str | None = None,
) -> list[ReportQuery]:
    """Every (date chunk × metric group) report needed for the window; chunk_days None = one chunk."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    if len(dimensions) > MAX_DIMENSIONS:
        raise ValueError(f"{len(dimensions)} dimensions; the Data API allows {MAX_DIMENSIONS} per request")
    unique = list(dict.fromkeys(metrics))
    groups = [tuple(unique[i : i + MAX_METRICS]) for i in range(0, len(unique), MAX_METRICS)]
    return [
        ReportQuery(chunk_start, chunk_end, tuple(dimensions), group, number, dimension_filter)
        for chunk_start, chunk_end in date_chunks(start, end, chunk_days)
        for number, group in enumerate(groups)
    ]


def date_chunks(start: dt.date, end: dt.date, chunk_days: int | None) -> list[tuple[dt.date, dt.date]]:
    """Consecutive inclusive ranges of at most chunk_days days covering start..end."""
    if chunk_days is None:
        return [(start, end)]
    out = []
    while start <= end:
        last = min(end, start + dt.timedelta(days=chunk_days - 1))
        out.append((start, last))
        start = last + dt.timedelta(days=1)
    return out


def request_for(query: ReportQuery, offset: int, limit: int) -> RunReportRequest:
    """A page request: sorted by every dimension so that offset paging never repeats or skips a row."""
    request = RunReportRequest(
        dimensions=[Dimension(name=d) for d in query.dimensions],
        metrics=[Metric(name=m) for m in query.metrics],
        date_ranges=[DateRange(start_date=query.start.isoformat(), end_date=query.end.isoformat())],
        order_bys=[OrderBy(dimension=OrderBy.DimensionOrderBy(dimension_name=d)) for d in query.dimensions],
        offset=offset,
        limit=limit,
        return_property_quota=True,
    )
    if query.dimension_filter is not None:
        request.dimension_filter = FilterExpression.from_json(query.dimension_filter)
    return request


@dataclass
class PagedReport:
    """All pages of one query, in offset order, and the row count its first page announced."""

    query: ReportQuery
    row_count: int
    pages: list[RunReportResponse]


Call = Callable[[list[RunReportRequest]], list[RunReportResponse]]


class RowCountChanged(Exception):
    """A later page reported another rowCount than the first: offsets no longer line up with the data."""


def fetch_all(queries: list[ReportQuery], page_size: int, call: Call) -> list[PagedReport]:
    """Page every query to its rowCount, five requests per call, first pages first.

    Raises RowCountChanged when the data changed while paging, since rows could then be repeated or lost.
    """
    reports = {q: PagedReport(q, -1, []) for q in queries}
    pages: dict[ReportQuery, dict[int, RunReportResponse]] = {q: {} for q in queries}
    pending: deque[tuple[ReportQuery, int]] = deque((q, 0) for q in queries)
    while pending:
        batch = [pending.popleft() for _ in range(min(MAX_BATCH, len(pending)))]
        responses = call([request_for(q, offset, page_size) for q, offset in batch])
        for (query, offset), response in zip(batch, responses, strict=True):
            pages[query][offset] = response
            report = reports[query]
            if offset == 0:
                report.row_count = response.row_count
                pending.extend((query, later) for later in range(page_size, response.row_count, page_size))
            elif response.row_count != report.row_count:
                raise RowCountChanged(
                    f"rowCount changed from {report.row_count} to {response.row_count} while paging "
                    f"{query.start}..{query.end}; the property's data was being updated, run the load again"
                )
    for query, report in reports.items():
        report.pages = [pages[query][offset] for offset in sorted(pages[query])]
    return list(reports.values())
