"""pull_window: the first run pulls from the first needed day; later runs fill the gap plus the look-back."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.windows import DateWindow, pull_window

D = dt.date


def test_first_run_pulls_from_the_first_needed_day():
    assert pull_window(None, D(2026, 2, 22), 30, D(2024, 9, 1)) == DateWindow(D(2024, 9, 1), D(2026, 2, 22))


def test_daily_run_re_pulls_the_look_back_window():
    window = pull_window(D(2026, 2, 21), D(2026, 2, 22), 28, D(2024, 9, 1))
    assert window == DateWindow(D(2026, 1, 26), D(2026, 2, 22)) and window.days == 28


def test_a_gap_longer_than_the_look_back_is_filled_from_the_day_after_the_last_load():
    window = pull_window(D(2025, 12, 31), D(2026, 2, 22), 7, D(2024, 9, 1))
    assert window == DateWindow(D(2026, 1, 1), D(2026, 2, 22)) and window.days == 53


def test_never_starts_before_the_first_needed_day():
    assert pull_window(D(2026, 2, 20), D(2026, 2, 22), 30, D(2026, 2, 10)) == DateWindow(D(2026, 2, 10), D(2026, 2, 22))


def test_rejects_a_zero_look_back_and_a_first_day_after_as_of():
    with pytest.raises(ValueError, match="lookback_days must be at least 1"):
        pull_window(D(2026, 2, 21), D(2026, 2, 22), 0, D(2024, 9, 1))
    with pytest.raises(ValueError, match="after as-of"):
        pull_window(None, D(2026, 2, 22), 7, D(2026, 3, 1))
