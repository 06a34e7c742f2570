"""The GA4 connector against a fake Data API on 127.0.0.1, through the real google-analytics-data REST client.

Every number asserted here is worked out by hand from the rows given to the fake.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.services.beta_analytics_data.transports.rest import BetaAnalyticsDataRestTransport
from google.auth.credentials import AnonymousCredentials

from connectors.errors import Ga4Error
from connectors.ga4 import (
    Ga4Config,
    Ga4RetryPolicy,
    PeriodQuery,
    RangeFacts,
    fetch_daily,
    fetch_period,
    fetch_period_by,
    fetch_periods,
    pull_window,
)
from connectors.ga4_filter import terms
from tests.fakes.ga4_server import FakeGa4Server, FakeProperty, Fault

PROPERTY = "123456"
COLUMNS = [
    "date",
    "sessionCampaignId",
    "sessionCampaignName",
    "sessionDefaultChannelGroup",
    "sessionSourceMedium",
    "sessions",
    "keyEvents",
    "purchaseRevenue",
]
DIMS = COLUMNS[1:5]
FAST = Ga4RetryPolicy(initial_seconds=0.001, max_seconds=0.004, deadline_seconds=30.0, max_attempts=4)
METRICS = {"sessions": "sessions", "key_events": "keyEvents", "revenue": "purchaseRevenue"}
D = dt.date

# Seven GA4 rows over two days; (not set) spans two channels, one campaign is renamed on 1 March.
SEVEN = [
    ("20240301", "111", "Spring Sale", "Paid Search", "google / cpc", 120, 3.0, 59.97),
    ("20240301", "111", "spring_sale", "Paid Search", "google / cpc", 30, 1.0, 19.99),
    ("20240301", "222", "Tet", "Paid Social", "facebook / paid", 80, 0.0, 0.0),
    ("20240301", "", "(not set)", "Direct", "(direct) / (none)", 200, 2.0, 45.5),
    ("20240301", "(not set)", "(not set)", "Organic Search", "google / organic", 150, 1.5, 10.25),
    ("20240302", "111", "Spring Sale", "Paid Search", "google / cpc", 110, 4.0, 79.96),
    ("20240302", "(other)", "(other)", "Referral", "(other)", 40, 0.5, 0.0),
]


def table(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


@pytest.fixture
def fake() -> Iterator[FakeGa4Server]:
    with FakeGa4Server() as server:
        yield server
    assert server.problems == []  # every request the connector sent was one GA4 accepts


def config(fake: FakeGa4Server, **overrides: object) -> Ga4Config:
    settings: dict = {
        "name": "web",
        "property_id": PROPERTY,
        "metrics": METRICS,
        "endpoint": fake.endpoint,
        "credentials": "anonymous",
        "retry": FAST,
    }
    return Ga4Config(**(settings | overrides))


def body(offset: int | None, limit: int, start: str, end: str, metrics: list[str]) -> dict:
    """The exact JSON a page request must carry on the wire."""
    dims = ["date", *DIMS]
    out = {
        "dimensions": [{"name": d} for d in dims],
        "metrics": [{"name": m} for m in metrics],
        "dateRanges": [{"startDate": start, "endDate": end}],
        "limit": str(limit),
        "orderBys": [{"dimension": {"dimensionName": d}} for d in dims],
        "returnPropertyQuota": True,
    }
    return out | ({"offset": str(offset)} if offset else {})


def grain(frame: pd.DataFrame) -> list[tuple]:
    cols = ["report_date", "campaign_id", "campaign_name", "channel", "source_medium", "source_rows", *METRICS]
    return [tuple(r) for r in frame[cols].itertuples(index=False)]


EXPECTED_SEVEN = [
    (D(2024, 3, 1), "(not set)", "(not set)", "Direct", "(direct) / (none)", 1, 200.0, 2.0, 45.5),
    (D(2024, 3, 1), "(not set)", "(not set)", "Organic Search", "google / organic", 1, 150.0, 1.5, 10.25),
    (D(2024, 3, 1), "111", "Spring Sale", "Paid Search", "google / cpc", 2, 150.0, 4.0, 79.96),
    (D(2024, 3, 1), "222", "Tet", "Paid Social", "facebook / paid", 1, 80.0, 0.0, 0.0),
    (D(2024, 3, 2), "(other)", "(other)", "Referral", "(other)", 1, 40.0, 0.5, 0.0),
    (D(2024, 3, 2), "111", "Spring Sale", "Paid Search", "google / cpc", 1, 110.0, 4.0, 79.96),
]


def test_pages_until_row_count_with_exact_request_bodies(fake: FakeGa4Server) -> None:
    fake.properties[PROPERTY] = FakeProperty(table(SEVEN))
    load = fetch_daily(config(fake, page_size=3), D(2024, 3, 1), D(2024, 3, 2))

    pages = [body(off, 3, "2024-03-01", "2024-03-02", list(METRICS.values())) for off in (None, 3, 6)]
    assert fake.reports_sent() == pages
    paths = [c.path for c in fake.api_calls]
    assert paths == [f"/v1beta/properties/{PROPERTY}:runReport", f"/v1beta/properties/{PROPERTY}:batchRunReports"]
    assert [c.authorization for c in fake.api_calls] == [None, None]  # anonymous sends no token
    assert grain(load.frame) == EXPECTED_SEVEN
    assert set(load.frame["platform"]) == {"ga4"} and set(load.frame["account_id"]) == {PROPERTY}
    assert (load.rows, load.requests, load.reports, load.retries) == (7, 2, 3, 0)
    assert load.tokens_consumed == 9  # 3 tokens per report in the fake
    assert (load.tokens_remaining_day, load.tokens_remaining_hour) == (199_991, 39_991)
    assert load.tokens_remaining_project_hour == 13_991


def test_not_set_and_other_rows_stay_apart_and_their_totals_kept(fake: FakeGa4Server) -> None:
    fake.properties[PROPERTY] = FakeProperty(table(SEVEN), data_loss_from_other_row=True)
    frame = fetch_daily(config(fake), D(2024, 3, 1), D(2024, 3, 2)).frame

    not_set = frame[frame["campaign_id"] == "(not set)"]
    assert list(zip(not_set["channel"], not_set["sessions"], strict=True)) == [
        ("Direct", 200.0),
        ("Organic Search", 150.0),
    ]
    assert frame.loc[frame["campaign_id"] == "(other)", "sessions"].tolist() == [40.0]
    assert frame["sessions"].sum() == 730.0  # every session of the seven rows, none merged away or dropped
    assert round(frame["revenue"].sum(), 6) == 215.67


def test_metadata_surfaces_sampling_thresholding_currency_and_time_zone(fake: FakeGa4Server) -> None:
    fake.properties[PROPERTY] = FakeProperty(
        table(SEVEN),
        currency_code="VND",
        time_zone="Asia/Ho_Chi_Minh",
        thresholded=True,
        data_loss_from_other_row=True,
        sampling=(250_000, 1_000_000),
    )
    load = fetch_daily(config(fake), D(2024, 3, 1), D(2024, 3, 2))

    assert (load.sampled, load.sampling_ratio, load.thresholded) == (True, 0.25, True)
    assert load.data_loss_from_other_row is True
    assert (load.currency_code, load.time_zone) == ("VND", "Asia/Ho_Chi_Minh")
    assert set(load.frame["currency_code"]) == {"VND"}
    assert set(load.frame["account_timezone"]) == {"Asia/Ho_Chi_Minh"}


def test_money_keeps_six_decimals_and_a_renamed_campaign_is_one_grain_row(fake: FakeGa4Server) -> None:
    rows = [
        ("20240301", "333", "Micro", "Email", "newsletter / email", 7, 0.25, 12.3456789),
        ("20240301", "333", "Micro v2", "Email", "newsletter / email", 2, 0.0, 0.0000004),
    ]
    fake.properties[PROPERTY] = FakeProperty(table(rows))
    frame = fetch_daily(config(fake), D(2024, 3, 1), D(2024, 3, 1)).frame
    assert frame["revenue"].tolist() == [12.345679]  # 12.3456789 → 12.345679, 0.0000004 → 0.0
    assert frame["sessions"].tolist() == [9.0]
    assert frame["key_events"].tolist() == [0.25]
    assert frame["source_rows"].tolist() == [2]
    assert frame["campaign_name"].tolist() == ["Micro"]


def test_unsampled_unthresholded_load_says_so(fake: FakeGa4Server) -> None:
    fake.properties[PROPERTY] = FakeProperty(table(SEVEN))
    load = fetch_daily(config(fake), D(2024, 3, 1), D(2024, 3, 2))
    assert (load.sampled, load.sampling_ratio, load.thresholded, load.data_loss_from_other_row) == (
        False,
        None,
        False,
        False,
    )


def test_date_chunks_share_batches_of_five(fake: FakeGa4Server) -> None:
    rows = [
        (f"202403{d:02d}", "111", "Spring Sale", "Paid Search", "google / cpc", d * 10, 1.0, d) for d in range(1, 13)
    ]
    fake.properties[PROPERTY] = FakeProperty(table(rows))
    load = fetch_daily(config(fake, chunk_days=2), D(2024, 3, 1), D(2024, 3, 12))

    ranges = [(r["dateRanges"][0]["startDate"], r["dateRanges"][0]["endDate"]) for r in fake.reports_sent()]
    assert ranges == [(f"2024-03-{a:02d}", f"2024-03-{a + 1:02d}") for a in (1, 3, 5, 7, 9, 11)]
    assert [len(c.body.get("requests", [c.body])) for c in fake.api_calls] == [5, 1]
    assert load.frame["sessions"].tolist() == [10.0 * d for d in range(1, 13)]
    assert load.frame["revenue"].sum() == 78.0
    assert (load.requests, load.reports, load.tokens_consumed) == (2, 6, 18)


def test_more_than_ten_metrics_split_across_requests_and_join_back(fake: FakeGa4Server) -> None:
    names = ["sessions", "engagedSessions", "transactions", "eventCount", "screenPageViews", "keyEvents"]
    names += ["purchaseRevenue", "totalRevenue", "addToCarts", "checkouts", "ecommercePurchases"]
    rows = pd.DataFrame(
        {
            "date": ["20240301", "20240301"],
            "sessionCampaignId": ["111", "222"],
            "sessionCampaignName": ["A", "B"],
            "sessionDefaultChannelGroup": ["Paid Search", "Email"],
            "sessionSourceMedium": ["google / cpc", "newsletter / email"],
        }
        | {name: [i + 1, i + 2] for i, name in enumerate(names[:-1])}
        | {"ecommercePurchases": [0, 5]}  # campaign A has none: GA4 leaves its row out of the second report
    )
    fake.properties[PROPERTY] = FakeProperty(rows)
    metrics = {f"m_{name}": name for name in names}
    load = fetch_daily(config(fake, metrics=metrics), D(2024, 3, 1), D(2024, 3, 1))

    sent = fake.reports_sent()
    assert [[m["name"] for m in r["metrics"]] for r in sent] == [names[:10], names[10:]]
    assert all(r["dimensions"] == sent[0]["dimensions"] for r in sent)
    assert len(fake.api_calls) == 1  # both groups in one batchRunReports
    a, b = load.frame.to_dict("records")
    assert (a["campaign_id"], a["m_sessions"], a["m_checkouts"], a["m_ecommercePurchases"]) == ("111", 1.0, 10.0, 0.0)
    assert (b["campaign_id"], b["m_sessions"], b["m_checkouts"], b["m_ecommercePurchases"]) == ("222", 2.0, 11.0, 5.0)
    assert load.rows == 2


@pytest.mark.parametrize(
    "fault",
    [
        Fault(429, "Exhausted concurrent requests quota."),
        Fault(503, "The service is currently unavailable."),
        Fault(delay=1.0),  # longer than the client's 0.2 s timeout
    ],
    ids=["429", "503", "timeout"],
)
def test_network_fault_on_page_two_is_retried(fake: FakeGa4Server, fault: Fault) -> None:
    fake.properties[PROPERTY] = FakeProperty(table(SEVEN))
    fake.faults[2] = fault
    load = fetch_daily(config(fake, page_size=3, timeout_seconds=0.2), D(2024, 3, 1), D(2024, 3, 2))

    assert grain(load.frame) == EXPECTED_SEVEN
    assert (load.requests, load.retries, len(fake.api_calls)) == (2, 1, 3)
    assert fake.api_calls[1].body == fake.api_calls[2].body  # the same batch (pages 2 and 3) sent again


def test_data_changing_between_pages_fails_the_load(fake: FakeGa4Server) -> None:
    fake.properties[PROPERTY] = FakeProperty(table(SEVEN))
    late_row = ("20240302", "222", "Tet", "Paid Social", "facebook / paid", 5, 0.0, 0.0)
    fake.faults[2] = Fault(restate=table([*SEVEN, late_row]))
    with pytest.raises(Ga4Error) as caught:
        fetch_daily(config(fake, page_size=3), D(2024, 3, 1), D(2024, 3, 2))
    assert str(caught.value) == (
        f"source 'web', GA4 property {PROPERTY}: rowCount changed from 7 to 8 while paging 2024-03-01..2024-03-02; "
        "the property's data was being updated, run the load again"
    )


def test_persistent_429_gives_up_after_the_attempt_budget(fake: FakeGa4Server) -> None:
    fake.properties[PROPERTY] = FakeProperty(table(SEVEN))
    fake.faults.update({n: Fault(429, "Exhausted property tokens per hour.") for n in range(1, 10)})
    with pytest.raises(Ga4Error) as caught:
        fetch_daily(config(fake), D(2024, 3, 1), D(2024, 3, 2))

    assert len(fake.api_calls) == 4
    assert str(caught.value) == (
        f"source 'web', GA4 property {PROPERTY}: still failing after 4 attempts: "
        "HTTP 429 Exhausted property tokens per hour."
    )


def test_permission_denied_fails_at_once_naming_the_property(fake: FakeGa4Server) -> None:
    with pytest.raises(Ga4Error) as caught:
        fetch_daily(config(fake, property_id="987654"), D(2024, 3, 1), D(2024, 3, 2))

    assert len(fake.api_calls) == 1
    assert "GA4 property 987654: permission denied" in str(caught.value)
    assert "User does not have sufficient permissions for this property." in str(caught.value)
    assert (caught.value.property_id, caught.value.field) == ("987654", "property_id")


def test_invalid_metric_fails_at_once_naming_the_field(fake: FakeGa4Server) -> None:
    fake.properties[PROPERTY] = FakeProperty(table(SEVEN))
    with pytest.raises(Ga4Error) as caught:
        fetch_daily(config(fake, metrics={"sessions": "sessions", "views": "pageViews"}), D(2024, 3, 1), D(2024, 3, 2))

    assert len(fake.api_calls) == 1
    assert caught.value.field == "pageViews"
    assert str(caught.value).startswith(
        f"source 'web', GA4 property {PROPERTY}: GA4 rejected field 'pageViews' (metric 'views'): "
        "Field pageViews is not a valid metric."
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("conversions", "keyEvents"),
        ("sessionConversionRate", "sessionKeyEventRate"),
        ("conversions:purchase", "keyEvents:purchase"),
    ],
)
def test_renamed_field_is_rejected_before_any_request(fake: FakeGa4Server, old: str, new: str) -> None:
    with pytest.raises(Ga4Error) as caught:
        config(fake, metrics={"sessions": "sessions", "conv": old})
    assert f"GA4 renamed field {old!r} to {new!r}; use {new!r} in sources.yaml" in str(caught.value)
    assert caught.value.field == old
    assert fake.received == []


@pytest.mark.parametrize(
    ("property_id", "hint"),
    [
        ("G-8XK2Q1ZPQ4", "'G-8XK2Q1ZPQ4' is a Measurement ID (a web data stream), not a property ID"),
        ("0", "property_id must be the numeric GA4 Property ID"),
        ("", "property_id must be the numeric GA4 Property ID"),
    ],
)
def test_property_id_must_be_digits(fake: FakeGa4Server, property_id: str, hint: str) -> None:
    with pytest.raises(Ga4Error, match="Property ID") as caught:
        config(fake, property_id=property_id)
    assert hint in str(caught.value)


def test_property_id_accepts_the_resource_name(fake: FakeGa4Server) -> None:
    assert config(fake, property_id="properties/123456").property_id == "123456"
    assert config(fake, property_id=123456).property_id == "123456"


@pytest.mark.parametrize(
    ("endpoint", "credentials", "message"),
    [
        (None, "anonymous", "credentials: anonymous needs an endpoint on a loopback address"),
        ("https://analyticsdata.googleapis.com", "anonymous", "only with a loopback endpoint"),
        ("http://10.1.2.3:8080", "default", "a plain http endpoint must be on a loopback address"),
        ("http://127.0.0.1:1", "token123", "credentials must be 'default' or 'anonymous'"),
    ],
)
def test_credentials_rules(endpoint: str | None, credentials: str, message: str) -> None:
    with pytest.raises(Ga4Error, match="property 123456") as caught:
        Ga4Config(name="web", property_id=PROPERTY, metrics=METRICS, endpoint=endpoint, credentials=credentials)
    assert message in str(caught.value)


def test_users_are_refused_daily_and_counted_distinct_over_the_period(fake: FakeGa4Server) -> None:
    users = pd.DataFrame(
        [
            ("20240301", "111", "A", "Paid Search", "google / cpc", frozenset({1, 2, 3})),
            ("20240302", "111", "A", "Paid Search", "google / cpc", frozenset({2, 3, 4})),
            ("20240302", "222", "B", "Email", "newsletter / email", frozenset({4, 5})),
        ],
        columns=[*COLUMNS[:5], "users"],
    )
    fake.properties[PROPERTY] = FakeProperty(users)
    with pytest.raises(Ga4Error, match=r"'users' \('totalUsers'\) counts distinct users .* fetch_period"):
        fetch_daily(config(fake, metrics={"users": "totalUsers"}), D(2024, 3, 1), D(2024, 3, 2))
    assert fake.received == []

    cfg = config(fake)
    assert fetch_period(cfg, D(2024, 3, 1), D(2024, 3, 2), {"users": "totalUsers"}) == {"users": 5.0}  # not 3+3+2
    assert fake.reports_sent()[-1] == {
        "metrics": [{"name": "totalUsers"}],
        "dateRanges": [{"startDate": "2024-03-01", "endDate": "2024-03-02"}],
        "limit": "250000",
        "returnPropertyQuota": True,
    }
    by_campaign = fetch_period_by(cfg, D(2024, 3, 1), D(2024, 3, 2), ["totalUsers"], by=["campaign_id"]).frame
    assert by_campaign[["campaign_id", "totalUsers"]].values.tolist() == [["111", 4.0], ["222", 2.0]]
    assert fetch_period(cfg, D(2024, 4, 1), D(2024, 4, 30), {"users": "totalUsers"}) == {"users": 0.0}


def test_ratio_metrics_are_refused_daily(fake: FakeGa4Server) -> None:
    with pytest.raises(Ga4Error, match=r"'rate' \('sessionKeyEventRate'\) is a ratio"):
        fetch_daily(config(fake, metrics={"rate": "sessionKeyEventRate"}), D(2024, 3, 1), D(2024, 3, 2))
    assert fake.received == []


def test_restated_days_change_on_the_next_pull(fake: FakeGa4Server) -> None:
    rows = [
        (f"202403{d:02d}", "111", "Spring Sale", "Paid Search", "google / cpc", 100 + d, 1.0, 10.5)
        for d in range(1, 11)
    ]
    fake.properties[PROPERTY] = FakeProperty(table(rows))
    cfg = config(fake)
    first = fetch_daily(cfg, *pull_window(None, D(2024, 3, 10), cfg.lookback_days, D(2024, 3, 1)))
    assert first.frame["key_events"].tolist() == [1.0] * 10

    restated = [(*r[:5], r[5], 3.0 if r[0] == "20240308" else r[6], r[7]) for r in rows]  # late key events
    restated.append(("20240311", "111", "Spring Sale", "Paid Search", "google / cpc", 50, 2.0, 21.0))
    fake.properties[PROPERTY] = FakeProperty(table(restated))
    start, end = pull_window(D(2024, 3, 10), D(2024, 3, 11), cfg.lookback_days, D(2024, 3, 1))
    second = fetch_daily(cfg, start, end)

    assert (start, end) == (D(2024, 3, 5), D(2024, 3, 11))
    assert fake.reports_sent()[-1]["dateRanges"] == [{"startDate": "2024-03-05", "endDate": "2024-03-11"}]
    assert second.frame["report_date"].tolist() == [D(2024, 3, d) for d in range(5, 12)]
    assert second.frame["key_events"].tolist() == [1.0, 1.0, 1.0, 3.0, 1.0, 1.0, 2.0]
    assert second.frame["sessions"].tolist() == [105.0, 106.0, 107.0, 108.0, 109.0, 110.0, 50.0]


@pytest.mark.parametrize(
    ("last_loaded", "as_of", "lookback", "expected"),
    [
        (None, D(2026, 2, 22), 7, (D(2025, 1, 1), D(2026, 2, 22))),  # first run: everything
        (D(2026, 2, 21), D(2026, 2, 22), 7, (D(2026, 2, 16), D(2026, 2, 22))),  # nightly: the look-back
        (D(2026, 2, 1), D(2026, 2, 22), 7, (D(2026, 2, 2), D(2026, 2, 22))),  # missed nights: the gap
        (D(2026, 2, 22), D(2026, 2, 22), 4, (D(2026, 2, 19), D(2026, 2, 22))),  # rerun the same day
        (D(2025, 1, 2), D(2025, 1, 3), 7, (D(2025, 1, 1), D(2025, 1, 3))),  # never before the first day
    ],
)
def test_pull_window(
    last_loaded: dt.date | None, as_of: dt.date, lookback: int, expected: tuple[dt.date, dt.date]
) -> None:
    assert pull_window(last_loaded, as_of, lookback, D(2025, 1, 1)) == expected


def test_pull_window_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="lookback_days must be at least 1"):
        pull_window(None, D(2026, 2, 22), 0, D(2025, 1, 1))
    with pytest.raises(ValueError, match="before the first day"):
        pull_window(None, D(2024, 2, 22), 7, D(2025, 1, 1))


def test_low_hourly_tokens_slow_the_load_down(fake: FakeGa4Server) -> None:
    rows = [(f"202403{d:02d}", "111", "A", "Paid Search", "google / cpc", d, 0.0, 0.0) for d in range(1, 7)]
    fake.properties[PROPERTY] = FakeProperty(table(rows), tokens_hour=20)
    slept: list[float] = []
    cfg = config(fake, chunk_days=1, min_hourly_tokens=10, throttle_pause_seconds=42.0)
    load = fetch_daily(cfg, D(2024, 3, 1), D(2024, 3, 6), sleep=slept.append)

    assert slept == [42.0]  # 20 - 5 reports × 3 tokens = 5 left < 10: one pause before the second call
    assert (load.throttle_pauses, load.throttle_seconds, load.requests) == (1, 42.0, 2)
    assert (load.tokens_consumed, load.tokens_remaining_hour) == (18, 2)
    assert load.frame["sessions"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def _service_account(path: Path) -> str:
    """A service-account key file as Google issues them; returns its private key (a secret)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "okr-test",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "okr@okr-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "http://127.0.0.1:9/token",  # never called: the client signs its own JWT
    }
    path.write_text(json.dumps(info), encoding="utf-8")
    return pem


