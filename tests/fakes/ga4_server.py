"""A fake GA4 Data API v1beta (REST) on 127.0.0.1 that the real google-analytics-data client talks to.

It answers from a table of rows per property the way GA4 does: group by the requested dimensions, sum the
metrics (distinct counts for user metrics), leave out all-zero rows, sort by `orderBys`, then page with
offset/limit and announce `rowCount`. A `dimensionFilter` (and/or/not groups, string filters of every match
type with GA4's case-insensitive default, in-list filters) is applied to the rows before they are grouped, as
GA4 does. It checks every request body strictly (unknown fields, int64 as JSON strings, at most 9 dimensions /
10 metrics / 5 reports per batch, a full deterministic sort, property quota asked for, filters on known
dimensions) and records it, so a wrong request fails the test. Responses are built from the library's typed
messages; rows take a fast path whose JSON is checked against a typed `Row` on every page.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
from google.analytics.data_v1beta.types import (
    DimensionHeader,
    DimensionValue,
    MetricHeader,
    MetricType,
    MetricValue,
    PropertyQuota,
    QuotaStatus,
    ResponseMetaData,
    Row,
    RunReportRequest,
    RunReportResponse,
    SamplingMetadata,
)

INT, FLOAT, MONEY = MetricType.TYPE_INTEGER, MetricType.TYPE_FLOAT, MetricType.TYPE_CURRENCY
METRICS = {
    "sessions": INT,
    "engagedSessions": INT,
    "transactions": INT,
    "eventCount": INT,
    "screenPageViews": INT,
    "keyEvents": FLOAT,
    "purchaseRevenue": MONEY,
    "totalRevenue": MONEY,
    "addToCarts": INT,
    "checkouts": INT,
    "ecommercePurchases": INT,
    "userEngagementDuration": MetricType.TYPE_SECONDS,
    "totalUsers": INT,
    "activeUsers": INT,
    "newUsers": INT,
}
USER_METRICS = {"totalUsers", "activeUsers", "newUsers"}  # distinct counts over the `users` set column
DIMENSIONS = {
    "date",
    "sessionCampaignId",
    "sessionCampaignName",
    "sessionDefaultChannelGroup",
    "sessionSourceMedium",
    "sessionSource",
    "sessionMedium",
}
MAX_ROWS = 250_000
SCHEMA_LINK = "For a list of valid dimensions and metrics, see https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"
STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}


class ApiError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class FakeProperty:
    """One property's rows: `date` as YYYYMMDD and GA4 dimension names as columns, metric columns, optional `users`."""

    rows: pd.DataFrame
    currency_code: str = "USD"
    time_zone: str = "UTC"
    thresholded: bool = False
    data_loss_from_other_row: bool = False
    sampling: tuple[int, int] | None = None  # (samplesReadCount, samplingSpaceSize)
    # YYYYMMDD: the three flags above only on reports whose date range reaches this day (Google signals
    # switched on then, say); None: on every report
    flags_from: str | None = None
    tokens_per_report: int = 3
    tokens_day: int = 200_000
    tokens_hour: int = 40_000
    tokens_project_hour: int = 14_000


@dataclass
class Fault:
    """What goes wrong on one call: an error status, a slow answer, or the property's data changing first."""

    status: int = 0  # 0: answer normally, after `delay` seconds
    message: str = ""
    delay: float = 0.0
    restate: pd.DataFrame | None = None  # GA4 reprocessed the property: these rows answer from this call on


@dataclass
class Received:
    path: str
    body: dict
    authorization: str | None


