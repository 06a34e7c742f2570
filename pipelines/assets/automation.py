"""Jobs and schedules: a nightly refresh and a weekly restatement re-pull per source time zone.

Both are single runs over a partition range of the raw assets, followed in the same run by the mart,
the scores (with history) and the report. The nightly range is yesterday plus the look-back days the
platforms restate, widened back to the earliest day not yet loaded (so a first tick, or a tick after an
outage, catches up by itself); the weekly range is each source's full restatement window.
"""

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import Any

import dagster as dg

from pipelines.assets.partitions import SourceGroup, range_tags

NIGHTLY_JOB = "okr_nightly"
RESTATEMENT_JOB = "okr_restatement"
# define_asset_job's return type is not exported by dagster; jobs are passed through untouched.
AssetJob = Any
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def takes_as_of(asset: dg.AssetsDefinition) -> bool:
    fields = getattr(asset.op.config_schema.config_type, "fields", None) or {}
    return "as_of" in fields


def as_of_run_config(assets: Sequence[dg.AssetsDefinition], as_of: dt.date) -> dg.RunConfig:
    """The as-of date for every step that takes it (raw loads, scoring, the report)."""
    return dg.RunConfig(ops={a.op.name: {"config": {"as_of": as_of.isoformat()}} for a in assets if takes_as_of(a)})


def refresh_selection(group: SourceGroup) -> dg.AssetSelection:
    """The group's raw assets and everything downstream of them (mart, scores, history, report)."""
    return dg.AssetSelection.assets(*group.raw_keys).downstream()


def refresh_job(name: str, group: SourceGroup, description: str) -> AssetJob:
    return dg.define_asset_job(name + group.suffix, selection=refresh_selection(group), description=description)


def job_assets(group: SourceGroup, assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The assets a group's jobs run: its run config may name only their steps (Dagster rejects the rest),
    e.g. not the GA4 period query when the group's sources are files."""
    keys = refresh_selection(group).resolve(assets)
    return [a for a in assets if set(a.keys) & keys]


def last_complete_day(when: dt.datetime, timezone: str) -> dt.date:
    """Yesterday in the group's time zone: the newest day a platform has closed."""
    return when.astimezone(zoneinfo.ZoneInfo(timezone)).date() - dt.timedelta(days=1)


def earliest_missing(instance: dg.DagsterInstance, group: SourceGroup, end: dt.date) -> dt.date | None:
    """The first day up to `end` that some raw asset of the group has never materialized."""
    keys = set(
        group.partitions.get_partition_keys_in_range(dg.PartitionKeyRange(group.start.isoformat(), end.isoformat()))
    )
    missing = set()
    for key in group.raw_keys:
        missing |= keys - instance.get_materialized_partitions(key)
    return dt.date.fromisoformat(min(missing)) if missing else None


def range_request(
    group: SourceGroup,
    assets: Sequence[dg.AssetsDefinition],
    end: dt.date,
    depth_days: int,
    instance: dg.DagsterInstance | None,
    kind: str,
) -> dg.RunRequest:
    """One run over [start, end]: the last `depth_days` days, or from the earliest day never loaded."""
    start = end - dt.timedelta(days=depth_days - 1)
    if instance is not None:
        missing = earliest_missing(instance, group, end)
        start = min(start, missing) if missing else start
    start = max(start, group.start)
    return dg.RunRequest(
        run_key=f"{kind}{group.suffix}:{end.isoformat()}",
        tags=range_tags(start, end) | {"okr/trigger": kind},
        run_config=as_of_run_config(assets, end),
    )


def build_automation(
    groups: list[SourceGroup], assets: Sequence[dg.AssetsDefinition], hour: int, weekday: str
) -> tuple[list[AssetJob], list[dg.ScheduleDefinition]]:
    jobs, schedules = [], []
    for group in groups:
        in_job = job_assets(group, assets)
        nightly = refresh_job(
            NIGHTLY_JOB,
            group,
            f"Yesterday plus the last {group.lookback_days} days (restated by the platforms) for sources in "
            f"{group.timezone}, then the mart, scores, history and report.",
        )
        weekly = refresh_job(
            RESTATEMENT_JOB,
            group,
            f"Re-pull the full restatement window ({group.restatement_days} days) for sources in "
            f"{group.timezone}, then rescore.",
        )
        jobs += [nightly, weekly]
        schedules.append(_schedule(nightly, group, in_job, f"0 {hour} * * *", group.lookback_days, "nightly"))
        cron = f"0 {hour} * * {(WEEKDAYS.index(weekday) + 1) % 7}"
        schedules.append(_schedule(weekly, group, in_job, cron, group.restatement_days, "restatement"))
    return jobs, schedules


def _schedule(
    job: AssetJob,
    group: SourceGroup,
    assets: Sequence[dg.AssetsDefinition],
    cron: str,
    depth_days: int,
    kind: str,
) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{job.name}_schedule",
        cron_schedule=cron,
        job=job,
        execution_timezone=group.timezone,
        description=f"{job.description} Runs at {cron} ({group.timezone}).",
    )
    def _tick(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        end = last_complete_day(context.scheduled_execution_time, group.timezone)
        return range_request(group, assets, end, depth_days, context.instance, kind)

    return _tick