def test_default_credential_chain_is_used_and_never_leaks(
    fake: FakeGa4Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "sa.json"
    pem = _service_account(key_file)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    fake.properties[PROPERTY] = FakeProperty(table(SEVEN))
    caplog.set_level(logging.DEBUG)

    load = fetch_daily(config(fake, credentials="default"), D(2024, 3, 1), D(2024, 3, 2))
    with pytest.raises(Ga4Error) as caught:
        fetch_daily(config(fake, credentials="default", property_id="555"), D(2024, 3, 1), D(2024, 3, 2))

    bearer = fake.api_calls[1].authorization
    scheme, _, jwt = bearer.partition(" ")
    claims = json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "=="))
    assert (scheme, claims["iss"]) == ("Bearer", "okr@okr-test.iam.gserviceaccount.com")  # the key file was used
    assert load.frame["sessions"].sum() == 730.0
    assert "GA4 property 555: permission denied" in str(caught.value)
    secrets = [jwt, pem.splitlines()[1]]
    for text in (str(caught.value), repr(caught.value.__cause__), caplog.text, repr(vars(load) | {"frame": None})):
        assert not any(secret in text for secret in secrets)


def test_missing_default_credentials_say_what_to_do(
    fake: FakeGa4Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(Ga4Error, match="no Google credentials found; set GOOGLE_APPLICATION_CREDENTIALS"):
        fetch_daily(config(fake, credentials="default"), D(2024, 3, 1), D(2024, 3, 2))
    assert fake.received == []


def test_an_injected_client_is_used_as_given(
    fake: FakeGa4Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))  # would fail if looked up
    fake.properties[PROPERTY] = FakeProperty(table(SEVEN))
    transport = BetaAnalyticsDataRestTransport(
        host=fake.endpoint.removeprefix("http://"), url_scheme="http", credentials=AnonymousCredentials()
    )
    cfg = Ga4Config(name="web", property_id=PROPERTY, metrics=METRICS)  # production config: no endpoint
    load = fetch_daily(cfg, D(2024, 3, 1), D(2024, 3, 2), client=BetaAnalyticsDataClient(transport=transport))
    assert grain(load.frame) == EXPECTED_SEVEN


