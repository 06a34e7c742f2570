"""Which days a source pulls on a run: everything on the first run, then the gap plus the restatement window.

Why a look-back: platforms restate recent days (Google Ads conversions keep landing through the conversion
window, Meta through its 28-day attribution window, GA4 for a few days), so every run re-pulls the trailing
`lookback_days` ending at as-of, and the write replaces that window.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple


class DateWindow(NamedTuple):
    """An inclusive range of account-local days."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def pull_window(last_loaded: dt.date | None, as_of: dt.date, lookback_days: int, first_day: dt.date) -> DateWindow:
    """Days to pull as of `as_of`.

    First run (`last_loaded` is None): first_day .. as_of. Later runs: min(last_loaded + 1, as_of − lookback + 1)
    .. as_of, never before first_day (nothing earlier is needed by any definition).
    """
    if lookback_days < 1:
        raise ValueError(f"lookback_days must be at least 1, got {lookback_days}")
    if first_day > as_of:
        raise ValueError(f"first day {first_day} is after as-of {as_of}")
    if last_loaded is None:
        return DateWindow(first_day, as_of)
    start = min(last_loaded + dt.timedelta(days=1), as_of - dt.timedelta(days=lookback_days - 1))
    return DateWindow(max(start, first_day), as_of)