@dataclass
class FakeGa4Server:
    properties: dict[str, FakeProperty] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    faults: dict[int, Fault] = field(default_factory=dict)  # by API call number, 1-based, failed ones counted
    problems: list[str] = field(default_factory=list)  # request problems a real GA4 would not explain

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> FakeGa4Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}"

    @property
    def api_calls(self) -> list[Received]:
        return self.received

    def reports_sent(self) -> list[dict]:
        """Every report request received, batch members unrolled, in order."""
        out = []
        for call in self.api_calls:
            out += call.body["requests"] if call.path.endswith(":batchRunReports") else [call.body]
        return out

    def handle(self, path: str, body: dict, authorization: str | None) -> tuple[int, dict, float]:
        with self._lock:
            self.received.append(Received(path, body, authorization))
            fault = self.faults.get(len(self.api_calls), Fault())
            prop = self.properties.get(path.removeprefix("/v1beta/properties/").partition(":")[0])
            if fault.restate is not None and prop is not None:
                prop.rows = fault.restate
            if fault.status:
                return fault.status, _error(fault.status, fault.message), 0.0
            try:
                return 200, self._answer(path, body), fault.delay
            except ApiError as exc:
                return exc.code, _error(exc.code, exc.message), fault.delay

    def _answer(self, path: str, body: dict) -> dict:
        prefix, _, method = path.partition(":")
        property_id = prefix.removeprefix("/v1beta/properties/")
        prop = self.properties.get(property_id)
        if prop is None:
            raise ApiError(403, "User does not have sufficient permissions for this property.")
        if method == "runReport":
            return self._report(prop, body)
        if method != "batchRunReports":
            raise ApiError(404, f"unknown method {method!r}")
        self._require(body.get("property") in (None, f"properties/{property_id}"), "batch property differs from URL")
        requests = body.get("requests", [])
        if not 1 <= len(requests) <= 5:
            raise ApiError(400, f"Batch requests must have 1 to 5 requests, got {len(requests)}.")
        for inner in requests:
            self._require(inner.get("property", "") in ("", f"properties/{property_id}"), "inner property")
        return {"reports": [self._report(prop, r) for r in requests], "kind": "analyticsData#batchRunReports"}

    def _require(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)
            raise ApiError(400, f"fake GA4: {problem}")

    def _report(self, prop: FakeProperty, body: dict) -> dict:
        request = RunReportRequest.from_json(json.dumps(body))  # strict: an unknown field raises
        dims = [d.name for d in request.dimensions]
        metrics = [m.name for m in request.metrics]
        self._check(body, request, dims, metrics)
        rows = prop.rows
        if "dimensionFilter" in body:
            rows = rows[_matches(RunReportRequest.pb(request).dimension_filter, rows)]
        table = _aggregate(rows, request.date_ranges[0], dims, metrics)
        start = int(body.get("offset", "0"))
        page = table.iloc[start : start + min(int(body["limit"]), MAX_ROWS)]
        end = request.date_ranges[0].end_date.replace("-", "")
        flagged = prop.flags_from is None or end >= prop.flags_from
        return _response(prop, page, dims, metrics, len(table), self._spend(prop), flagged)

    def _check(self, body: dict, request: RunReportRequest, dims: list[str], metrics: list[str]) -> None:
        for name in dims:
            if name not in DIMENSIONS:
                raise ApiError(400, f"Field {name} is not a valid dimension. {SCHEMA_LINK}")
        for name in metrics:
            if name not in METRICS:
                raise ApiError(400, f"Field {name} is not a valid metric. {SCHEMA_LINK}")
        if len(dims) > 9 or len(metrics) > 10:
            raise ApiError(400, f"Requested {len(dims)} dimensions and {len(metrics)} metrics; limits are 9 and 10.")
        self._require(len(request.date_ranges) == 1, "exactly one date range expected")
        self._require(isinstance(body.get("limit"), str), "limit must be an int64 JSON string")
        self._require(isinstance(body.get("offset", "1"), str) and body.get("offset") != "0", "offset encoding")
        self._require(body.get("returnPropertyQuota") is True, "returnPropertyQuota must be true")
        order = [o.dimension.dimension_name for o in request.order_bys]
        self._require(order == dims, f"orderBys {order} must sort by every dimension {dims}")

    def _spend(self, prop: FakeProperty) -> PropertyQuota:
        if prop.tokens_hour < prop.tokens_per_report:
            raise ApiError(429, "Exhausted property tokens per hour. Wait for the quota to refresh.")
        prop.tokens_day -= prop.tokens_per_report
        prop.tokens_hour -= prop.tokens_per_report
        prop.tokens_project_hour -= prop.tokens_per_report
        spent = prop.tokens_per_report
        return PropertyQuota(
            tokens_per_day=QuotaStatus(consumed=spent, remaining=prop.tokens_day),
            tokens_per_hour=QuotaStatus(consumed=spent, remaining=prop.tokens_hour),
            tokens_per_project_per_hour=QuotaStatus(consumed=spent, remaining=prop.tokens_project_hour),
            concurrent_requests=QuotaStatus(consumed=0, remaining=10),
        )


def _matches(expr: object, rows: pd.DataFrame) -> pd.Series:
    """Which rows a FilterExpression (protobuf) keeps; an unknown dimension is a 400, as in GA4."""
    kind = expr.WhichOneof("expr")
    if kind in ("and_group", "or_group"):
        parts = [_matches(e, rows) for e in getattr(expr, kind).expressions]
        if not parts:
            raise ApiError(400, f"{kind} needs at least one expression")
        combined = parts[0]
        for part in parts[1:]:
            combined = (combined & part) if kind == "and_group" else (combined | part)
        return combined
    if kind == "not_expression":
        return ~_matches(expr.not_expression, rows)
    if kind != "filter":
        raise ApiError(400, "FilterExpression must set one of and_group, or_group, not_expression, filter")
    name = expr.filter.field_name
    if name not in DIMENSIONS:
        raise ApiError(400, f"Field {name} is not a valid dimension. {SCHEMA_LINK}")
    values = rows[name].astype(str) if name in rows else pd.Series("(not set)", index=rows.index)
    which = expr.filter.WhichOneof("one_filter")
    if which == "in_list_filter":
        wanted = list(expr.filter.in_list_filter.values)
        if expr.filter.in_list_filter.case_sensitive:
            return values.isin(wanted)
        return values.str.lower().isin([w.lower() for w in wanted])
    if which != "string_filter":
        raise ApiError(400, f"fake GA4 supports string and in-list filters, not {which}")
    sf = expr.filter.string_filter
    flags = 0 if sf.case_sensitive else re.IGNORECASE
    literal = re.escape(sf.value)
    pattern = {
        1: f"{literal}",  # EXACT
        2: f"{literal}.*",  # BEGINS_WITH
        3: f".*{literal}",  # ENDS_WITH
        4: f".*{literal}.*",  # CONTAINS
        5: sf.value,  # FULL_REGEXP
        6: f".*(?:{sf.value}).*",  # PARTIAL_REGEXP
    }.get(sf.match_type)
    if pattern is None:
        raise ApiError(400, f"StringFilter match type {sf.match_type} is not valid")
    compiled = re.compile(pattern, flags | re.DOTALL)
    return values.map(lambda v: compiled.fullmatch(v) is not None).astype(bool)


