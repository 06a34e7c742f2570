"""Faults the platform tests elsewhere leave out: a throttle in the middle of Meta's pagination, bursts of
5xx answers, answers slower than the read timeout (a Google Ads stream that stops mid-way), and credentials
the Google Ads side refuses.

Same fakes as the connector tests (real clients on the wire, 127.0.0.1); the retry policies get recording
sleeps and a fixed seed, so every wait and every row is asserted, never a wall-clock time.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from google.ads.googleads.v26.errors.types import errors as err_types
from google.ads.googleads.v26.services.types import google_ads_service as gas

from connectors.ads_retry import RetryPolicy
from connectors.errors import SourceApiError
from connectors.ga4 import fetch_daily
from connectors.google_ads import GoogleAdsConfig, read_google_ads
from connectors.meta_ads import MetaAdsConfig, read_meta_ads
from connectors.meta_graph import GraphClient
from tests.connectors.test_ga4 import EXPECTED_SEVEN, SEVEN, grain, table
from tests.connectors.test_ga4 import PROPERTY as GA4_PROPERTY
from tests.connectors.test_ga4 import config as ga4_config
from tests.connectors.test_google_ads import USD_ID, client_for, row
from tests.connectors.test_meta_ads import ACCOUNT, TOKEN, insight
from tests.fakes.ga4_server import FakeGa4Server, FakeProperty, Fault
from tests.fakes.google_ads_server import (
    FakeGoogleAds,
    ScriptedFailure,
    serve_google_ads,
    service_account_key,
    trust_test_certificate,
)
from tests.fakes.meta_server import (
    FakeAdAccount,
    FakeGraph,
    Received,
    ScriptedError,
    _error,
    serve_graph,
    usage_header,
)

trust_test_certificate()  # gRPC reads its trusted roots once per process

JAN = (dt.date(2024, 1, 1), dt.date(2024, 1, 31))
MARCH = (dt.date(2024, 3, 1), dt.date(2024, 3, 31))


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@dataclass
class FaultyGraph(FakeGraph):
    """The Graph fake with faults by request number (1-based, counted on arrival): an error answer, or a slow one."""

    faults: dict[int, ScriptedError] = field(default_factory=dict)
    delays: dict[int, float] = field(default_factory=dict)
    arrivals: int = 0

    def __post_init__(self) -> None:
        self._count = threading.Lock()

    def answer(self, method: str, path: str, params: dict[str, str], headers: dict[str, str]):
        with self._count:
            self.arrivals += 1
            n = self.arrivals
        time.sleep(self.delays.get(n, 0.0))
        if n in self.faults:
            self.received.append(Received(method, path, params, headers))
            return _error(self.faults[n])
        return super().answer(method, path, params, headers)


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultyGraph]:
    monkeypatch.setenv("META_ACCESS_TOKEN", TOKEN)
    fake = FaultyGraph(token=TOKEN, accounts={ACCOUNT: FakeAdAccount("America/Los_Angeles", "USD")})
    fake.accounts[ACCOUNT].rows = [
        insight(f"2024-01-0{d}", str(d), spend=f"{d}.50", impressions=f"{d}00", link_clicks=str(d)) for d in range(1, 6)
    ]
    with serve_graph(fake):
        yield fake


def meta_config(fake: FakeGraph) -> MetaAdsConfig:
    return MetaAdsConfig("meta", (f"act_{ACCOUNT}",), base_url=fake.base_url, page_size=2)


def insights_cursors(fake: FakeGraph) -> list[str | None]:
    return [r.params.get("after") for r in fake.received if r.path.endswith("/insights")]


def test_meta_throttle_on_page_two_waits_then_resumes_at_the_same_cursor(graph: FaultyGraph) -> None:
    # request 1 reads the account; 2 is page one; 3 would be page two
    graph.faults[3] = ScriptedError(
        80004, "There have been too many calls to this ad-account.", subcode=2446079, headers=usage_header(ACCOUNT, 3)
    )
    sleeps = Sleeps()
    load = read_meta_ads(meta_config(graph), *JAN, retry=RetryPolicy(sleep=sleeps, rng=random.Random(1)))

    assert sleeps == [180.0]  # estimated_time_to_regain_access: 3 minutes
    assert insights_cursors(graph) == [None, "Mg==", "Mg==", "NA=="]  # page two asked again, from its cursor
    assert (load.pages, load.rows, load.retries) == (3, 5, 1)
    assert load.frame["spend"].tolist() == [1.5, 2.5, 3.5, 4.5, 5.5]  # each day once
    assert load.frame["campaign_id"].tolist() == ["1", "2", "3", "4", "5"]


def test_meta_burst_of_5xx_is_retried_with_backoff_then_succeeds(graph: FaultyGraph) -> None:
    for n, (status, code) in enumerate([(500, 1), (503, 2), (502, 1)], start=3):
        graph.faults[n] = ScriptedError(code, "An unexpected error has occurred. Please retry.", http_status=status)
    sleeps = Sleeps()
    load = read_meta_ads(meta_config(graph), *JAN, retry=RetryPolicy(sleep=sleeps, rng=random.Random(2)))

    assert len(sleeps) == 3 and all(2 ** (n - 1) <= wait <= 2**n for n, wait in enumerate(sleeps, 1))
    assert (load.pages, load.rows, load.retries) == (3, 5, 3)
    assert load.frame["impressions"].sum() == 1_500.0


def test_meta_burst_longer_than_the_attempt_budget_fails_transient(graph: FaultyGraph) -> None:
    for n in range(2, 8):
        graph.faults[n] = ScriptedError(2, "Service temporarily unavailable", http_status=503)
    with pytest.raises(SourceApiError, match=r"Graph API error 2 .*HTTP 503.*after 5 attempt") as caught:
        read_meta_ads(meta_config(graph), *JAN, retry=RetryPolicy(sleep=Sleeps(), rng=random.Random(3)))
    assert caught.value.transient  # the asset's step retry (Dagster) may try again later
    assert TOKEN not in str(caught.value)


def test_meta_read_timeout_is_a_network_fault_retried(graph: FaultyGraph) -> None:
    graph.delays[1] = 1.0  # longer than the 0.2 s read timeout below
    sleeps = Sleeps()
    client = GraphClient(TOKEN, graph.base_url, retry=RetryPolicy(sleep=sleeps, rng=random.Random(4)), timeout=0.2)
    account = client.get(f"act_{ACCOUNT}", {"fields": "account_id,currency"})

    assert account["currency"] == "USD"
    assert (client.requests_made, client.retries, len(sleeps)) == (2, 1, 1)


@pytest.fixture
def ga4() -> Iterator[FakeGa4Server]:
    with FakeGa4Server() as server:
        yield server
    assert server.problems == []


def test_ga4_burst_of_5xx_on_page_two_is_retried_then_succeeds(ga4: FakeGa4Server) -> None:
    ga4.properties[GA4_PROPERTY] = FakeProperty(table(SEVEN))
    ga4.faults[2] = Fault(503, "The service is currently unavailable.")
    ga4.faults[3] = Fault(502, "Bad Gateway")
    load = fetch_daily(ga4_config(ga4, page_size=3), dt.date(2024, 3, 1), dt.date(2024, 3, 2))

    assert grain(load.frame) == EXPECTED_SEVEN  # every row once, none lost with the failed pages
    assert (load.requests, load.retries, len(ga4.api_calls)) == (2, 2, 4)


@pytest.fixture
def ads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeGoogleAds]:
    for name in [n for n in __import__("os").environ if n.startswith("GOOGLE_ADS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    state = FakeGoogleAds()
    with serve_google_ads(state) as endpoint:
        state.endpoint = endpoint
        yield state


def test_google_ads_burst_of_unavailable_and_deadline_exceeded_is_retried(ads: FakeGoogleAds) -> None:
    ads.rows[USD_ID] = [row("2024-03-05", 8, 6_000_000, clicks=12)]
    ads.failures = [
        ScriptedFailure(grpc.StatusCode.UNAVAILABLE, "upstream connect error"),
        ScriptedFailure(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"),
        ScriptedFailure(grpc.StatusCode.UNAVAILABLE, "connection reset"),
    ]
    sleeps = Sleeps()
    load = read_google_ads(
        GoogleAdsConfig("ads", (USD_ID,)),
        *MARCH,
        client=client_for(ads),
        retry=RetryPolicy(sleep=sleeps, rng=random.Random(5)),
    )
    assert (load.retries, load.requests, len(ads.requests)) == (3, 4, 4)
    assert all(2 ** (n - 1) / 2 <= wait <= 2**n for n, wait in enumerate(sleeps, 1))
    assert load.frame[["spend", "clicks"]].values.tolist() == [[6.0, 12.0]]


@dataclass
class StallingGoogleAds(FakeGoogleAds):
    """The Google Ads fake whose stream stops answering mid-way: request n (1-based) listed in `stalls` sends
    that many batches, then holds the stream open, silent, until the client gives up on it."""

    stalls: dict[int, int] = field(default_factory=dict)
    stalled: int = 0

    def search_stream(
        self, request: gas.SearchGoogleAdsStreamRequest, context: grpc.ServicerContext
    ) -> Iterator[gas.SearchGoogleAdsStreamResponse]:
        stream = super().search_stream(request, context)
        first = next(stream, None)  # records the request, so its number is known
        stall_after = self.stalls.get(len(self.requests))
        if first is None:
            return
        yield first
        for sent, batch in enumerate(stream, start=1):
            if sent == stall_after:
                break
            yield batch
        if stall_after is not None:
            self.stalled += 1
            ended = threading.Event()
            context.add_callback(ended.set)  # runs when the client's deadline cancels the call
            ended.wait(timeout=60)  # a safety net for a broken test, never reached when the deadline works


@pytest.fixture
def stalling_ads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[StallingGoogleAds]:
    for name in [n for n in __import__("os").environ if n.startswith("GOOGLE_ADS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    state = StallingGoogleAds(batch_size=2)
    state.rows[USD_ID] = [row(f"2024-03-0{d}", 7, d * 1_000_000, clicks=d) for d in range(1, 8)]
    with serve_google_ads(state) as endpoint:
        state.endpoint = endpoint
        yield state


def stalling_config() -> GoogleAdsConfig:
    return GoogleAdsConfig("ads", (USD_ID,), timeout_seconds=1)


def test_google_ads_stream_that_stalls_is_cut_by_the_client_deadline_then_pulled_again(
    stalling_ads: StallingGoogleAds,
) -> None:
    stalling_ads.stalls = {1: 2}  # first stream: 2 of its 4 batches (4 of 7 rows), then silence
    sleeps = Sleeps()
    load = read_google_ads(
        stalling_config(),
        *MARCH,
        client=client_for(stalling_ads),
        retry=RetryPolicy(sleep=sleeps, rng=random.Random(6)),
    )

    assert (stalling_ads.stalled, len(stalling_ads.requests)) == (1, 2)
    assert (load.rows, load.batches, load.retries, load.requests) == (7, 4, 1, 2)
    assert len(sleeps) == 1 and 1.0 <= sleeps[0] <= 2.0  # the backoff of a network fault
    assert load.frame["spend"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]  # each day once
    assert load.frame["clicks"].sum() == 28.0


def test_google_ads_stream_that_always_stalls_fails_transient_naming_source_and_deadline(
    stalling_ads: StallingGoogleAds,
) -> None:
    stalling_ads.stalls = {1: 1, 2: 3, 3: 1}
    sleeps = Sleeps()
    with pytest.raises(SourceApiError) as caught:
        read_google_ads(
            stalling_config(),
            *MARCH,
            client=client_for(stalling_ads),
            retry=RetryPolicy(max_attempts=3, sleep=sleeps, rng=random.Random(8)),
        )

    message = str(caught.value)
    assert message.startswith("source 'ads': Google Ads customer 1234567890: ")
    assert "ran out of time (DEADLINE_EXCEEDED; client deadline 1 s per call)" in message
    assert "still failing after 3 attempt(s)" in message
    assert (caught.value.code, caught.value.transient) == ("DEADLINE_EXCEEDED", True)
    assert (stalling_ads.stalled, len(stalling_ads.requests), len(sleeps)) == (3, 3, 2)


def test_google_ads_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout_seconds must be more than 0"):
        GoogleAdsConfig("ads", (USD_ID,), timeout_seconds=0)


def test_google_ads_unauthenticated_fails_at_once_naming_the_code(ads: FakeGoogleAds) -> None:
    error = err_types.GoogleAdsError(
        error_code=err_types.ErrorCode(authorization_error="DEVELOPER_TOKEN_NOT_APPROVED"),
        message="The developer token is not approved. Non-approved developer tokens can only be used with test accounts.",
    )
    ads.failures = [
        ScriptedFailure(
            grpc.StatusCode.PERMISSION_DENIED,
            "The caller does not have permission",
            err_types.GoogleAdsFailure(errors=[error], request_id="req-token-1"),
            "req-token-1",
        )
    ]
    sleeps = Sleeps()
    with pytest.raises(SourceApiError) as caught:
        read_google_ads(
            GoogleAdsConfig("ads", (USD_ID,)), *MARCH, client=client_for(ads), retry=RetryPolicy(sleep=sleeps)
        )
    assert (caught.value.code, caught.value.request_id, caught.value.transient) == (
        "authorization_error.DEVELOPER_TOKEN_NOT_APPROVED",
        "req-token-1",
        False,
    )
    assert sleeps == [] and len(ads.requests) == 1
    assert "FAKE-DEV-TOKEN" not in str(caught.value)


@contextmanager
def refusing_token_endpoint() -> Iterator[tuple[str, list[str]]]:
    """An OAuth token endpoint that refuses every grant the way Google's does for a revoked key."""
    grants: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            grants.append(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
            body = json.dumps({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/token", grants
    finally:
        server.shutdown()
        server.server_close()


def test_google_ads_revoked_key_fails_before_any_query_without_showing_secrets(
    ads: FakeGoogleAds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with refusing_token_endpoint() as (token_uri, grants):
        key = service_account_key(token_uri)
        key_file = tmp_path / "sa.json"
        key_file.write_text(json.dumps(key), encoding="utf-8")
        monkeypatch.setenv("GOOGLE_ADS_DEVELOPER_TOKEN", "dev-token-REVOKED-s3cret")
        monkeypatch.setenv("GOOGLE_ADS_JSON_KEY_FILE_PATH", str(key_file))
        monkeypatch.setenv("GOOGLE_ADS_USE_PROTO_PLUS", "true")
        with pytest.raises(SourceApiError) as caught:
            read_google_ads(
                GoogleAdsConfig("ads", (USD_ID,), endpoint=ads.endpoint), *MARCH, retry=RetryPolicy(sleep=Sleeps())
            )
    message = str(caught.value)
    assert len(grants) >= 1 and ads.requests == []  # refused at the token endpoint, before any query
    assert "invalid_grant" in message and "GOOGLE_ADS_*" in message
    pem_body = key["private_key"].splitlines()[1]
    assert "dev-token-REVOKED-s3cret" not in message and pem_body not in message
