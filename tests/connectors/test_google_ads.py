"""The Google Ads connector: the real `google-ads` client over real gRPC/TLS against a fake GoogleAdsService.

The client under test is built as the docs of `read_google_ads` say: `GoogleAdsClient(credentials=
AnonymousCredentials(), developer_token=..., endpoint="127.0.0.1:PORT", use_proto_plus=True)` (no real
credentials), or from `GOOGLE_ADS_*` variables with a service-account key whose token endpoint is local.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import random

import grpc
import pytest
from google.ads.googleads.client import GoogleAdsClient
from google.ads.googleads.v26.common.types.metrics import Metrics
from google.ads.googleads.v26.common.types.segments import Segments
from google.ads.googleads.v26.enums.types.campaign_status import CampaignStatusEnum
from google.ads.googleads.v26.resources.types.campaign import Campaign
from google.ads.googleads.v26.resources.types.customer import Customer
from google.ads.googleads.v26.services.types.google_ads_service import GoogleAdsRow
from google.auth.credentials import AnonymousCredentials

from connectors.ads_frame import COLUMNS
from connectors.ads_retry import RetryPolicy
from connectors.errors import SourceApiError
from connectors.google_ads import FIELDS, GoogleAdsConfig, read_google_ads
from tests.fakes.google_ads_server import (
    FakeGoogleAds,
    FakeTokenEndpoint,
    ScriptedFailure,
    quota_exhausted,
    serve_google_ads,
    serve_oauth_token,
    service_account_key,
    trust_test_certificate,
)

# gRPC reads its trusted roots once per process: trust the fake's certificate before any TLS channel exists.
trust_test_certificate()

USD_ID, VND_ID = "1234567890", "9876543210"
MARCH = (dt.date(2024, 3, 1), dt.date(2024, 3, 31))


def row(
    day: str,
    campaign_id: int,
    cost_micros: int,
    *,
    impressions: int = 0,
    clicks: int = 0,
    conversions: float = 0.0,
    value: float = 0.0,
    currency: str = "USD",
    tz: str = "America/New_York",
    name: str | None = None,
) -> GoogleAdsRow:
    return GoogleAdsRow(
        customer=Customer(currency_code=currency, time_zone=tz),
        campaign=Campaign(
            id=campaign_id, name=name or f"Campaign {campaign_id}", status=CampaignStatusEnum.CampaignStatus.ENABLED
        ),
        metrics=Metrics(
            impressions=impressions,
            clicks=clicks,
            cost_micros=cost_micros,
            conversions=conversions,
            conversions_value=value,
        ),
        segments=Segments(date=day),
    )


class Sleeps(list):
    """Records the waits the retry policy asks for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(autouse=True)