def _aggregate(rows: pd.DataFrame, date_range: object, dims: list[str], metrics: list[str]) -> pd.DataFrame:
    """GA4's answer before paging: grouped, summed, all-zero rows left out, sorted by every dimension."""
    start, end = date_range.start_date.replace("-", ""), date_range.end_date.replace("-", "")
    window = rows[(rows["date"] >= start) & (rows["date"] <= end)]
    additive = [m for m in metrics if m not in USER_METRICS]
    if window.empty:
        return pd.DataFrame(columns=dims + metrics)
    keys = dims or (lambda _: 0)
    grouped = window.groupby(keys, sort=False)
    table = grouped[additive].sum() if additive else pd.DataFrame(index=grouped.size().index)
    for name in set(metrics) & USER_METRICS:
        table[name] = grouped["users"].agg(lambda sets: len(frozenset().union(*sets)))
    table = table.reset_index(drop=not dims)[dims + metrics]
    table = table[(table[metrics] != 0).any(axis=1)]
    return table.sort_values(dims, kind="stable").reset_index(drop=True) if dims else table


def _response(
    prop: FakeProperty,
    page: pd.DataFrame,
    dims: list[str],
    metrics: list[str],
    count: int,
    quota: PropertyQuota,
    flagged: bool = True,
) -> dict:
    typed = RunReportResponse(
        dimension_headers=[DimensionHeader(name=d) for d in dims],
        metric_headers=[MetricHeader(name=m, type_=METRICS[m]) for m in metrics],
        row_count=count,
        metadata=ResponseMetaData(
            currency_code=prop.currency_code,
            time_zone=prop.time_zone,
            subject_to_thresholding=prop.thresholded and flagged,
            data_loss_from_other_row=prop.data_loss_from_other_row and flagged,
            sampling_metadatas=_sampling(prop) if flagged else [],
        ),
        property_quota=quota,
        kind="analyticsData#runReport",
    )
    envelope = json.loads(RunReportResponse.to_json(typed))
    envelope["rows"] = _rows(page, dims, metrics)
    return envelope


def _sampling(prop: FakeProperty) -> list[SamplingMetadata]:
    if prop.sampling is None:
        return []
    read, space = prop.sampling
    return [SamplingMetadata(samples_read_count=read, sampling_space_size=space)]


def _rows(page: pd.DataFrame, dims: list[str], metrics: list[str]) -> list[dict]:
    """Rows as wire JSON, fast enough for 250,000 rows; the first one is compared with a typed Row."""
    dim_cols = [page[d].astype(str).tolist() for d in dims]
    met_cols = [[_metric_text(v, METRICS[m]) for v in page[m].tolist()] for m in metrics]
    rows = [
        {
            "dimensionValues": [{"value": col[i]} for col in dim_cols],
            "metricValues": [{"value": col[i]} for col in met_cols],
        }
        for i in range(len(page))
    ]
    if rows:
        typed = Row(
            dimension_values=[DimensionValue(value=col[0]) for col in dim_cols],
            metric_values=[MetricValue(value=col[0]) for col in met_cols],
        )
        assert json.loads(Row.to_json(typed)) == rows[0], "fast row JSON drifted from the typed message"
    return rows


def _metric_text(value: float, kind: MetricType) -> str:
    return str(int(value)) if kind == INT else repr(float(value))


def _error(code: int, message: str) -> dict:
    return {"error": {"code": code, "message": message, "status": STATUS.get(code, "UNKNOWN")}}


def _handler(fake: FakeGa4Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            path = self.path.split("?")[0]  # the client adds ?$alt=json;enum-encoding=int
            try:
                body = json.loads(raw) if raw else {}
                status, payload, delay = fake.handle(path, body, self.headers.get("Authorization"))
            except Exception as exc:  # a bug in the fake must show up in the test, not hang it
                fake.problems.append(f"fake crashed: {exc!r}")
                status, payload, delay = 500, _error(500, f"fake crashed: {exc!r}"), 0.0
            time.sleep(delay)
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and left; that was the point

        def log_message(self, *args: object) -> None:
            pass

    return Handler
