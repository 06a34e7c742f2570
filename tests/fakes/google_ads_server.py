"""A fake GoogleAdsService (v26) on 127.0.0.1 that speaks real gRPC over TLS, for the real `google-ads` client.

Why TLS: `GoogleAdsClient.get_service` always opens a secure channel and offers no option for an insecure one,
so the fake presents a self-signed certificate generated here and the process trusts it through gRPC's own
`GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` (no library code is patched). gRPC reads that variable once per process,
when it first loads its default roots: call `trust_test_certificate()` before any TLS channel exists (the
Google Ads test module does it at import, i.e. at collection time).

The fake answers `SearchStream` like the API does: it parses the GAQL field list (an unknown field fails with a
`GoogleAdsFailure` naming it), filters rows by the `segments.date BETWEEN` range, streams results in batches of
at most `batch_size` rows, and records every request (customer id, query, metadata) for the test to check.
"""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from google.ads.googleads.v26.errors.types import errors as err_types
from google.ads.googleads.v26.services.types import google_ads_service as gas

SERVICE = "google.ads.googleads.v26.services.GoogleAdsService"
FAILURE_KEY = "google.ads.googleads.v26.errors.googleadsfailure-bin"
KNOWN_FIELDS = frozenset(
    {
        "segments.date",
        "customer.id",
        "customer.currency_code",
        "customer.time_zone",
        "campaign.id",
        "campaign.name",
        "campaign.status",
        "metrics.impressions",
        "metrics.clicks",
        "metrics.cost_micros",
        "metrics.conversions",
        "metrics.conversions_value",
    }
)
_SELECT = re.compile(r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<resource>\w+)", re.S | re.I)
_BETWEEN = re.compile(r"segments\.date\s+BETWEEN\s+'(\d{4}-\d{2}-\d{2})'\s+AND\s+'(\d{4}-\d{2}-\d{2})'", re.I)


