"""A thin, read-only client of Meta's Graph API over `requests`: GET/POST, cursor paging, throttling, errors.

Why not the facebook-business SDK: pointing it at anything but graph.facebook.com needs a private attribute
(`api._session.GRAPH`), it keeps a process-global default API and can post crash reports to Meta. An insights
pull needs one GET edge, cursor paging and a few calls for async jobs, which this module does in plain,
typed, testable code. JSON is parsed with `parse_float=Decimal`, so ids and money never pass through a float.

The access token travels in the `Authorization: Bearer` header, never in a URL (URLs end up in exception
texts and proxy logs), and every message built from a response is scrubbed of it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import requests

from connectors.ads_retry import RetryPolicy, Transient, call_with_retry

GRAPH_VERSION = "v26.0"
THROTTLE_CODES = frozenset({4, 17, 32, 613, 80000, 80004})
TRANSIENT_CODES = frozenset({1, 2})  # "unknown error" / "service temporarily unavailable": Meta says retry


@dataclass(eq=False)
class GraphError(Exception):
    """A Graph API error response, already scrubbed of the token."""

    http_status: int
    code: int | None
    subcode: int | None
    kind: str
    message: str
    fbtrace_id: str | None
    wait_hint: float | None = None

    def __str__(self) -> str:
        sub = f"/{self.subcode}" if self.subcode else ""
        trace = f" [fbtrace_id {self.fbtrace_id}]" if self.fbtrace_id else ""
        return f"Graph API error {self.code}{sub} ({self.kind}, HTTP {self.http_status}): {self.message}{trace}"


@dataclass
class GraphClient:
    """Calls `{base_url}/{version}/{path}`; counts requests and retries for the load's metadata."""

    token: str = field(repr=False)
    base_url: str = "https://graph.facebook.com"
    version: str = GRAPH_VERSION
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 120.0
    session: requests.Session = field(default_factory=requests.Session, repr=False)
    requests_made: int = 0
    retries: int = 0

    def get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._call("GET", path, params)

    def post(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", path, params)

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """Each page's `data`, following `paging.cursors.after` while the response has `paging.next`.

        The `next` URL itself is not fetched: it would carry the token in its query and could name any host.
        """
        cursor: str | None = None
        while True:
            page = self.get(path, params if cursor is None else {**params, "after": cursor})
            yield page.get("data", [])
            paging = page.get("paging") or {}
            cursor = (paging.get("cursors") or {}).get("after")
            if "next" not in paging or not cursor:
                return

    def redact(self, text: str) -> str:
        return text.replace(self.token, "***") if self.token else text

    def _call(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        result, retried = call_with_retry(lambda: self._once(method, path, params), self._classify, self.retry)
        self.retries += retried
        return result

    def _once(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        self.requests_made += 1
        url = f"{self.base_url.rstrip('/')}/{self.version}/{path.strip('/')}"
        encoded = {k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for k, v in params.items()}
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            if method == "GET":
                response = self.session.get(url, params=encoded, headers=headers, timeout=self.timeout)
            else:
                response = self.session.post(url, data=encoded, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise NetworkFault(self.redact(f"{type(exc).__name__}: {exc}")) from None
        body = self._json(response)
        if response.status_code >= 400 or "error" in body:
            raise self._error(response, body)
        return body

    def _json(self, response: requests.Response) -> dict[str, Any]:
        try:
            body = json.loads(response.text, parse_float=Decimal)
        except ValueError:
            body = {"error": {"message": f"non-JSON response: {response.text[:200]!r}"}}
        return body if isinstance(body, dict) else {"data": body}

    def _error(self, response: requests.Response, body: dict[str, Any]) -> GraphError:
        error = body.get("error") or {}
        return GraphError(
            http_status=response.status_code,
            code=_int(error.get("code")),
            subcode=_int(error.get("error_subcode")),
            kind=str(error.get("type") or "unknown"),
            message=self.redact(str(error.get("message") or response.reason or "no message")),
            fbtrace_id=error.get("fbtrace_id"),
            wait_hint=regain_access_seconds(response.headers),
        )

    @staticmethod
    def _classify(exc: Exception) -> Transient | None:
        if isinstance(exc, NetworkFault):
            return Transient(f"network fault talking to the Graph API ({exc})")
        if isinstance(exc, GraphError):
            if exc.code in THROTTLE_CODES:
                return Transient(f"Graph API throttled the request ({exc})", exc.wait_hint)
            if exc.code in TRANSIENT_CODES or exc.http_status >= 500:
                return Transient(f"Graph API transient error ({exc})")
        return None


class NetworkFault(Exception):
    """Connection refused/reset or a timeout: retried with backoff."""


def regain_access_seconds(headers: Any) -> float | None:
    """Longest `estimated_time_to_regain_access` (minutes) in `x-business-use-case-usage`, in seconds.

    The header maps each business/account id to a list of usage entries; 0 or absent means "no hint".
    """
    raw = headers.get("x-business-use-case-usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
        minutes = [float(e.get("estimated_time_to_regain_access") or 0) for v in usage.values() for e in v]
    except (ValueError, AttributeError, TypeError):
        return None
    longest = max(minutes, default=0.0)
    return longest * 60.0 if longest > 0 and math.isfinite(longest) else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