@pytest.mark.slow
def test_large_property_pages_300k_rows_with_250k_pages(fake: FakeGa4Server) -> None:
    days, campaigns = 60, 5_000
    n = days * campaigns
    k = pd.RangeIndex(n)
    channels = ["Paid Search", "Paid Social", "Email", "Display", "Organic Search"]
    dates = [(D(2024, 1, 1) + dt.timedelta(days=d)).strftime("%Y%m%d") for d in range(days)]
    rows = pd.DataFrame(
        {
            "date": pd.Series(dates).repeat(campaigns).to_numpy(),
            "sessionCampaignId": [f"c{c:04d}" for c in range(campaigns)] * days,
            "sessionCampaignName": [f"Campaign {c}" for c in range(campaigns)] * days,
            "sessionDefaultChannelGroup": [channels[c % 5] for c in range(campaigns)] * days,
            "sessionSourceMedium": [f"src{c % 5} / m" for c in range(campaigns)] * days,
            "sessions": (k % 13 + 1).to_numpy(),
        }
    )
    fake.properties[PROPERTY] = FakeProperty(rows)
    load = fetch_daily(config(fake, metrics={"sessions": "sessions"}, chunk_days=366), D(2024, 1, 1), D(2024, 3, 31))

    assert [r.get("offset") for r in fake.reports_sent()] == [None, "250000"]
    assert [r["limit"] for r in fake.reports_sent()] == ["250000", "250000"]
    assert (load.rows, len(load.frame), load.requests, load.reports) == (300_000, 300_000, 2, 2)
    assert load.frame["sessions"].sum() == sum(i % 13 + 1 for i in range(n)) == 2_099_994
    assert load.frame["report_date"].min() == D(2024, 1, 1) and load.frame["report_date"].max() == D(2024, 2, 29)
    last_day = load.frame[load.frame["report_date"] == D(2024, 2, 29)]
    assert len(last_day) == campaigns
    assert last_day["sessions"].sum() == sum(i % 13 + 1 for i in range(n - campaigns, n))


