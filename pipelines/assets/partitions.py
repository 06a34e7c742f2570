"""Daily partitions per source time zone: a partition key is the account's own local day (`report_date`).

Sources that report in the same time zone share one DailyPartitionsDefinition, so one range run (one
job) can load all of them; each time zone gets its own jobs and schedules, because "yesterday" closes
at a different hour in Ho Chi Minh City and in Los Angeles.
"""

import datetime as dt
import re
from dataclasses import dataclass

import dagster as dg

from pipelines.lib.api_sources import first_day_needed, lookback, restatement
from pipelines.lib.spec import OkrDefs

DEFAULT_TIMEZONE = "UTC"


@dataclass(frozen=True)
class SourceGroup:
    """The sources of one time zone, the day their partitions start and how deep the schedules re-pull."""

    timezone: str
    sources: tuple[str, ...]
    start: dt.date
    lookback_days: int
    restatement_days: int
    suffix: str  # "" when there is one group, else "_<time zone>" for job and schedule names

    @property
    def partitions(self) -> dg.DailyPartitionsDefinition:
        return dg.DailyPartitionsDefinition(start_date=self.start.isoformat(), timezone=self.timezone)

    @property
    def raw_keys(self) -> list[dg.AssetKey]:
        return [dg.AssetKey(["raw", name]) for name in self.sources]


def source_timezone(defs: OkrDefs, name: str) -> str:
    return defs.sources[name].timezone or DEFAULT_TIMEZONE


def source_groups(defs: OkrDefs, today: dt.date | None = None) -> list[SourceGroup]:
    """One group per time zone, sorted; partitions start on the earliest day the definitions read
    (a KR window or a measured baseline) or a source's own `start_date`, whichever is earlier."""
    today = today or dt.date.today()
    needed = first_day_needed(defs, today)
    by_zone: dict[str, list[str]] = {}
    for name in sorted(defs.sources):
        by_zone.setdefault(source_timezone(defs, name), []).append(name)
    groups = []
    for zone, names in sorted(by_zone.items()):
        starts = [getattr(defs.sources[n], "start_date", None) for n in names]
        start = min([needed, *[s for s in starts if s]])
        suffix = "" if len(by_zone) == 1 else "_" + re.sub(r"[^a-z0-9]+", "_", zone.lower()).strip("_")
        groups.append(
            SourceGroup(
                timezone=zone,
                sources=tuple(names),
                start=min(start, today - dt.timedelta(days=1)),
                lookback_days=max(lookback(defs, n) for n in names),
                restatement_days=max(restatement(defs, n) for n in names),
                suffix=suffix,
            )
        )
    return groups


def window_of(context: dg.AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """The run's partition range as inclusive local days (a single-run backfill spans the whole range)."""
    tw = context.partition_time_window
    return tw.start.date(), (tw.end - dt.timedelta(days=1)).date()


def range_tags(start: dt.date, end: dt.date) -> dict[str, str]:
    """Run tags for a single run over a partition range (the literals Dagster's backfills use)."""
    return {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": end.isoformat(),
    }
