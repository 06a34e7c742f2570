"""Conversions of different definitions added into one number: allowed, never silent (platform trap 8).

Google Ads counts its primary conversion actions, Meta the one `action_type` a source configures, GA4 the
key events a source maps, a file export whatever its column holds. A KR on `conversions` (or a CPA / ROAS
over it) whose filters leave several of these in adds them up. A cross-platform CPA is often exactly what
is wanted, so this is a warning of `okr validate` naming each definition, never an error; `okr explain`
then lists the definitions of the rows actually behind the value (they are stored with every row).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.lib.spec.checks import stored_measures
from pipelines.lib.spec.errors import DefsError
from pipelines.lib.spec.models import (
    ColumnRef,
    CountRows,
    FileSource,
    Ga4Source,
    GoogleAdsSource,
    KeyResult,
    Kpi,
    MetaAdsSource,
    Source,
)
from pipelines.lib.spec.period_checks import source_selected, value_matches

if TYPE_CHECKING:
    from pipelines.lib.spec.loader import Anchor, OkrDefs

# The stored measures whose meaning depends on what a platform calls a conversion.
CONVERSION_MEASURES = ("conversions", "conversions_value")
# The channel an ads API source gives every row unless sources.yaml sets one (pipelines/lib/api_sources.py).
DEFAULT_CHANNEL = {"google_ads": "Paid Search", "meta_ads": "Paid Social"}


def conversion_measures(defs: OkrDefs, metric: str | None) -> list[str]:
    """The conversion measures a catalogue metric reads (directly, or as part of a ratio or expression)."""
    if metric is None or metric not in defs.metrics:
        return []
    return sorted(stored_measures(defs, metric) & set(CONVERSION_MEASURES))


def file_conversion_columns(src: FileSource) -> dict[str, str]:
    """What a file source stores as each conversion measure: its column, or a count of rows."""
    out = {}
    for measure in CONVERSION_MEASURES:
        mapping = src.metrics.get(measure)
        if mapping is None:
            continue
        if isinstance(mapping, CountRows) or mapping == "count":
            out[measure] = "(count of rows)"
        else:
            out[measure] = mapping.column if isinstance(mapping, ColumnRef) else mapping
    return out


def file_conversion_definition(src: FileSource) -> str | None:
    """The `conversion_definition` stored with a file load's rows (None when it maps no conversion measure),
    in the form the API loads use: `file:conversions=Purchases,conversions_value=Purchase value`."""
    columns = file_conversion_columns(src)
    return "file:" + ",".join(f"{m}={c}" for m, c in columns.items()) if columns else None


def describe_definition(src: Source, measures: list[str]) -> str:
    """What the source counts as a conversion, in the words of sources.yaml (for the validate warning)."""
    if isinstance(src, GoogleAdsSource):
        return "Google Ads primary conversions (metrics.conversions)"
    if isinstance(src, MetaAdsSource):
        return f"Meta action_type {src.conversion_action_type} ({'+'.join(src.attribution_windows)})"
    if isinstance(src, Ga4Source):
        return "GA4 " + ", ".join(f"{m} = {src.metrics[m]}" for m in measures if m in src.metrics)
    columns = file_conversion_columns(src)
    mapped = ", ".join(
        f"{m} = {c}" if c.startswith("(") else f"{m} = column {c!r}" for m, c in columns.items() if m in measures
    )
    return f"{src.platform} export, {mapped}"


def _constant_channel(src: Source) -> str | None:
    """The channel every row of the source carries, when it is fixed (None when the data says)."""
    if isinstance(src, FileSource):
        return src.channel if isinstance(src.channel, str) else None
    if isinstance(src, GoogleAdsSource | MetaAdsSource):
        return src.channel or DEFAULT_CHANNEL[src.platform]
    return None


def conversion_definitions(defs: OkrDefs, item: KeyResult | Kpi) -> dict[str, list[str]]:
    """{definition: source names} of the sources whose conversions can reach the KR's value: they map one of
    its conversion measures and its platform, source, account and (fixed) channel filters leave them in."""
    measures = conversion_measures(defs, item.metric)
    found: dict[str, list[str]] = {}
    channel = dict(item.filters.items()).get("channel")
    for name, src in sorted(defs.sources.items()):
        if not set(measures) & set(src.metrics) or not source_selected(name, src, item.filters):
            continue
        fixed = _constant_channel(src)
        if channel is not None and fixed is not None and not value_matches(fixed, channel):
            continue
        found.setdefault(describe_definition(src, measures), []).append(name)
    return found


def check_conversions(defs: OkrDefs) -> list[DefsError]:
    """A warning at each KR and KPI that adds conversions of two or more definitions."""
    return [warning for item, anchor, who in defs.measured() for warning in _warn(defs, item, anchor, who)]


def _warn(defs: OkrDefs, item: KeyResult | Kpi, anchor: Anchor, who: str) -> list[DefsError]:
    found = conversion_definitions(defs, item)
    if len(found) < 2:
        return []
    listed = "; ".join(f"{', '.join(names)}: {definition}" for definition, names in found.items())
    return [
        anchor.error(
            f"{who}: metric {item.metric!r} adds up conversions of {len(found)} different definitions ({listed}). "
            "Each counts a different event, so the total mixes them: keep it if a cross-platform figure is meant "
            "(`okr explain` lists the definitions behind the value), or filter on one platform or source",
            warning=True,
        )
    ]