def test_campaigns_without_an_id_are_keyed_by_name_so_they_stay_apart(fake: FakeGa4Server) -> None:
    """utm_campaign without utm_id: GA4 says sessionCampaignId (not set); two such campaigns on one channel
    must not merge into one row under the first name, or the campaign map could never pair them by name."""
    rows = [
        ("20240301", "(not set)", "tet-2026", "Email", "newsletter / email", 30, 1.0, 10.0),
        ("20240301", "(not set)", "newsletter_jan", "Email", "newsletter / email", 20, 0.0, 0.0),
        ("20240301", "(not set)", "(not set)", "Email", "newsletter / email", 5, 0.0, 0.0),
        ("20240301", "333", "Spring", "Email", "newsletter / email", 7, 0.0, 0.0),
    ]
    fake.properties[PROPERTY] = FakeProperty(table(rows))
    frame = fetch_daily(config(fake), D(2024, 3, 1), D(2024, 3, 1)).frame
    assert sorted(zip(frame["campaign_id"], frame["campaign_name"], frame["sessions"], strict=True)) == [
        ("(not set)", "(not set)", 5.0),
        ("333", "Spring", 7.0),
        ("newsletter_jan", "newsletter_jan", 20.0),
        ("tet-2026", "tet-2026", 30.0),
    ]


