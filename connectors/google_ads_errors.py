"""What a Google Ads failure means for a load: retry it (quota, network) or stop with a message a person can act on.

Why this module: the `google-ads` library surfaces failures in two shapes. RESOURCE_EXHAUSTED (and INTERNAL)
are NOT converted by its ExceptionInterceptor and arrive as `google.api_core.exceptions` errors; everything
else with a `GoogleAdsFailure` in the trailing metadata arrives as `GoogleAdsException`. The message we raise
names the error code (e.g. `query_error.UNRECOGNIZED_FIELD`), the request id and the offending field, and
never a credential (the library's exceptions hold none; the developer token lives only in call metadata).
"""

from __future__ import annotations

from typing import Any

from google.ads.googleads.errors import GoogleAdsException
from google.ads.googleads.v26.errors.types.errors import GoogleAdsFailure
from google.api_core import exceptions as core

from connectors.ads_retry import Transient
from connectors.errors import SourceApiError

API_VERSION = "v26"
FAILURE_METADATA_KEY = f"google.ads.googleads.{API_VERSION}.errors.googleadsfailure-bin"
_NETWORK_FAULTS = (core.ServiceUnavailable, core.DeadlineExceeded, core.InternalServerError)
_TRANSIENT_CODES = {"quota_error.RESOURCE_TEMPORARILY_EXHAUSTED", "internal_error.TRANSIENT_ERROR"}


def classify(exc: Exception) -> Transient | None:
    """Transient failures to retry with backoff; None for anything retrying cannot fix."""
    if isinstance(exc, core.ResourceExhausted):
        return Transient("Google Ads quota exhausted (RESOURCE_EXHAUSTED)", _retry_delay(exc))
    if isinstance(exc, _NETWORK_FAULTS):
        return Transient(f"Google Ads unavailable ({type(exc).__name__}: {exc.message})")
    if isinstance(exc, GoogleAdsException):
        codes = {_code(error) for error in _errors(exc.failure)}
        if codes and codes <= _TRANSIENT_CODES:
            return Transient(f"Google Ads transient error ({', '.join(sorted(codes))})")
    return None


def api_error(source: str, customer_id: str, exc: GoogleAdsException) -> SourceApiError:
    """A clear SourceApiError from a GoogleAdsException: code, message, field and request id of each error."""
    errors = list(_errors(exc.failure))
    parts = []
    for error in errors:
        field = _field(error)
        parts.append(f"{_code(error)}: {error.message}" + (f" (field {field!r})" if field else ""))
    first = errors[0] if errors else None
    return SourceApiError(
        source,
        f"Google Ads API rejected the query for customer {customer_id}: {'; '.join(parts) or 'no details'} "
        f"[request id {exc.request_id}]",
        code=_code(first) if first is not None else None,
        request_id=exc.request_id,
        field=_field(first) if first is not None else None,
    )


def _errors(failure: Any) -> list[Any]:
    """Errors of a failure as raw protobuf messages, whether the library handed out proto-plus or protobuf."""
    if failure is None:
        return []
    pb = type(failure).pb(failure) if hasattr(type(failure), "pb") else failure
    return list(pb.errors)


def _code(error: Any) -> str:
    """`<category>.<ENUM_NAME>` of the code set in the ErrorCode oneof, e.g. query_error.UNRECOGNIZED_FIELD."""
    code = error.error_code
    category = code.WhichOneof("error_code")
    if category is None:
        return "UNKNOWN"
    enum = code.DESCRIPTOR.fields_by_name[category].enum_type
    number = getattr(code, category)
    value = enum.values_by_number.get(number)
    return f"{category}.{value.name if value else number}"


def _field(error: Any) -> str | None:
    """The offending value (a GAQL field name comes back as the trigger) or else the request field path."""
    if error.trigger.WhichOneof("value") == "string_value" and error.trigger.string_value:
        return error.trigger.string_value
    path = [element.field_name for element in error.location.field_path_elements]
    return ".".join(path) or None


def _retry_delay(exc: core.GoogleAPICallError) -> float | None:
    """Seconds the API asked us to wait (quota_error_details.retry_delay), when the failure carries it."""
    metadata_of = getattr(exc.response, "trailing_metadata", None)
    if metadata_of is None:
        return None
    for key, value in metadata_of() or ():
        if key == FAILURE_METADATA_KEY:
            delays = [
                e.details.quota_error_details.retry_delay
                for e in _errors(GoogleAdsFailure.deserialize(value))
                if e.details.HasField("quota_error_details")
            ]
            seconds = [d.seconds + d.nanos / 1e9 for d in delays if d.seconds or d.nanos]
            return max(seconds) if seconds else None
    return None
