"""The time zone a source declares in sources.yaml against the one its platform reports (platform trap 4).

The declared zone decides a source's daily partitions, which day "yesterday" is for its nightly run, and
which days are still unsettled; the zone the API reports only reaches `account_timezone`. When the two
differ, every one of those is off by the difference, without a wrong-looking number anywhere: so a load
whose accounts report another zone than the declared one is rejected, and a source that declares none is
told which zone to declare.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipelines.lib.spec import OkrDefs

PLATFORM = {"google_ads": ("Google Ads", "customer"), "meta_ads": ("Meta", "ad account"), "ga4": ("GA4", "property")}


@dataclass(frozen=True)
class ZoneCheck:
    """What the comparison found for one load.

    - declared: `timezone` from sources.yaml (None when omitted);
    - reported: {account: zone} as the API reported it;
    - mismatch: why the load must be rejected (declared, and an account reports another zone);
    - advice: a warning for a source that declares no zone (what to write in sources.yaml);
    - misdated: no zone is declared and the days are counted in a zone other than the reported one.
    """

    declared: str | None
    reported: dict[str, str]
    mismatch: str | None = None
    advice: str | None = None
    misdated: bool = False

    @property
    def reported_text(self) -> str:
        return ", ".join(sorted(set(self.reported.values())))


def _compiled(name: str) -> bytes | None:
    """The compiled rules (TZif) of an IANA zone, read where zoneinfo reads them: TZPATH, then tzdata."""
    try:
        zoneinfo.ZoneInfo(name)  # also refuses names that are paths (`../x`), before any file is opened
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None
    for root in zoneinfo.TZPATH:
        path = Path(root, name)
        if path.is_file():
            return path.read_bytes()
    try:
        return resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).read_bytes()
    except (ModuleNotFoundError, OSError):
        return None


def same_zone(a: str, b: str) -> bool:
    """Equal names, or two names of one zone (`Asia/Saigon` is `Asia/Ho_Chi_Minh`, `Etc/UTC` is `UTC`).

    Aliases share their rules file; two distinct zones that happen to share today's offset (Bangkok and
    Ho Chi Minh City) do not, and are reported: the declared name is not the platform's zone.
    """
    if a == b:
        return True
    rules = _compiled(a)
    return rules is not None and rules == _compiled(b)


def _where(defs: OkrDefs, name: str) -> str:
    """`sources.yaml line N` of the source's `timezone` key (or of the source's name, when it has none)."""
    anchor = defs.where.get(f"source:{name}")
    if anchor is None:
        return "sources.yaml"
    loc = (*anchor.loc, "timezone")
    line = anchor.doc.key_pos(loc if anchor.doc.has(loc) else anchor.loc).line
    return f"{anchor.file.name} line {line}"


def compare(defs: OkrDefs, name: str, reported: dict[str, str | None], default: str) -> ZoneCheck:
    """Compare source `name`'s declared zone with the zones its accounts reported in this load.

    `default` is the zone the partitions use when none is declared. Accounts that reported no zone (a GA4
    answer without rows) are left out.
    """
    src = defs.sources[name]
    declared = src.timezone
    zones = {account: zone for account, zone in sorted(reported.items()) if zone}
    check = ZoneCheck(declared, zones)
    if not zones:
        return check
    platform, unit = PLATFORM.get(src.type, (src.platform, "account"))
    distinct = sorted(set(zones.values()))
    if len(distinct) > 1 and not all(same_zone(distinct[0], z) for z in distinct[1:]):
        per_account = ", ".join(f"{unit} {account}: {zone}" for account, zone in zones.items())
        split = (
            f"the {platform} accounts of source {name} report {len(distinct)} time zones ({per_account}), but a "
            "source has one time zone: put the accounts of each zone in a source of their own, each with its "
            "`timezone:` in sources.yaml"
        )
        if declared is not None:
            return ZoneCheck(declared, zones, mismatch=f"{split}; nothing was loaded")
        return ZoneCheck(declared, zones, advice=split, misdated=True)
    zone = distinct[0]
    per_account = f"{unit}{'s' if len(zones) > 1 else ''} {', '.join(zones)}"
    if declared is not None:
        if same_zone(declared, zone):
            return check
        return ZoneCheck(
            declared,
            zones,
            mismatch=(
                f"source {name}: sources.yaml declares timezone {declared}, but the {platform} API reports {zone} "
                f"({per_account}); its days, partitions, 'yesterday' and is_settled would be counted in the wrong "
                f"zone, so nothing was loaded. If the account's zone is right, write `timezone: {zone}` for "
                f"source {name} ({_where(defs, name)}) and run again"
            ),
        )
    misdated = not same_zone(default, zone)
    found = (
        f"while the {platform} API reports {zone} ({per_account}): every day is off by the difference"
        if misdated
        else f"and the {platform} API reports {zone} too ({per_account})"
    )
    return ZoneCheck(
        declared,
        zones,
        advice=(
            f"source {name} declares no timezone in sources.yaml, so its partitions, 'yesterday' and is_settled "
            f"are counted in {default} {found}. Write `timezone: {zone}` for source {name} ({_where(defs, name)}) "
            "so that the platform's zone is checked on every load"
        ),
        misdated=misdated,
    )