# Users per row as sets, so the fake counts distinct users the way GA4 does. Over 1-2 March the spring
# Paid Search campaigns have users {1..5}: 5, while their daily counts add up to 3 + 4 = 7 and their
# per-campaign counts to 4 + 2 = 6. "Spring_upper" differs only by case; the social row by channel.
SPRING_USERS = [
    ("20240301", "111", "spring_sale", "Paid Search", "google / cpc", {1, 2, 3}),
    ("20240302", "111", "spring_sale", "Paid Search", "google / cpc", {2, 3, 4}),
    ("20240302", "112", "spring_retarget", "Paid Search", "google / cpc", {4, 5}),
    ("20240302", "113", "Spring_upper", "Paid Search", "google / cpc", {6}),
    ("20240302", "222", "spring_social", "Paid Social", "facebook / paid", {7, 8}),
    ("20240303", "111", "spring_sale", "Paid Search", "google / cpc", {1, 9}),
]


def users_table(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*COLUMNS[:5], "users"])
    frame["users"] = frame["users"].map(frozenset)
    frame["sessions"] = frame["users"].map(len)
    return frame


def period_config(fake: FakeGa4Server, **overrides: object) -> Ga4Config:
    return config(fake, metrics={"sessions": "sessions"}, period_metrics={"users": "totalUsers"}, **overrides)