def _no_ambient_google_ads_config(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """No developer's GOOGLE_ADS_* variables or ~/google-ads.yaml leak into a test."""
    for name in [n for n in __import__("os").environ if n.startswith("GOOGLE_ADS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.fixture
def fake():
    state = FakeGoogleAds()
    with serve_google_ads(state) as endpoint:
        state.endpoint = endpoint
        yield state


def client_for(fake: FakeGoogleAds, login_customer_id: str | None = None) -> GoogleAdsClient:
    return GoogleAdsClient(
        credentials=AnonymousCredentials(),
        developer_token="FAKE-DEV-TOKEN",
        endpoint=fake.endpoint,
        login_customer_id=login_customer_id,
        use_proto_plus=True,
        version="v26",
    )


def policy(sleeps: Sleeps, **kw) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps, rng=random.Random(7), **kw)


def test_streams_more_than_10000_rows_across_several_stream_responses(fake):
    days = [dt.date(2024, 3, 1) + dt.timedelta(days=d) for d in range(30)]
    fake.rows[USD_ID] = [
        row(day.isoformat(), 1000 + c, c * 1_000_000 + d * 10_001, impressions=c + d, clicks=d)
        for c in range(700)
        for d, day in enumerate(days)
    ]
    fake.rows[USD_ID].append(row("2024-04-01", 1, 999_000_000))  # outside the window: must not be read

    load = read_google_ads(GoogleAdsConfig("ads", (USD_ID,)), *MARCH, client=client_for(fake), retry=policy(Sleeps()))

    assert (load.rows, load.batches, load.requests, load.retries) == (21_000, 3, 1, 0)
    assert fake.batches_sent == 3
    frame = load.frame
    assert list(frame.columns) == COLUMNS
    assert len(frame) == 21_000 and frame["source_rows"].tolist() == [1] * 21_000
    expected_micros = sum(c * 1_000_000 + d * 10_001 for c in range(700) for d in range(30))
    assert int((frame["spend"] * 1_000_000).round().astype("int64").sum()) == expected_micros == 7_342_545_304_500
    assert frame["impressions"].sum() == 7_644_000.0 and frame["clicks"].sum() == 304_500.0
    last = frame[(frame["campaign_id"] == "1699") & (frame["report_date"] == dt.date(2024, 3, 30))].iloc[0]
    assert last["spend"] == 699.290029 and last["impressions"] == 728.0 and last["campaign_name"] == "Campaign 1699"
    assert frame["report_date"].max() == dt.date(2024, 3, 30)


def test_request_carries_date_range_fields_customer_and_headers(fake):
    fake.rows[USD_ID] = [row("2024-03-05", 11, 5_000_000)]
    config = GoogleAdsConfig("ads", ("123-456-7890",), login_customer_id="111-222-3333")
    assert config.customer_ids == (USD_ID,) and config.login_customer_id == "1112223333"

    read_google_ads(config, *MARCH, client=client_for(fake, "1112223333"), retry=policy(Sleeps()))

    [request] = fake.requests
    assert request.customer_id == USD_ID
    assert "FROM campaign WHERE segments.date BETWEEN '2024-03-01' AND '2024-03-31'" in request.query
    selected = request.query.split("SELECT ", 1)[1].split(" FROM", 1)[0].split(", ")
    assert selected == list(FIELDS)
    assert request.metadata["developer-token"] == "FAKE-DEV-TOKEN"
    assert request.metadata["login-customer-id"] == "1112223333"


def test_resource_exhausted_is_retried_with_backoff_then_succeeds(fake):
    fake.rows[USD_ID] = [row("2024-03-02", 7, 2_500_000, conversions=1.5, value=30.25)]
    fake.failures = [quota_exhausted(retry_seconds=7), quota_exhausted()]
    sleeps = Sleeps()

    load = read_google_ads(GoogleAdsConfig("ads", (USD_ID,)), *MARCH, client=client_for(fake), retry=policy(sleeps))

    assert (load.retries, load.requests, len(fake.requests)) == (2, 3, 3)
    assert sleeps[0] == 7.0  # the API's retry_delay beats the 1-2 s first backoff
    assert 2.0 <= sleeps[1] <= 4.0  # second backoff: base 2 s doubled, equal jitter
    assert load.frame[["spend", "conversions", "conversions_value"]].values.tolist() == [[2.5, 1.5, 30.25]]


def test_unavailable_server_is_retried_as_a_network_fault(fake):
    fake.rows[USD_ID] = [row("2024-03-04", 3, 4_000_000)]
    fake.failures = [ScriptedFailure(grpc.StatusCode.UNAVAILABLE, "connection reset")]
    sleeps = Sleeps()
    load = read_google_ads(GoogleAdsConfig("ads", (USD_ID,)), *MARCH, client=client_for(fake), retry=policy(sleeps))
    assert load.retries == 1 and 1.0 <= sleeps[0] <= 2.0 and load.frame["spend"].tolist() == [4.0]


def test_stream_broken_halfway_is_restarted_without_counting_rows_twice(fake):
    fake.batch_size = 2
    fake.rows[USD_ID] = [row(f"2024-03-0{d}", 5, d * 1_000_000) for d in range(1, 6)]
    fake.failures = [quota_exhausted(after_batches=1)]

    load = read_google_ads(GoogleAdsConfig("ads", (USD_ID,)), *MARCH, client=client_for(fake), retry=policy(Sleeps()))

    assert (load.rows, load.batches, load.retries) == (5, 3, 1)
    assert fake.batches_sent == 1 + 3
    assert load.frame["spend"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_quota_still_exhausted_after_the_last_attempt_fails_clearly(fake):
    fake.failures = [quota_exhausted() for _ in range(3)]
    sleeps = Sleeps()
    with pytest.raises(SourceApiError, match=r"RESOURCE_EXHAUSTED.*after 3 attempt") as caught:
        read_google_ads(
            GoogleAdsConfig("ads", (USD_ID,)), *MARCH, client=client_for(fake), retry=policy(sleeps, max_attempts=3)
        )
    assert caught.value.transient and len(sleeps) == 2 and len(fake.requests) == 3


def test_retry_delay_longer_than_allowed_stops_at_once(fake):
    fake.failures = [quota_exhausted(retry_seconds=3600)]
    sleeps = Sleeps()
    with pytest.raises(SourceApiError, match="wait 3600 s, more than allowed"):
        read_google_ads(GoogleAdsConfig("ads", (USD_ID,)), *MARCH, client=client_for(fake), retry=policy(sleeps))
    assert sleeps == [] and len(fake.requests) == 1


def test_bad_gaql_field_reports_code_request_id_and_field_without_retrying(fake):
    fake.unknown_fields = {"metrics.conversions_value"}  # e.g. a field the pinned API version no longer knows
    sleeps = Sleeps()
    with pytest.raises(SourceApiError) as caught:
        read_google_ads(GoogleAdsConfig("ads", (USD_ID,)), *MARCH, client=client_for(fake), retry=policy(sleeps))
    error = caught.value
    assert (error.code, error.request_id, error.field) == (
        "query_error.UNRECOGNIZED_FIELD",
        "req-bad-field-1",
        "metrics.conversions_value",
    )
    message = str(error)
    assert "customer 1234567890" in message and "query_error.UNRECOGNIZED_FIELD" in message
    assert "'metrics.conversions_value'" in message and "request id req-bad-field-1" in message
    assert sleeps == [] and len(fake.requests) == 1


def test_restated_conversions_change_on_a_re_pull(fake):
    fake.rows[USD_ID] = [
        row("2024-03-01", 42, 10_000_000, clicks=20, conversions=1.0, value=50.0),
        row("2024-03-02", 42, 12_000_000, clicks=25, conversions=2.0, value=80.0),
    ]
    config = GoogleAdsConfig("ads", (USD_ID,))
    first = read_google_ads(config, *MARCH, client=client_for(fake), retry=policy(Sleeps()))
    fake.rows[USD_ID][0] = row("2024-03-01", 42, 10_000_000, clicks=20, conversions=3.5, value=171.75)

    second = read_google_ads(config, *MARCH, client=client_for(fake), retry=policy(Sleeps()))

    cols = ["report_date", "spend", "clicks", "conversions", "conversions_value"]
    assert first.frame[cols].values.tolist() == [
        [dt.date(2024, 3, 1), 10.0, 20.0, 1.0, 50.0],
        [dt.date(2024, 3, 2), 12.0, 25.0, 2.0, 80.0],
    ]
    assert second.frame[cols].values.tolist() == [
        [dt.date(2024, 3, 1), 10.0, 20.0, 3.5, 171.75],
        [dt.date(2024, 3, 2), 12.0, 25.0, 2.0, 80.0],
    ]
    assert second.conversion_definition == "gads:metrics.conversions"


def test_usd_and_vnd_accounts_keep_their_currency_time_zone_and_local_day(fake):
    fake.rows[USD_ID] = [row("2024-03-10", 1, 123_450_000, currency="USD", tz="America/New_York")]
    fake.rows[VND_ID] = [
        row("2024-03-10", 2, 1_234_567_000_000, conversions=0.33, currency="VND", tz="Asia/Ho_Chi_Minh")
    ]

    load = read_google_ads(
        GoogleAdsConfig("ads", (USD_ID, "987-654-3210")), *MARCH, client=client_for(fake), retry=policy(Sleeps())
    )

    assert load.currencies == {USD_ID: "USD", VND_ID: "VND"}
    assert load.time_zones == {USD_ID: "America/New_York", VND_ID: "Asia/Ho_Chi_Minh"}
    got = load.frame.set_index("account_id")
    assert got.loc[USD_ID, "spend"] == 123.45 and got.loc[VND_ID, "spend"] == 1_234_567.0
    assert got.loc[VND_ID, "conversions"] == 0.33
    assert got["report_date"].tolist() == [dt.date(2024, 3, 10)] * 2  # each account's own day, never shifted
    assert got["currency_code"].tolist() == ["USD", "VND"] and got["channel"].tolist() == ["Paid Search"] * 2
    assert [r.customer_id for r in fake.requests] == [USD_ID, VND_ID]


def test_zero_rows_is_an_empty_frame_with_the_contract_columns(fake):
    load = read_google_ads(GoogleAdsConfig("ads", (USD_ID,)), *MARCH, client=client_for(fake), retry=policy(Sleeps()))
    assert load.frame.empty and list(load.frame.columns) == COLUMNS and load.rows == 0
    assert str(load.frame["spend"].dtype) == "float64" and math.isnan(load.frame["spend"].sum(min_count=1))


def test_credentials_come_from_the_environment_and_never_show(fake, tmp_path, monkeypatch, caplog):
    token = FakeTokenEndpoint()
    fake.rows[USD_ID] = [row("2024-03-03", 9, 1_000_000)]
    with serve_oauth_token(token) as token_uri:
        key_file = tmp_path / "sa.json"
        key_file.write_text(json.dumps(service_account_key(token_uri)))
        monkeypatch.setenv("GOOGLE_ADS_DEVELOPER_TOKEN", "dev-token-s3cret")
        monkeypatch.setenv("GOOGLE_ADS_JSON_KEY_FILE_PATH", str(key_file))
        monkeypatch.setenv("GOOGLE_ADS_USE_PROTO_PLUS", "true")
        config = GoogleAdsConfig("ads", (USD_ID,), login_customer_id="111-222-3333", endpoint=fake.endpoint)
        with caplog.at_level(logging.DEBUG):
            load = read_google_ads(config, *MARCH, retry=policy(Sleeps()))

    [request] = fake.requests
    assert request.metadata["authorization"] == "Bearer ya29.fake-access-token"
    assert request.metadata["developer-token"] == "dev-token-s3cret"
    assert request.metadata["login-customer-id"] == "1112223333"
    assert len(token.grants) == 1 and "grant_type=urn" in token.grants[0]
    assert load.frame["spend"].tolist() == [1.0]
    for text in (repr(load), repr(config), str(load.__dict__), caplog.text):
        assert "dev-token-s3cret" not in text and "ya29.fake-access-token" not in text


def test_missing_credentials_fail_with_a_message_naming_where_they_come_from():
    with pytest.raises(SourceApiError, match=r"GOOGLE_ADS_\* environment variables or google-ads\.yaml"):
        read_google_ads(GoogleAdsConfig("ads", (USD_ID,)), *MARCH)


def test_config_rejects_ids_that_are_not_digits():
    with pytest.raises(ValueError, match="must be 10 digits"):
        GoogleAdsConfig("ads", ("act_123",))