@cache
def trust_test_certificate() -> tuple[bytes, bytes]:
    """A self-signed certificate for 127.0.0.1, made trusted for this process's gRPC TLS channels.

    Returns (certificate PEM, private key PEM). Cached: gRPC loads its default roots only once per process.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "okr-autoscore test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with tempfile.NamedTemporaryFile("wb", prefix="okr-fake-ads-", suffix=".crt", delete=False) as handle:
        handle.write(cert_pem)
    os.environ["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"] = handle.name
    return cert_pem, key_pem


@dataclass(frozen=True)
class ReceivedRequest:
    customer_id: str
    query: str
    metadata: dict[str, str]


@dataclass(frozen=True)
class ScriptedFailure:
    """One failure the fake returns instead of (or after `after_batches` batches of) the next answer."""

    code: grpc.StatusCode
    message: str
    failure: err_types.GoogleAdsFailure | None = None
    request_id: str = "fake-request-id"
    after_batches: int = 0


@dataclass
class FakeGoogleAds:
    """State of the fake: rows per customer, scripted failures, and every request received."""

    rows: dict[str, list[gas.GoogleAdsRow]] = field(default_factory=dict)
    failures: list[ScriptedFailure] = field(default_factory=list)
    requests: list[ReceivedRequest] = field(default_factory=list)
    unknown_fields: set[str] = field(default_factory=set)
    batch_size: int = 10_000
    batches_sent: int = 0

    def search_stream(self, request: gas.SearchGoogleAdsStreamRequest, context: grpc.ServicerContext):
        metadata = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        self.requests.append(ReceivedRequest(request.customer_id, request.query, metadata))
        scripted = self.failures.pop(0) if self.failures else None
        if scripted and scripted.after_batches == 0:
            _abort(context, scripted)
        bad = self._unknown_field(request.query)
        if bad:
            _abort(context, unrecognized_field(bad))
        for index, batch in enumerate(self._batches(request)):
            if scripted and index == scripted.after_batches:
                _abort(context, scripted)
            self.batches_sent += 1
            yield batch

    def _unknown_field(self, query: str) -> str | None:
        match = _SELECT.match(query)
        if match is None:
            return query.strip().split()[0] if query.strip() else "(empty query)"
        for name in (f.strip() for f in match.group("fields").split(",")):
            if name not in KNOWN_FIELDS or name in self.unknown_fields:
                return name
        return None

    def _batches(self, request: gas.SearchGoogleAdsStreamRequest) -> Iterator[gas.SearchGoogleAdsStreamResponse]:
        span = _BETWEEN.search(request.query)
        rows = self.rows.get(request.customer_id, [])
        if span:
            rows = [r for r in rows if span.group(1) <= r.segments.date <= span.group(2)]
        for start in range(0, len(rows), self.batch_size):
            chunk = rows[start : start + self.batch_size]
            yield gas.SearchGoogleAdsStreamResponse(results=chunk, request_id=f"stream-{request.customer_id}")


def unrecognized_field(name: str, request_id: str = "req-bad-field-1") -> ScriptedFailure:
    """What the API answers for a GAQL field it does not know (shape of a real INVALID_ARGUMENT)."""
    error = err_types.GoogleAdsError(
        error_code=err_types.ErrorCode(query_error="UNRECOGNIZED_FIELD"),
        message=f"Unrecognized field in the query: '{name}'.",
        trigger={"string_value": name},
        location=err_types.ErrorLocation(field_path_elements=[{"field_name": "query"}]),
    )
    failure = err_types.GoogleAdsFailure(errors=[error], request_id=request_id)
    return ScriptedFailure(
        grpc.StatusCode.INVALID_ARGUMENT, "Request contains an invalid argument.", failure, request_id
    )


def quota_exhausted(retry_seconds: int | None = None, after_batches: int = 0) -> ScriptedFailure:
    """RESOURCE_EXHAUSTED with a QuotaError; `retry_seconds` fills `quota_error_details.retry_delay`."""
    details = None
    if retry_seconds is not None:
        details = err_types.ErrorDetails(quota_error_details={"retry_delay": {"seconds": retry_seconds}})
    error = err_types.GoogleAdsError(
        error_code=err_types.ErrorCode(quota_error="RESOURCE_TEMPORARILY_EXHAUSTED"),
        message="Too many requests. Retry in a moment.",
        details=details,
    )
    failure = err_types.GoogleAdsFailure(errors=[error], request_id="req-quota")
    return ScriptedFailure(
        grpc.StatusCode.RESOURCE_EXHAUSTED, "Resource has been exhausted", failure, "req-quota", after_batches
    )


def _abort(context: grpc.ServicerContext, scripted: ScriptedFailure) -> None:
    trailing: list[tuple[str, str | bytes]] = [("request-id", scripted.request_id)]
    if scripted.failure is not None:
        trailing.append((FAILURE_KEY, err_types.GoogleAdsFailure.serialize(scripted.failure)))
    context.set_trailing_metadata(tuple(trailing))
    context.abort(scripted.code, scripted.message)


@contextmanager
def serve_google_ads(fake: FakeGoogleAds) -> Iterator[str]:
    """Run the fake on 127.0.0.1 with TLS; yields the endpoint ("127.0.0.1:PORT") for `GoogleAdsClient`."""
    cert_pem, key_pem = trust_test_certificate()
    handler = grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "SearchStream": grpc.unary_stream_rpc_method_handler(
                fake.search_stream,
                request_deserializer=gas.SearchGoogleAdsStreamRequest.deserialize,
                response_serializer=gas.SearchGoogleAdsStreamResponse.serialize,
            )
        },
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(key_pem, cert_pem)]))
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)


@dataclass
class FakeTokenEndpoint:
    """An OAuth token endpoint for a service-account key whose `token_uri` points here (no Google servers)."""

    access_token: str = "ya29.fake-access-token"
    grants: list[str] = field(default_factory=list)


@contextmanager
def serve_oauth_token(fake: FakeTokenEndpoint) -> Iterator[str]:
    """Plain-HTTP token endpoint on 127.0.0.1; yields its URL for the key file's `token_uri`."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            fake.grants.append(body)
            answer = json.dumps({"access_token": fake.access_token, "expires_in": 3600, "token_type": "Bearer"})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/token"
    finally:
        server.shutdown()
        server.server_close()


def service_account_key(token_uri: str) -> dict[str, str]:
    """A service-account key file's content with a fresh RSA key, trusted by nobody but the fake endpoint."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return {
        "type": "service_account",
        "project_id": "okr-autoscore-test",
        "private_key_id": "fake-key-1",
        "private_key": pem.decode(),
        "client_email": "okr-test@okr-autoscore-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