def test_period_queries_send_the_kr_filter_and_no_date_dimension(fake: FakeGa4Server) -> None:
    fake.properties[PROPERTY] = FakeProperty(users_table(SPRING_USERS))
    march = (D(2024, 3, 1), D(2024, 3, 2))
    spring_search = terms({"campaign_name": ["spring*"], "channel": ["Paid Search"]})
    queries = [
        PeriodQuery(*march, ("users",), spring_search),
        PeriodQuery(*march, ("users",)),
        PeriodQuery(*march, ("users",), terms({"campaign_id": ["112", "222"]})),
        PeriodQuery(*march, ("users",), terms({"campaign_name": ["autumn*"]})),
        PeriodQuery(*march, ("users",), spring_search),  # the same window and filter: one report
    ]
    load = fetch_periods(period_config(fake), queries)

    first = fake.reports_sent()[0]
    assert first == {
        "metrics": [{"name": "totalUsers"}],
        "dateRanges": [{"startDate": "2024-03-01", "endDate": "2024-03-02"}],
        "dimensionFilter": {
            "andGroup": {
                "expressions": [
                    {
                        "filter": {
                            "fieldName": "sessionCampaignName",
                            "stringFilter": {"matchType": 5, "value": "spring.*", "caseSensitive": True},
                        }
                    },
                    {
                        "filter": {
                            "fieldName": "sessionDefaultChannelGroup",
                            "stringFilter": {"matchType": 1, "value": "Paid Search", "caseSensitive": True},
                        }
                    },
                ]
            }
        },
        "limit": "250000",
        "returnPropertyQuota": True,
    }  # no dimensions at all (no date), so no orderBys: one row for the whole window
    assert fake.reports_sent()[2]["dimensionFilter"] == {
        "filter": {"fieldName": "sessionCampaignId", "inListFilter": {"values": ["112", "222"], "caseSensitive": True}}
    }
    assert "dimensionFilter" not in fake.reports_sent()[1]
    assert [c.path.rpartition(":")[2] for c in fake.api_calls] == ["batchRunReports"]  # four reports, one call
    values = load.frame["value"].tolist()
    assert values[:3] == [5.0, 8.0, 4.0]  # not 7 (daily) or 6 (per campaign); {1..8}; {4, 5, 7, 8}
    assert pd.isna(values[3]) and load.frame["rows"].tolist() == [1, 1, 1, 0]  # nothing matched: no row
    assert (load.requests, load.reports, load.tokens_consumed) == (1, 4, 12)
    assert load.frame["filter_key"].nunique() == 4 and set(load.frame["metric"]) == {"users"}


