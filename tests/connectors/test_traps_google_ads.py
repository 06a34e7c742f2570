"""Google Ads against the correctness traps of the source-API reference (docs/platform-traps.md).

The real `google-ads` client over gRPC/TLS against the fake GoogleAdsService; each test asserts numbers that a
wrong query or a float/int64 slip would change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.ads_retry import RetryPolicy
from connectors.google_ads import GoogleAdsConfig, GoogleAdsLoad, read_google_ads
from tests.connectors.test_google_ads import USD_ID, VND_ID, client_for, row
from tests.fakes.google_ads_server import FakeGoogleAds, serve_google_ads, trust_test_certificate

trust_test_certificate()  # gRPC reads its trusted roots once per process

MARCH = (dt.date(2024, 3, 1), dt.date(2024, 3, 31))
# Fields the API computes per row: ratios (trap 1) and conversion columns outside include_in_conversions_metric
# (trap 8). None may be selected: a ratio cannot be summed, and all_conversions counts secondary actions too.
RATIO_FIELDS = {
    "metrics.ctr",
    "metrics.average_cpc",
    "metrics.average_cpm",
    "metrics.average_cost",
    "metrics.cost_per_conversion",
    "metrics.conversions_from_interactions_rate",
    "metrics.value_per_conversion",
}
OTHER_CONVERSIONS = {
    "metrics.all_conversions",
    "metrics.all_conversions_value",
    "metrics.view_through_conversions",
    "metrics.conversions_by_conversion_date",
}


class Sleeps(list):
    """The waits the retry policy asks for, recorded instead of slept."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(autouse=True)
def _no_ambient_google_ads_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer's GOOGLE_ADS_* variables or ~/google-ads.yaml leak into a test."""
    for name in [n for n in __import__("os").environ if n.startswith("GOOGLE_ADS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.fixture
def fake() -> Iterator[FakeGoogleAds]:
    state = FakeGoogleAds()
    with serve_google_ads(state) as endpoint:
        state.endpoint = endpoint
        yield state


def pull(fake: FakeGoogleAds, *customers: str) -> GoogleAdsLoad:
    config = GoogleAdsConfig("ads", customers or (USD_ID,))
    return read_google_ads(config, *MARCH, client=client_for(fake), retry=RetryPolicy(sleep=Sleeps()))


def selected(fake: FakeGoogleAds) -> set[str]:
    (request,) = fake.requests
    return set(request.query.split("SELECT ", 1)[1].split(" FROM", 1)[0].split(", "))


def test_no_ratio_is_selected_and_the_window_ratio_comes_from_sums(fake: FakeGoogleAds) -> None:
    """Day 1: 10 clicks / 100 impressions (10 %), day 2: 90 / 9,900 (0.9 %): the window CTR is 100 / 10,000
    = 1 %, where the mean of the API's daily `metrics.ctr` would say 5.45 %."""
    fake.rows[USD_ID] = [
        row("2024-03-01", 7, 5_000_000, impressions=100, clicks=10),
        row("2024-03-02", 7, 45_000_000, impressions=9_900, clicks=90),
    ]
    frame = pull(fake).frame

    assert selected(fake) & RATIO_FIELDS == set()
    assert frame["clicks"].sum() / frame["impressions"].sum() == 0.01
    assert frame["spend"].sum() / frame["clicks"].sum() == 0.5  # CPC: 50.00 / 100, not the mean of 0.50 and 0.50


def test_conversions_are_the_primary_ones_and_stay_fractional(fake: FakeGoogleAds) -> None:
    """`metrics.conversions` holds only actions with include_in_conversions_metric, split by attribution
    into fractions: 0.4 + 1.35 + 0.25 stay 2.0 over the window, and no all_conversions column is read."""
    fake.rows[USD_ID] = [
        row("2024-03-03", 7, 1_000_000, conversions=0.4, value=12.5),
        row("2024-03-04", 7, 1_000_000, conversions=1.35, value=40.25),
        row("2024-03-05", 7, 1_000_000, conversions=0.25, value=7.25),
    ]
    load = pull(fake)

    chosen = selected(fake)
    assert {"metrics.conversions", "metrics.conversions_value"} <= chosen and chosen & OTHER_CONVERSIONS == set()
    assert load.frame["conversions"].tolist() == [0.4, 1.35, 0.25]
    assert round(load.frame["conversions"].sum(), 9) == 2.0 and load.frame["conversions_value"].sum() == 60.0
    assert load.conversion_definition == "gads:metrics.conversions"


def test_cost_micros_become_currency_units_without_losing_a_micro(fake: FakeGoogleAds) -> None:
    """`cost_micros` is an int64 of millionths: 1,234,567,891 micros are 1,234.567891 USD, and 30 days of
    33,333,333 micros add up to 999,999,990 micros exactly, in each account's own currency."""
    fake.rows[USD_ID] = [row("2024-03-01", 1, 1_234_567_891)]
    fake.rows[USD_ID] += [row(f"2024-03-{d:02d}", 2, 33_333_333) for d in range(1, 31)]
    fake.rows[VND_ID] = [row("2024-03-01", 3, 987_654_321_000_000, currency="VND", tz="Asia/Ho_Chi_Minh")]
    frame = pull(fake, USD_ID, VND_ID).frame

    frame["micros"] = (frame["spend"] * 1_000_000).round().astype("int64")
    per_campaign = frame.groupby(["campaign_id", "currency_code"])["micros"].sum().to_dict()
    assert per_campaign == {("1", "USD"): 1_234_567_891, ("2", "USD"): 999_999_990, ("3", "VND"): 987_654_321_000_000}
    assert frame.loc[frame["campaign_id"] == "1", "spend"].tolist() == [1234.567891]


def test_int64_ids_stay_exact_strings(fake: FakeGoogleAds) -> None:
    """Campaign ids are int64: above 2**53 a float or a JSON number would change them."""
    big = [2**63 - 1, 2**53 + 1]
    fake.rows[USD_ID] = [row("2024-03-01", campaign_id, 1_000_000) for campaign_id in big]
    frame = pull(fake).frame

    assert float(2**53 + 1) == 2**53  # what a float would have stored
    assert sorted(frame["campaign_id"]) == ["9007199254740993", "9223372036854775807"]
    assert set(frame["account_id"]) == {USD_ID} and frame["campaign_id"].map(type).eq(str).all()


def test_a_renamed_campaign_keeps_its_id_and_a_name_repeated_in_two_accounts_stays_two(fake: FakeGoogleAds) -> None:
    """Names are mutable and repeat across accounts; the grain keys on (account, campaign id)."""
    fake.rows[USD_ID] = [
        row("2024-03-01", 42, 1_000_000, name="Brand - old"),
        row("2024-03-02", 42, 2_000_000, name="Brand"),
    ]
    fake.rows[VND_ID] = [row("2024-03-02", 42, 3_000_000, name="Brand", currency="VND")]
    frame = pull(fake, USD_ID, VND_ID).frame

    got = frame[["account_id", "campaign_id", "campaign_name", "spend"]].values.tolist()
    assert got == [
        [USD_ID, "42", "Brand - old", 1.0],
        [USD_ID, "42", "Brand", 2.0],
        [VND_ID, "42", "Brand", 3.0],
    ]
    assert frame.groupby(["account_id", "campaign_id"])["spend"].sum().to_dict() == {
        (USD_ID, "42"): 3.0,
        (VND_ID, "42"): 3.0,
    }
