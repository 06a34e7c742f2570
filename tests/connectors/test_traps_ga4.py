"""GA4 against the correctness traps of the source-API reference (docs/platform-traps.md) that the GA4 connector
tests leave out: the `Unassigned` channel, a property time zone changed during a load, and key events counted
for one event name. The real google-analytics-data client talks to the fake Data API on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.errors import Ga4Error
from connectors.ga4 import fetch_daily
from pipelines.lib import api_sources
from pipelines.lib.spec import load_defs
from tests.conftest import write_defs
from tests.connectors.test_ga4 import PROPERTY, config, table
from tests.fakes import ga4_server
from tests.fakes.ga4_server import FakeGa4Server, FakeProperty

D = dt.date


@pytest.fixture
def fake() -> Iterator[FakeGa4Server]:
    with FakeGa4Server() as server:
        yield server
    assert server.problems == []  # every request the connector sent was one GA4 accepts


def test_unassigned_channel_stays_a_row_of_its_own(fake: FakeGa4Server) -> None:
    """`Unassigned` means no channel rule matched: it is real traffic, kept apart from (not set) and Direct,
    so the channel totals and the day's total still add up to every session GA4 counted."""
    rows = [
        ("20240301", "(not set)", "(not set)", "Unassigned", "partner.example / affiliate", 70, 1.0, 25.0),
        ("20240301", "(not set)", "(not set)", "Direct", "(direct) / (none)", 200, 2.0, 45.5),
        ("20240301", "444", "odd_utm", "Unassigned", "newsletter / e-mail", 12, 0.0, 0.0),
        ("20240301", "111", "Spring Sale", "Paid Search", "google / cpc", 120, 3.0, 59.97),
    ]
    fake.properties[PROPERTY] = FakeProperty(table(rows))
    frame = fetch_daily(config(fake), D(2024, 3, 1), D(2024, 3, 1)).frame

    by_channel = frame.groupby("channel")["sessions"].sum().to_dict()
    assert by_channel == {"Direct": 200.0, "Paid Search": 120.0, "Unassigned": 82.0}
    unassigned = frame[frame["channel"] == "Unassigned"][["campaign_id", "source_medium", "sessions", "revenue"]]
    assert unassigned.values.tolist() == [
        ["(not set)", "partner.example / affiliate", 70.0, 25.0],
        ["444", "newsletter / e-mail", 12.0, 0.0],
    ]
    assert frame["sessions"].sum() == 402.0


class ZoneChangedAfterFirstCall(FakeGa4Server):
    """A property whose time zone is changed in GA4 Admin while a load is paging through it."""

    def handle(self, path: str, body: dict, authorization: str | None) -> tuple[int, dict, float]:
        if len(self.received) == 1:
            self.properties[PROPERTY].time_zone = "Asia/Ho_Chi_Minh"
        return super().handle(path, body, authorization)


def test_a_time_zone_changed_during_a_load_fails_instead_of_mixing_two_kinds_of_day() -> None:
    """GA4's `metadata.timeZone` is the property's current zone: pages under two zones would mix days cut at
    different hours under one `account_timezone`, so the load fails and writes nothing."""
    rows = [(f"2024030{d}", "111", "A", "Paid Search", "google / cpc", d, 0.0, 0.0) for d in range(1, 8)]
    with ZoneChangedAfterFirstCall() as fake:
        fake.properties[PROPERTY] = FakeProperty(table(rows), time_zone="America/Los_Angeles")
        with pytest.raises(Ga4Error) as caught:
            fetch_daily(config(fake, page_size=3), D(2024, 3, 1), D(2024, 3, 7))
    assert (len(fake.api_calls), fake.problems) == (2, [])
    assert str(caught.value) == (
        f"source 'web', GA4 property {PROPERTY}: the property's time zone changed during the load "
        "(America/Los_Angeles → Asia/Ho_Chi_Minh); run the load again"
    )


def test_key_events_of_one_event_name_are_the_conversion_and_are_recorded(
    fake: FakeGa4Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`keyEvents` counts every key event (sign-ups, leads, purchases); `keyEvents:purchase` counts one event.
    A source maps the one it means, GA4 is asked for exactly that metric, and the rows record it."""
    monkeypatch.setitem(ga4_server.METRICS, "keyEvents:purchase", ga4_server.FLOAT)
    data = table(
        [
            ("20260105", "111", "Spring Sale", "Paid Search", "google / cpc", 120, 9.0, 59.97),
            ("20260106", "111", "Spring Sale", "Paid Search", "google / cpc", 80, 4.0, 19.99),
        ]
    )
    data["keyEvents:purchase"] = [3.0, 1.0]  # of the 9 and 4 key events, these were purchases
    fake.properties[PROPERTY] = FakeProperty(data)
    defs = load_defs(
        write_defs(
            tmp_path / "okr_defs",
            {
                "sources.yaml": f"""
sources:
  web:
    type: ga4
    property_id: "{PROPERTY}"
    metrics: {{sessions: sessions, purchases: "keyEvents:purchase"}}
    endpoint: "{fake.endpoint}"
    credentials: anonymous
""",
                "metrics.yaml": "metrics:\n  sessions: {agg: sum}\n  purchases: {agg: sum}\n",
                "objectives/o.yaml": """
objectives:
  - id: o
    title: Purchases
    period: {start: 2026-01-01, end: 2026-01-31}
    key_results:
      - {id: purchases, metric: purchases, baseline: 0, target: 100}
""",
            },
        )
    )
    pulled = api_sources.pull(defs, "web", (D(2026, 1, 5), D(2026, 1, 6)), D(2026, 1, 6))

    assert [m["name"] for m in fake.reports_sent()[0]["metrics"]] == ["sessions", "keyEvents:purchase"]
    assert pulled.frame["purchases"].tolist() == [3.0, 1.0]
    assert pulled.conversion_definition == "ga4:sessions,keyEvents:purchase"


class CountsConcurrentCalls(FakeGa4Server):
    """Records how many API calls were in flight at once (each answer is held back a little so overlaps show)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._gauge = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0

    def handle(self, path: str, body: dict, authorization: str | None) -> tuple[int, dict, float]:
        with self._gauge:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(0.05)
            return super().handle(path, body, authorization)
        finally:
            with self._gauge:
                self.in_flight -= 1


def test_a_load_sends_one_call_at_a_time_far_under_the_concurrency_quota() -> None:
    """GA4 allows 10 concurrent requests per property; a load pages its 12 one-day reports through three
    batchRunReports calls, one after the other, and reads the quota it was told is left."""
    rows = [(f"202403{d:02d}", "111", "A", "Paid Search", "google / cpc", d, 0.0, 0.0) for d in range(1, 13)]
    with CountsConcurrentCalls() as fake:
        fake.properties[PROPERTY] = FakeProperty(table(rows))
        load = fetch_daily(config(fake, chunk_days=1), D(2024, 3, 1), D(2024, 3, 12))
    assert (len(fake.api_calls), fake.most_in_flight, fake.problems) == (3, 1, [])
    assert (load.reports, load.tokens_consumed, load.tokens_remaining_hour) == (12, 36, 40_000 - 36)
    assert load.frame["sessions"].sum() == sum(range(1, 13))