def test_globs_and_case_follow_the_daily_filters(fake: FakeGa4Server) -> None:
    """`Spring*` matches only the campaign spelt with a capital S, as DuckDB's GLOB does on daily rows."""
    fake.properties[PROPERTY] = FakeProperty(users_table(SPRING_USERS))
    cases = ["Spring*", "spring_s[ao]*", "spring_[!s]*", "*retarget", "spring_sale"]
    queries = [PeriodQuery(D(2024, 3, 1), D(2024, 3, 3), ("users",), terms({"campaign_name": [p]})) for p in cases]
    load = fetch_periods(period_config(fake), queries)
    # 1-3 March. Spring*: Spring_upper {6}; spring_s[ao]*: spring_sale {1,2,3,4,9} and spring_social {7,8};
    # spring_[!s]*: spring_retarget {4,5}, not spring_sale/spring_social; spring_sale alone: {1,2,3,4,9}
    assert dict(zip(cases, load.frame["value"], strict=True)) == {
        "Spring*": 1.0,
        "spring_s[ao]*": 7.0,
        "spring_[!s]*": 2.0,
        "*retarget": 2.0,
        "spring_sale": 5.0,
    }


def test_period_query_keeps_its_own_sampling_and_thresholding(fake: FakeGa4Server) -> None:
    """Google signals on from 2 March: a window reaching it is thresholded and sampled, an earlier one not."""
    fake.properties[PROPERTY] = FakeProperty(
        users_table(SPRING_USERS), thresholded=True, sampling=(400, 1_000), flags_from="20240302"
    )
    queries = [
        PeriodQuery(D(2024, 3, 1), D(2024, 3, 1), ("users",)),
        PeriodQuery(D(2024, 3, 1), D(2024, 3, 2), ("users",)),
    ]
    load = fetch_periods(period_config(fake), queries)
    assert load.ranges == [
        RangeFacts(D(2024, 3, 1), D(2024, 3, 1), False, None, False, False),
        RangeFacts(D(2024, 3, 1), D(2024, 3, 2), True, 0.4, True, False),
    ]
    flags = load.frame[["value", "thresholded", "sampled", "sampling_ratio"]].values.tolist()
    assert flags[0][:3] == [3.0, False, False] and pd.isna(flags[0][3])
    assert flags[1] == [8.0, True, True, 0.4]


