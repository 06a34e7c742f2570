"""Daily partitions of a source in a time zone with daylight saving time (America/New_York).

Why: a partition key is the account's local day. On the day clocks go forward (8 March 2026, 23 hours) or
back (1 November 2026, 25 hours) that day must still be one partition, the run's window (`window_of`) must
be exactly that one local day, and a load of it must store exactly that day's rows — never a day shifted
through UTC, and never an hour of the neighbouring day.

No `from __future__ import annotations`: Dagster reads the probe asset's context annotation at definition time.
"""

import datetime as dt
import zoneinfo
from pathlib import Path

import dagster as dg
import pytest

from pipelines.assets.automation import NIGHTLY_JOB, as_of_run_config
from pipelines.assets.build import build_assets, build_definitions, build_resources
from pipelines.assets.partitions import SourceGroup, range_tags, source_groups, window_of
from pipelines.lib import db
from pipelines.lib.spec import load_defs
from tests.reliability_kit import shop_defs, shop_rows

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
TODAY = dt.date(2026, 12, 1)
SPRING = dt.date(2026, 3, 8)  # 02:00 EST becomes 03:00 EDT
AUTUMN = dt.date(2026, 11, 1)  # 02:00 EDT becomes 01:00 EST
DAYS = [SPRING + dt.timedelta(days=d) for d in (-1, 0, 1)] + [AUTUMN + dt.timedelta(days=d) for d in (-1, 0, 1)]


@pytest.fixture
def defs_dir(tmp_path: Path) -> Path:
    """One file source in New York with one campaign on the three days around each change."""
    return shop_defs(
        tmp_path / "defs",
        shop_rows(DAYS, ["Search"]),
        (dt.date(2026, 3, 1), dt.date(2026, 11, 30)),
        timezone="America/New_York",
    )


def group_of(defs_dir: Path) -> SourceGroup:
    (group,) = source_groups(load_defs(defs_dir), TODAY)
    return group


def keys_between(group: SourceGroup, first: dt.date, last: dt.date) -> list[str]:
    return group.partitions.get_partition_keys_in_range(dg.PartitionKeyRange(first.isoformat(), last.isoformat()))


@pytest.mark.parametrize(("day", "hours", "offsets"), [(SPRING, 23, (-5, -4)), (AUTUMN, 25, (-4, -5))])
def test_partition_keys_are_the_local_days_around_a_dst_change(
    defs_dir: Path, day: dt.date, hours: int, offsets: tuple[int, int]
) -> None:
    group = group_of(defs_dir)
    assert (group.timezone, group.start) == ("America/New_York", dt.date(2026, 3, 1))
    before, after = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    assert keys_between(group, before, after) == [before.isoformat(), day.isoformat(), after.isoformat()]

    window = group.partitions.time_window_for_partition_key(day.isoformat())
    assert (window.start, window.end) == (
        dt.datetime(day.year, day.month, day.day, tzinfo=NEW_YORK),  # local midnight to local midnight
        dt.datetime(after.year, after.month, after.day, tzinfo=NEW_YORK),
    )
    assert [window.start.utcoffset(), window.end.utcoffset()] == [dt.timedelta(hours=h) for h in offsets]
    assert window.end.astimezone(dt.UTC) - window.start.astimezone(dt.UTC) == dt.timedelta(hours=hours)


def probe(group: SourceGroup, seen: list[tuple[dt.date, dt.date]]) -> dg.AssetsDefinition:
    """An asset on the source's partitions that records the window its run covers."""

    @dg.asset(partitions_def=group.partitions)
    def window_probe(context: dg.AssetExecutionContext) -> None:
        seen.append(window_of(context))

    return window_probe


@pytest.mark.parametrize("day", [SPRING, AUTUMN])
def test_the_window_of_a_dst_day_is_that_one_local_day(defs_dir: Path, day: dt.date) -> None:
    seen: list[tuple[dt.date, dt.date]] = []
    asset = probe(group_of(defs_dir), seen)
    before, after = day - dt.timedelta(days=1), day + dt.timedelta(days=1)

    assert dg.materialize([asset], partition_key=day.isoformat()).success
    assert dg.materialize([asset], tags=range_tags(before, after)).success  # a range across the change
    assert seen == [(day, day), (before, after)]


def stored(database: Path) -> list[tuple[dt.date, str, float]]:
    with db.connect(database, read_only=True) as conn:
        return conn.execute(
            "SELECT report_date, account_timezone, value FROM raw.file_exports WHERE metric = 'clicks' ORDER BY ALL"
        ).fetchall()


def test_loading_a_dst_day_partition_stores_exactly_that_days_rows(defs_dir: Path, tmp_path: Path) -> None:
    database = tmp_path / "okr.duckdb"
    (raw,) = [a for a in build_assets(defs_dir, today=TODAY) if dg.AssetKey(["raw", "shop"]) in a.keys]
    resources = build_resources(defs_dir, database)
    for day in (SPRING, AUTUMN):
        config = as_of_run_config([raw], day)
        assert dg.materialize([raw], resources=resources, run_config=config, partition_key=day.isoformat()).success
    # shop_rows: 10 + 3·(index of the day) clicks; 8 March is the 2nd day listed, 1 November the 5th
    assert [(d, tz, float(v)) for d, tz, v in stored(database)] == [
        (SPRING, "America/New_York", 13.0),
        (AUTUMN, "America/New_York", 22.0),
    ]


def test_the_nightly_tick_on_a_dst_morning_asks_for_the_local_yesterday(defs_dir: Path, tmp_path: Path) -> None:
    defs = build_definitions(defs_dir, tmp_path / "okr.duckdb", today=TODAY)
    nightly = defs.resolve_schedule_def(f"{NIGHTLY_JOB}_schedule")
    assert (nightly.cron_schedule, nightly.execution_timezone) == ("0 6 * * *", "America/New_York")
    with dg.instance_for_test() as instance:
        for morning in (SPRING + dt.timedelta(days=1), AUTUMN + dt.timedelta(days=1)):
            when = dt.datetime(morning.year, morning.month, morning.day, 6, tzinfo=NEW_YORK)
            context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
            (request,) = nightly.evaluate_tick(context).run_requests
            assert request.tags["dagster/asset_partition_range_end"] == (morning - dt.timedelta(days=1)).isoformat()
