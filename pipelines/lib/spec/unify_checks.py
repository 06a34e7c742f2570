"""Checks for the settings that unify sources: reporting currency, exchange rates and campaign links.

`okr validate` reports here what the nightly mart build would otherwise fail on (a file source in another
currency with no rates to convert it, a link naming a source that does not exist), each at the key to fix.
API sources learn their currency only when pulled; the mart build checks those.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.lib.spec.checks import suggest
from pipelines.lib.spec.errors import DefsError
from pipelines.lib.spec.models import BaseMetric, FileSource

if TYPE_CHECKING:
    from pipelines.lib.spec.loader import OkrDefs


def money_metrics(defs: OkrDefs) -> set[str]:
    """Catalogue base metrics measured in money (`unit: currency`): the ones the mart converts."""
    return {name for name, m in defs.metrics.items() if isinstance(m, BaseMetric) and m.unit == "currency"}


def check_unification(defs: OkrDefs) -> list[DefsError]:
    return [*_check_currencies(defs), *_check_links(defs)]


def _check_currencies(defs: OkrDefs) -> list[DefsError]:
    errors = []
    settings = defs.where.get("file:sources")
    if settings is not None and defs.fx_rates is not None and defs.reporting_currency is None:
        errors.append(
            settings.error("fx_rates: set reporting_currency, the currency money is converted into", "fx_rates")
        )
    target = defs.reporting_currency
    if target is None:
        return errors
    money = money_metrics(defs)
    for key, source in defs.sources.items():
        paid = sorted(money & set(source.metrics)) if isinstance(source, FileSource) else []
        if not paid:
            continue
        anchor = defs.where[f"source:{key}"]
        if source.currency is None:
            errors.append(
                anchor.error(
                    f"source {key}: maps money metric(s) {', '.join(paid)} but has no currency; "
                    f"set currency so they can be converted to the reporting currency {target}",
                    "currency",
                )
            )
        elif source.currency != target and defs.fx_rates is None:
            errors.append(
                anchor.error(
                    f"source {key}: money is in {source.currency} but reporting_currency is {target}; "
                    "add fx_rates to sources.yaml to convert it",
                    "currency",
                )
            )
    return errors


def _check_links(defs: OkrDefs) -> list[DefsError]:
    errors = []
    known = sorted(defs.sources)
    seen: dict[tuple, int] = {}
    for link in defs.campaign_map:
        anchor = defs.anchor(link)
        for side, wants_ga4 in (("ga4", True), ("ads", False)):
            name = getattr(link, side).source
            if name is None:
                continue
            source = defs.sources.get(name)
            if source is None:
                errors.append(
                    anchor.error(f"{side}.source: unknown source {name!r}{suggest(name, known)}", side, "source")
                )
            elif (source.platform == "ga4") != wants_ga4:
                kind = "a GA4 source" if wants_ga4 else "an ad platform source (not GA4)"
                errors.append(
                    anchor.error(
                        f"{side}.source: {name!r} has platform {source.platform}; {side} names {kind}", side, "source"
                    )
                )
        identity = (link.ga4.model_dump_json(), link.ads.model_dump_json())
        if identity in seen:
            errors.append(anchor.error(f"the same link as line {seen[identity]}", warning=True))
        else:
            seen[identity] = anchor.line
    return errors