def test_daily_load_keeps_metadata_per_date_chunk(fake: FakeGa4Server) -> None:
    rows = [(f"202403{d:02d}", "111", "A", "Paid Search", "google / cpc", d, 0.0, 0.0) for d in range(1, 5)]
    fake.properties[PROPERTY] = FakeProperty(
        table(rows), thresholded=True, sampling=(250, 1_000), data_loss_from_other_row=True, flags_from="20240303"
    )
    load = fetch_daily(config(fake, chunk_days=2), D(2024, 3, 1), D(2024, 3, 4))
    assert load.ranges == [
        RangeFacts(D(2024, 3, 1), D(2024, 3, 2), False, None, False, False),
        RangeFacts(D(2024, 3, 3), D(2024, 3, 4), True, 0.25, True, True),
    ]
    assert (load.thresholded, load.sampling_ratio) == (True, 0.25)  # the load as a whole


def test_a_period_query_refuses_what_it_cannot_send(fake: FakeGa4Server) -> None:
    cfg = period_config(fake)
    with pytest.raises(Ga4Error, match=r"metrics \['sessions'\] are not mapped as period metrics"):
        fetch_periods(cfg, [PeriodQuery(D(2024, 3, 1), D(2024, 3, 2), ("sessions",))])
    with pytest.raises(Ga4Error, match="cannot filter on 'platform'"):
        fetch_periods(cfg, [PeriodQuery(D(2024, 3, 1), D(2024, 3, 2), ("users",), terms({"platform": ["ga4"]}))])
    with pytest.raises(Ga4Error, match="mapped both per day and per period"):
        config(fake, metrics={"users": "sessions"}, period_metrics={"users": "totalUsers"})
    assert fake.received == []


@pytest.mark.slow
def test_quota_of_a_first_load_and_a_nightly_refresh_for_2_years_of_300_campaigns(fake: FakeGa4Server) -> None:
    """Requests and tokens for a property with 2 years × 300 campaigns (the figures the GA4 issue asks for).

    First load: 1 Jan 2024 .. 31 Dec 2025 (731 days) in 31-day chunks, plus 8 period queries (4 quarter KRs
    on users and their previous-quarter baselines). Nightly on 1 Jan 2026: the 7-day look-back, plus the 4
    quarter windows GA4 may still restate (the settled baselines are not asked again: pipelines.lib.period).
    The fake charges 3 tokens a report; requests and reports do not depend on the fake's price.
    """
    campaigns, first, last = 300, D(2024, 1, 1), D(2026, 1, 1)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    n = len(days) * campaigns
    k = pd.RangeIndex(n)
    channels = ["Paid Search", "Paid Social", "Email", "Display", "Organic Search"]
    rows = pd.DataFrame(
        {
            "date": pd.Series([d.strftime("%Y%m%d") for d in days]).repeat(campaigns).to_numpy(),
            "sessionCampaignId": [f"{c:03d}" for c in range(campaigns)] * len(days),
            "sessionCampaignName": [f"campaign_{c:03d}" for c in range(campaigns)] * len(days),
            "sessionDefaultChannelGroup": [channels[c % 5] for c in range(campaigns)] * len(days),
            "sessionSourceMedium": [f"src{c % 5} / m" for c in range(campaigns)] * len(days),
            "sessions": (k % 7 + 1).to_numpy(),
            "users": [
                frozenset({c % 50, 100 + (i // campaigns) % 30})
                for i, c in enumerate(list(range(campaigns)) * len(days))
            ],
        }
    )
    fake.properties[PROPERTY] = FakeProperty(rows)
    cfg = period_config(fake)
    q4, q3 = (D(2025, 10, 1), D(2025, 12, 31)), (D(2025, 7, 1), D(2025, 9, 30))
    filters = [
        terms({"channel": ["Paid Search"]}),
        terms({"campaign_id": ["001", "002", "003"]}),
        terms({"campaign_name": ["campaign_1*"]}),
        (),
    ]

    start, end = pull_window(None, D(2025, 12, 31), cfg.lookback_days, first)
    daily = fetch_daily(cfg, start, end)
    periods = fetch_periods(cfg, [PeriodQuery(*w, ("users",), f) for w in (q4, q3) for f in filters])
    first_load = [(load.requests, load.reports, load.tokens_consumed) for load in (daily, periods)]

    start, end = pull_window(D(2025, 12, 31), D(2026, 1, 1), cfg.lookback_days, first)
    nightly_daily = fetch_daily(cfg, start, end)
    nightly_periods = fetch_periods(cfg, [PeriodQuery(*q4, ("users",), f) for f in filters])
    nightly = [(load.requests, load.reports, load.tokens_consumed) for load in (nightly_daily, nightly_periods)]

    assert (daily.rows, len(daily.frame)) == (731 * 300, 731 * 300)  # 219,300 campaign-days
    assert daily.frame["sessions"].sum() == rows.loc[rows["date"] <= "20251231", "sessions"].sum()
    assert first_load == [(5, 24, 72), (2, 8, 24)]  # 24 chunks in 5 calls; 8 period reports in 2 calls
    assert (start, end, nightly_daily.rows) == (D(2025, 12, 26), D(2026, 1, 1), 7 * 300)
    assert nightly == [(1, 1, 3), (1, 4, 12)]  # 2 calls, 5 reports, 15 tokens a night
    assert periods.frame["value"].tolist()[3] == 80.0  # all users of Q4: 50 campaign users + 30 daily ones
