"""The Meta Ads connector against a fake Graph API on 127.0.0.1 (plain HTTP, Graph's JSON and error shapes)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import random

import pytest

from connectors.ads_frame import COLUMNS
from connectors.ads_retry import RetryPolicy
from connectors.errors import SourceApiError
from connectors.meta_ads import MetaAdsConfig, read_meta_ads
from tests.fakes.meta_server import FakeAdAccount, FakeGraph, ScriptedError, serve_graph, usage_header

TOKEN = "EAAB-test-token-0123456789"
ACCOUNT = "1234567890123"
BIG_ID = "120210000000000001"  # > 2**53: a float would turn it into 120210000000000000
PURCHASE = "offsite_conversion.fb_pixel_purchase"
JAN = (dt.date(2024, 1, 1), dt.date(2024, 1, 31))


def insight(
    day: str,
    campaign_id: str | int = BIG_ID,
    *,
    spend: str = "0",
    impressions: str = "0",
    link_clicks: str = "0",
    clicks: str = "0",
    actions: list | None = None,
    values: list | None = None,
    currency: str = "USD",
    name: str = "Spring Sale - Prospecting",
) -> dict:
    row = {
        "account_id": ACCOUNT,
        "campaign_id": campaign_id,
        "campaign_name": name,
        "date_start": day,
        "date_stop": day,
        "spend": spend,
        "impressions": impressions,
        "inline_link_clicks": link_clicks,
        "clicks": clicks,
        "account_currency": currency,
    }
    if actions is not None:
        row["actions"] = actions
    if values is not None:
        row["action_values"] = values
    return row


def purchase(value: str, click: str | None = None, view: str | None = None, kind: str = PURCHASE) -> dict:
    entry = {"action_type": kind, "value": value}
    if click is not None:
        entry["7d_click"] = click
    if view is not None:
        entry["1d_view"] = view
    return entry


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def graph(monkeypatch):
    monkeypatch.setenv("META_ACCESS_TOKEN", TOKEN)
    fake = FakeGraph(token=TOKEN, accounts={ACCOUNT: FakeAdAccount("America/Los_Angeles", "USD")})
    with serve_graph(fake):
        yield fake


def config(fake: FakeGraph, **overrides) -> MetaAdsConfig:
    return MetaAdsConfig(
        **{"name": "meta", "account_ids": (f"act_{ACCOUNT}",), "base_url": fake.base_url, "page_size": 2, **overrides}
    )


def policy(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps, rng=random.Random(3))


def insights_requests(fake: FakeGraph) -> list:
    return [r for r in fake.received if r.path.endswith("/insights")]


def test_cursor_paging_across_three_pages(graph):
    graph.accounts[ACCOUNT].rows = [
        insight(f"2024-01-0{d}", spend=f"{d}.25", impressions=f"{d}000", link_clicks=str(d), actions=[], values=[])
        for d in range(1, 6)
    ]
    graph.accounts[ACCOUNT].rows.append(insight("2024-02-01", spend="99"))  # outside the window

    load = read_meta_ads(config(graph), *JAN, retry=policy(Sleeps()))

    pages = insights_requests(graph)
    assert [r.params.get("after") for r in pages] == [None, "Mg==", "NA=="]
    assert (load.pages, load.rows, load.requests, load.retries, load.async_jobs) == (3, 5, 4, 0, 0)
    frame = load.frame
    assert list(frame.columns) == COLUMNS
    assert frame["spend"].tolist() == [1.25, 2.25, 3.25, 4.25, 5.25]
    assert frame["impressions"].sum() == 15_000.0 and frame["clicks"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert frame["report_date"].tolist() == [dt.date(2024, 1, d) for d in range(1, 6)]
    first = pages[0].params
    assert first["level"] == "campaign" and first["time_increment"] == "1"
    assert json.loads(first["time_range"]) == {"since": "2024-01-01", "until": "2024-01-31"}
    assert json.loads(first["action_attribution_windows"]) == ["7d_click", "1d_view"]
    assert set(first["fields"].split(",")) >= {
        "spend",
        "impressions",
        "inline_link_clicks",
        "actions",
        "action_values",
        "account_currency",
        "campaign_id",
    }
    assert all(
        r.headers["authorization"] == f"Bearer {TOKEN}" and "access_token" not in r.params for r in graph.received
    )


def test_throttling_17_and_80004_backs_off_by_usage_headers_then_succeeds(graph):
    graph.accounts[ACCOUNT].rows = [
        insight("2024-01-03", spend="10.10", actions=[purchase("2", "2")], values=[purchase("40.50", "40.50")])
    ]
    graph.errors = [
        ScriptedError(17, "User request limit reached", subcode=2446079, headers=usage_header(ACCOUNT, 1)),
        ScriptedError(
            80004,
            "There have been too many calls to this ad-account.",
            subcode=2446079,
            headers=usage_header(ACCOUNT, 2, "ads_management"),
        ),
    ]
    sleeps = Sleeps()

    load = read_meta_ads(config(graph), *JAN, retry=policy(sleeps))

    assert sleeps == [60.0, 120.0]  # estimated_time_to_regain_access: 1 and 2 minutes
    assert load.retries == 2 and load.requests == 2 + 2
    assert load.frame[["spend", "conversions", "conversions_value"]].values.tolist() == [[10.1, 2.0, 40.5]]


def test_throttle_that_outlasts_the_retries_fails_with_the_code(graph):
    graph.errors = [ScriptedError(613, "Calls to this api have exceeded the rate limit.", subcode=1487742)] * 5
    sleeps = Sleeps()
    with pytest.raises(SourceApiError, match=r"Graph API error 613/1487742.*after 5 attempt") as caught:
        read_meta_ads(config(graph), *JAN, retry=policy(sleeps))
    assert caught.value.transient and len(sleeps) == 4 and len(graph.received) == 5
    assert all(2 ** (n - 1) <= wait <= 2**n for n, wait in enumerate(sleeps, 1))  # 2 s base, doubling, equal jitter


def test_invalid_token_fails_at_once_without_showing_the_token(graph, monkeypatch, caplog):
    bad = "EAAB-expired-SECRET-987"
    monkeypatch.setenv("META_ACCESS_TOKEN", bad)
    sleeps = Sleeps()
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceApiError) as caught:
        read_meta_ads(config(graph), *JAN, retry=policy(sleeps))
    error = caught.value
    assert sleeps == [] and len(graph.received) == 1
    assert error.code == "190" and error.request_id == "AbCdEfG123"
    assert "Graph API error 190 (OAuthException, HTTP 400): Malformed access token ***" in str(error)
    assert "META_ACCESS_TOKEN" in str(error)
    for text in (str(error), repr(error), caplog.text, repr(config(graph))):
        assert bad not in text


def test_missing_token_is_reported_before_any_request(graph, monkeypatch):
    monkeypatch.delenv("META_ACCESS_TOKEN")
    with pytest.raises(SourceApiError, match="META_ACCESS_TOKEN is not set"):
        read_meta_ads(config(graph), *JAN)
    assert graph.received == []


def test_long_range_runs_an_async_report_job(graph):
    graph.accounts[ACCOUNT].rows = [
        insight(day, spend="1.5", actions=[purchase("1", "1")], values=[purchase("9.99", "9.99")])
        for day in ("2024-01-15", "2024-02-15", "2024-03-15")
    ]
    sleeps = Sleeps()

    load = read_meta_ads(
        config(graph, async_threshold_days=31, poll_interval_seconds=5),
        dt.date(2024, 1, 1),
        dt.date(2024, 3, 31),
        retry=policy(sleeps),
    )

    calls = [(r.method, r.path) for r in graph.received]
    run = "6000000000001"
    assert (
        calls
        == [("GET", f"/v26.0/act_{ACCOUNT}"), ("POST", f"/v26.0/act_{ACCOUNT}/insights")]
        + [("GET", f"/v26.0/{run}")] * 3
        + [("GET", f"/v26.0/{run}/insights")] * 2
    )
    assert json.loads(graph.received[1].params["time_range"]) == {"since": "2024-01-01", "until": "2024-03-31"}
    assert sleeps == [5, 5]  # between the three polls: Not Started, Running, Completed
    assert (load.async_jobs, load.pages, load.rows) == (1, 2, 3)
    assert load.frame["conversions_value"].tolist() == [9.99, 9.99, 9.99]


def test_failed_async_job_reports_meta_error_fields(graph):
    graph.job_outcome = "Job Failed"
    with pytest.raises(SourceApiError, match=r"Job Failed.*error_code=2490547.*Async report failed"):
        read_meta_ads(config(graph), dt.date(2024, 1, 1), dt.date(2024, 3, 31), retry=policy(Sleeps()))
    assert [r.method for r in graph.received].count("POST") == 1
    assert not any(r.path.endswith("/insights") and r.method == "GET" for r in graph.received)


def test_network_fault_is_retried_then_fails_transient(graph):
    with serve_graph(FakeGraph(token=TOKEN)) as closed_url:
        pass  # the server is gone: connections to its port are refused
    sleeps = Sleeps()
    with pytest.raises(SourceApiError, match=r"network fault talking to the Graph API.*after 5 attempt") as caught:
        read_meta_ads(config(graph, base_url=closed_url), *JAN, retry=policy(sleeps))
    assert caught.value.transient and len(sleeps) == 4 and TOKEN not in str(caught.value)


def test_short_range_stays_synchronous(graph):
    load = read_meta_ads(config(graph, async_threshold_days=31), *JAN, retry=policy(Sleeps()))
    assert load.async_jobs == 0 and all(r.method == "GET" for r in graph.received)


def test_restated_values_change_on_a_re_pull(graph):
    rows = graph.accounts[ACCOUNT].rows
    rows.append(
        insight(
            "2024-01-10", spend="50.00", actions=[purchase("3", "2", "1")], values=[purchase("59.97", "39.98", "19.99")]
        )
    )
    first = read_meta_ads(config(graph), *JAN, retry=policy(Sleeps()))
    rows[0] = insight(
        "2024-01-10", spend="50.00", actions=[purchase("5", "4", "1")], values=[purchase("104.95", "84.96", "19.99")]
    )

    second = read_meta_ads(config(graph), *JAN, retry=policy(Sleeps()))

    cols = ["spend", "conversions", "conversions_value"]
    assert first.frame[cols].values.tolist() == [[50.0, 3.0, 59.97]]
    assert second.frame[cols].values.tolist() == [[50.0, 5.0, 104.95]]


def test_only_the_configured_action_type_counts(graph):
    graph.accounts[ACCOUNT].rows = [
        insight(
            "2024-01-01",
            "1",
            actions=[
                {"action_type": "link_click", "value": "40"},
                purchase("3", "2", "1"),
                purchase("7", kind="omni_purchase"),
                purchase("7", kind="purchase"),
            ],
            values=[purchase("59.97", "39.98", "19.99"), purchase("130.00", kind="omni_purchase")],
        ),
        insight("2024-01-01", "2", actions=[{"action_type": "link_click", "value": "12"}], values=[]),
        insight("2024-01-01", "3"),  # Meta sent neither actions nor action_values
        insight("2024-01-01", "4", actions=[purchase("4")], values=[purchase("80.00")]),  # no per-window keys
    ]

    load = read_meta_ads(config(graph, page_size=10), *JAN, retry=policy(Sleeps()))

    got = load.frame.set_index("campaign_id")[["conversions", "conversions_value"]]
    assert got.loc[["1", "2", "4"]].values.tolist() == [[3.0, 59.97], [0.0, 0.0], [4.0, 80.0]]
    assert math.isnan(got.loc["3", "conversions"]) and math.isnan(got.loc["3", "conversions_value"])
    assert load.conversion_definition == "meta:offsite_conversion.fb_pixel_purchase@7d_click,1d_view"

    as_zero = read_meta_ads(config(graph, page_size=10, absent_actions_as_zero=True), *JAN, retry=policy(Sleeps()))
    assert as_zero.frame.set_index("campaign_id").loc["3", ["conversions", "conversions_value"]].tolist() == [0.0, 0.0]


def test_clicks_field_is_configurable(graph):
    graph.accounts[ACCOUNT].rows = [insight("2024-01-02", link_clicks="30", clicks="75")]
    link = read_meta_ads(config(graph), *JAN, retry=policy(Sleeps()))
    every = read_meta_ads(config(graph, clicks_field="clicks"), *JAN, retry=policy(Sleeps()))
    assert link.frame["clicks"].tolist() == [30.0] and every.frame["clicks"].tolist() == [75.0]


def test_ids_above_2_pow_53_and_money_strings_stay_exact(graph):
    graph.accounts[ACCOUNT].rows = [
        insight("2024-01-05", BIG_ID, spend="123456789.99"),
        insight("2024-01-05", 120210000000000003, spend="0.01"),  # an id sent as a bare JSON number
    ]

    load = read_meta_ads(config(graph), *JAN, retry=policy(Sleeps()))

    frame = load.frame
    assert frame["campaign_id"].tolist() == ["120210000000000001", "120210000000000003"]
    assert frame["spend"].tolist() == [123456789.99, 0.01]
    assert frame["account_id"].tolist() == [ACCOUNT] * 2


def test_account_time_zone_and_currency_come_from_the_api(graph):
    graph.accounts["777"] = FakeAdAccount(
        "Asia/Ho_Chi_Minh", "VND", [insight("2024-01-31", "55", spend="1250000", currency="VND", actions=[], values=[])]
    )

    load = read_meta_ads(config(graph, account_ids=("777", ACCOUNT)), *JAN, retry=policy(Sleeps()))

    assert load.time_zones == {"777": "Asia/Ho_Chi_Minh", ACCOUNT: "America/Los_Angeles"}
    assert load.currencies == {"777": "VND", ACCOUNT: "USD"}
    assert load.frame[
        ["report_date", "account_id", "currency_code", "account_timezone", "spend", "channel"]
    ].values.tolist() == [[dt.date(2024, 1, 31), "777", "VND", "Asia/Ho_Chi_Minh", 1_250_000.0, "Paid Social"]]
