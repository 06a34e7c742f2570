"""The GA4 Data API client of a source, and one call through it: bounded retries, errors an analyst can act on.

Network faults (429, 502/503/504, timeouts, dropped connections) pass with time, so they are retried with
exponential backoff and full jitter, bounded by attempts and a deadline. Anything else (403, 400, 401) will
fail the same way again, so it fails at once, translated into a Ga4Error naming the property and the field.
"""

from __future__ import annotations

import re

import requests
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.types import BatchRunReportsRequest, RunReportRequest, RunReportResponse
from google.api_core import exceptions as gexc
from google.api_core import retry as gretry
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.auth.exceptions import DefaultCredentialsError, RefreshError

from connectors.errors import Ga4Error
from connectors.ga4_config import Ga4Config
from connectors.ga4_quota import QuotaMeter

RETRYABLE = (
    gexc.TooManyRequests,
    gexc.BadGateway,
    gexc.ServiceUnavailable,
    gexc.GatewayTimeout,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
)


class _GaveUp(Exception):
    """Raised from the retry's error hook once the attempt budget is spent (api_core bounds only by time)."""

    def __init__(self, last: Exception, attempts: int):
        super().__init__(str(last))
        self.last = last
        self.attempts = attempts


def build_client(config: Ga4Config) -> BetaAnalyticsDataClient:
    """A REST client for the config: Google's credential chain, or anonymous towards a loopback fake."""
    options = ClientOptions(api_endpoint=config.endpoint) if config.endpoint else None
    credentials = AnonymousCredentials() if config.credentials == "anonymous" else None
    try:
        return BetaAnalyticsDataClient(transport="rest", credentials=credentials, client_options=options)
    except DefaultCredentialsError:
        # The library's message may quote a key file's path or contents; say what to do instead.
        raise config.error(
            "no Google credentials found; set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file "
            "or run `gcloud auth application-default login`",
            "credentials",
        ) from None


class Ga4Caller:
    """Sends report requests for one property (one, or up to five as a batch) and meters what they cost."""

    def __init__(self, config: Ga4Config, client: BetaAnalyticsDataClient, meter: QuotaMeter):
        self.config = config
        self.client = client
        self.meter = meter

    def run(self, batch: list[RunReportRequest]) -> list[RunReportResponse]:
        """One API call: runReport for a single request, batchRunReports for 2..5 (same property, one trip)."""
        self.meter.before_call()
        try:
            if len(batch) == 1:
                batch[0].property = self.config.resource  # runReport names the property in the request
                reports = [self.client.run_report(request=batch[0], retry=self._retry(), timeout=self._timeout)]
            else:
                request = BatchRunReportsRequest(property=self.config.resource, requests=batch)
                response = self.client.batch_run_reports(request=request, retry=self._retry(), timeout=self._timeout)
                reports = list(response.reports)
        except Exception as exc:
            raise translate(self.config, exc, _fields(batch)) from None
        if len(reports) != len(batch):
            raise self.config.error(f"asked for {len(batch)} reports in one batch, got {len(reports)}")
        self.meter.after_call(reports)
        return reports

    @property
    def _timeout(self) -> float:
        return self.config.timeout_seconds

    def _retry(self) -> gretry.Retry:
        policy = self.config.retry
        failures = 0

        def on_error(exc: Exception) -> None:
            nonlocal failures
            failures += 1
            if failures >= policy.max_attempts:
                raise _GaveUp(exc, failures)
            self.meter.on_retry(exc)

        return gretry.Retry(
            predicate=gretry.if_exception_type(*RETRYABLE),
            initial=policy.initial_seconds,
            maximum=policy.max_seconds,
            multiplier=policy.multiplier,
            timeout=policy.deadline_seconds,
            on_error=on_error,
        )


def translate(config: Ga4Config, exc: Exception, fields: list[str]) -> Ga4Error:
    """A Ga4Error an analyst can act on; only the API's own message is quoted (never headers or tokens)."""
    if isinstance(exc, _GaveUp):
        return config.error(f"still failing after {exc.attempts} attempts: {_describe(exc.last)}")
    if isinstance(exc, gexc.RetryError):
        return config.error(f"still failing when the retry deadline passed: {_describe(exc.cause)}")
    if isinstance(exc, gexc.Forbidden):
        return config.error(
            "permission denied: the credentials in use cannot read this property; give the service account "
            f"the Viewer role on it in GA4 Admin → Property access management. API: {api_message(exc)}",
            "property_id",
        )
    if isinstance(exc, gexc.Unauthorized | RefreshError):
        return config.error("the Google credentials were rejected (expired or revoked?)", "credentials")
    if isinstance(exc, gexc.BadRequest):
        message = api_message(exc)
        name = _blamed_field(message, fields)
        what = _field_label(config, name) if name else "the request"
        return config.error(f"GA4 rejected {what}: {message}", name)
    return config.error(_describe(exc))


def api_message(exc: gexc.GoogleAPICallError) -> str:
    """The API's own `error.message`, without the method and URL that api_core puts in front of it."""
    try:
        return str(exc.response.json()["error"]["message"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return str(exc.message)


def _describe(exc: Exception | None) -> str:
    if isinstance(exc, gexc.GoogleAPICallError):
        return f"HTTP {int(exc.code or 0)} {api_message(exc)}"
    if isinstance(exc, requests.exceptions.Timeout):
        return "the request timed out"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "the connection to the GA4 endpoint failed"
    return type(exc).__name__ if exc is not None else "unknown error"


def _blamed_field(message: str, fields: list[str]) -> str | None:
    """The requested field the API message names (it says e.g. 'Field pageViews is not a valid metric')."""
    quoted = re.search(r"[Ff]ield\s+([\w:]+)", message)
    if quoted and quoted.group(1) in fields:
        return quoted.group(1)
    return next((f for f in fields if re.search(rf"\b{re.escape(f)}\b", message)), None)


def _field_label(config: Ga4Config, name: str) -> str:
    metrics = [m for m, ga4 in (config.metrics | config.period_metrics).items() if ga4 == name]
    dims = [col for col, ga4 in config.dimensions.by_column().items() if ga4 == name]
    owners = ", ".join(f"metric {m!r}" for m in metrics) or ", ".join(f"dimension for {d!r}" for d in dims)
    return f"field {name!r}" + (f" ({owners})" if owners else "")


def _fields(batch: list[RunReportRequest]) -> list[str]:
    names: list[str] = []
    for request in batch:
        names += [m.name for m in request.metrics] + [d.name for d in request.dimensions]
    return list(dict.fromkeys(names))
