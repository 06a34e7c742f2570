"""Bounded retries with exponential backoff and jitter, shared by the ad-platform connectors.

Why a policy object: a nightly run must neither hammer a throttled API nor hang on one. Every wait is capped,
the number of attempts is capped, and a server that says "come back in an hour" makes the load fail at once
with that message instead of sleeping through the night. `sleep` and `rng` are injectable so tests run
instantly and can check the exact waits.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Transient:
    """Why a failed call may succeed if tried again, and how long the server asked us to wait (seconds)."""

    reason: str
    wait_hint: float | None = None


class RetriesExhausted(Exception):
    """A transient failure persisted through every allowed attempt (or the server asked for too long a wait)."""

    def __init__(self, last: Transient, attempts: int, gave_up_early: bool = False):
        self.last = last
        self.attempts = attempts
        self.gave_up_early = gave_up_early
        if gave_up_early:
            message = f"{last.reason}; the server asks to wait {last.wait_hint:.0f} s, more than allowed"
        else:
            message = f"{last.reason}; still failing after {attempts} attempt(s)"
        super().__init__(message)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with "equal jitter": wait in [b/2, b] where b = base · 2^(retry-1), capped.

    A server hint (e.g. Meta's estimated_time_to_regain_access, Google Ads' retry_delay) raises the wait to at
    least the hint; a hint above `max_delay` ends the retries at once.
    """

    max_attempts: int = 5
    base_delay: float = 2.0
    max_delay: float = 300.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def delay(self, retry: int, hint: float | None = None) -> float:
        """Seconds to wait before retry number `retry` (1 = the first retry)."""
        backoff = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        jittered = backoff / 2 + self.rng.uniform(0.0, backoff / 2)
        return max(jittered, hint or 0.0)


def call_with_retry(
    call: Callable[[], T],
    classify: Callable[[Exception], Transient | None],
    policy: RetryPolicy,
) -> tuple[T, int]:
    """Run `call`; retry what `classify` calls transient. Returns (result, number of retries made).

    Anything `classify` maps to None is re-raised untouched (a bad query or token is not retried).
    """
    attempt = 1
    while True:
        try:
            return call(), attempt - 1
        except Exception as exc:
            transient = classify(exc)
            if transient is None:
                raise
            if transient.wait_hint is not None and transient.wait_hint > policy.max_delay:
                raise RetriesExhausted(transient, attempt, gave_up_early=True) from exc
            if attempt >= policy.max_attempts:
                raise RetriesExhausted(transient, attempt) from exc
            wait = policy.delay(attempt, transient.wait_hint)
            log.warning("%s; retry %d/%d in %.1f s", transient.reason, attempt, policy.max_attempts - 1, wait)
            policy.sleep(wait)
            attempt += 1
