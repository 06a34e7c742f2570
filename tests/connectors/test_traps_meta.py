"""Meta Ads against the correctness traps of the source-API reference (docs/platform-traps.md), on the Graph fake.

Each test pins one trap with numbers a wrong implementation would get wrong: a ratio or distinct-count field
that must never be requested, decimal strings that float arithmetic would round, every throttling code Meta
documents, and a Graph version other than the pinned one.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from connectors.ads_retry import RetryPolicy
from connectors.errors import SourceApiError
from connectors.meta_ads import MetaAdsConfig, read_meta_ads
from connectors.meta_graph import GRAPH_VERSION
from tests.connectors.test_meta_ads import ACCOUNT, JAN, TOKEN, insight, purchase
from tests.fakes.meta_server import FakeAdAccount, FakeGraph, ScriptedError, serve_graph, usage_header

# Fields Meta computes per row that must never reach a sum: ratios (trap 1) and distinct counts (trap 2).
RATIO_FIELDS = {"ctr", "cpc", "cpm", "cpp", "purchase_roas", "website_purchase_roas", "cost_per_action_type"}
DISTINCT_FIELDS = {"reach", "frequency", "unique_clicks", "unique_ctr", "unique_inline_link_clicks"}


class Sleeps(list):
    """The waits the retry policy asks for, recorded instead of slept."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGraph]:
    monkeypatch.setenv("META_ACCESS_TOKEN", TOKEN)
    fake = FakeGraph(token=TOKEN, accounts={ACCOUNT: FakeAdAccount("America/Los_Angeles", "USD")})
    with serve_graph(fake):
        yield fake


def config(fake: FakeGraph, **overrides: object) -> MetaAdsConfig:
    settings: dict = {"name": "meta", "account_ids": (f"act_{ACCOUNT}",), "base_url": fake.base_url}
    return MetaAdsConfig(**(settings | overrides))


def test_no_ratio_or_distinct_count_field_is_requested_so_none_can_be_summed(graph: FakeGraph) -> None:
    """CTR, CPC and ROAS are ratios of sums the scoring computes itself; reach and frequency are distinct
    counts that no sum of days or campaigns can give. The connector asks Meta for none of them."""
    graph.accounts[ACCOUNT].rows = [
        insight("2024-01-02", spend="30.00", impressions="1000", link_clicks="10"),
        insight("2024-01-03", spend="10.00", impressions="3000", link_clicks="50"),
    ]
    load = read_meta_ads(config(graph), *JAN, retry=RetryPolicy(sleep=Sleeps()))

    (request,) = [r for r in graph.received if r.path.endswith("/insights")]
    fields = set(request.params["fields"].split(","))
    assert fields & (RATIO_FIELDS | DISTINCT_FIELDS) == set()
    assert {"spend", "impressions", "inline_link_clicks"} <= fields  # the parts a ratio of sums is made of
    frame = load.frame
    assert frame["clicks"].sum() / frame["impressions"].sum() == 60 / 4000  # window CTR from the parts: 1.5 %
    assert frame["spend"].sum() / frame["clicks"].sum() == 40 / 60  # window CPC, not the mean of 3.00 and 0.20


def test_action_values_are_added_as_decimals_never_as_floats(graph: FakeGraph) -> None:
    """0.1 + 0.2 is 0.30000000000000004 in floats: the 7-day-click and 1-day-view values of one purchase are
    parsed with Decimal and added exactly, and so is a spend string with more digits than a float keeps."""
    graph.accounts[ACCOUNT].rows = [
        insight(
            "2024-01-04",
            spend="1234567.07",
            actions=[purchase("2", click="1", view="1")],
            values=[purchase("0.3", click="0.1", view="0.2")],
        )
    ]
    load = read_meta_ads(config(graph), *JAN, retry=RetryPolicy(sleep=Sleeps()))

    assert 0.1 + 0.2 != 0.3  # what adding floats would have stored
    assert load.frame[["spend", "conversions", "conversions_value"]].values.tolist() == [[1234567.07, 2.0, 0.3]]


@pytest.mark.parametrize(
    ("code", "minutes"),
    [(4, 1), (17, 2), (32, 3), (613, 4), (80000, 5), (80004, 2)],
    ids=["4-app", "17-user", "32-page", "613-rate", "80000-insights", "80004-ad-account"],
)
def test_every_throttling_code_waits_for_estimated_time_to_regain_access(
    graph: FakeGraph, code: int, minutes: int
) -> None:
    """Meta's throttling answers (HTTP 400, codes 4/17/32/613/80000/80004) are retried after the wait the
    `x-business-use-case-usage` header asks for, and the load then reads every row once."""
    graph.accounts[ACCOUNT].rows = [insight("2024-01-05", spend="12.34", impressions="500", link_clicks="7")]
    graph.errors = [ScriptedError(code, "Too many calls", headers=usage_header(ACCOUNT, minutes))]
    sleeps = Sleeps()

    load = read_meta_ads(config(graph), *JAN, retry=RetryPolicy(sleep=sleeps, rng=random.Random(0)))

    assert sleeps == [minutes * 60.0]
    assert (load.retries, load.requests, load.rows) == (1, 3, 1)
    assert load.frame[["spend", "impressions", "clicks"]].values.tolist() == [[12.34, 500.0, 7.0]]


def test_the_pinned_graph_version_is_called_and_another_fails_naming_the_code(graph: FakeGraph) -> None:
    """The version is pinned in the connector (and in sources.yaml's api_version when set); a version the
    API no longer serves is a clear error, not a silent change of fields."""
    graph.accounts[ACCOUNT].rows = [insight("2024-01-06", spend="1.00")]
    read_meta_ads(config(graph), *JAN, retry=RetryPolicy(sleep=Sleeps()))
    assert GRAPH_VERSION == "v26.0"
    assert {r.path.split("/")[1] for r in graph.received} == {GRAPH_VERSION}

    graph.received.clear()
    with pytest.raises(SourceApiError, match=r"Graph API error 2635 .*Unsupported version") as caught:
        read_meta_ads(config(graph, api_version="v19.0"), *JAN, retry=RetryPolicy(sleep=Sleeps()))
    assert caught.value.code == "2635" and len(graph.received) == 1  # not retried
