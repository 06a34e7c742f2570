"""GA4 quota bookkeeping: what a load cost, what is left, and when to slow down.

A property has 200,000 core tokens a day and 40,000 an hour (14,000 per project per hour); once one runs
out, every request to that property fails until it refills. Pausing while the hourly budget is low costs
a minute; running it dry fails tonight's load for every source reading the same property.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from google.analytics.data_v1beta.types import RunReportResponse


@dataclass
class QuotaMeter:
    """Counts calls, retries and tokens of one load; pauses before a call while hourly tokens are short.

    `sleep` is injectable so tests can see the pauses without waiting for them.
    """

    min_hourly_tokens: int
    pause_seconds: float
    sleep: Callable[[float], None]
    requests: int = 0
    reports: int = 0
    retries: int = 0
    tokens_consumed: int = 0
    tokens_remaining_hour: int | None = None
    tokens_remaining_project_hour: int | None = None
    tokens_remaining_day: int | None = None
    pauses: list[float] = field(default_factory=list)

    def before_call(self) -> None:
        """Pause once if the last response left fewer hourly tokens than the threshold."""
        left = self.hourly_left
        if left is not None and left < self.min_hourly_tokens:
            self.sleep(self.pause_seconds)
            self.pauses.append(self.pause_seconds)

    def after_call(self, reports: list[RunReportResponse]) -> None:
        """Add each report's tokens; keep the lowest remaining figures this call reported."""
        self.requests += 1
        self.reports += len(reports)
        hour: list[int] = []
        project_hour: list[int] = []
        day: list[int] = []
        for report in reports:
            pb = RunReportResponse.pb(report)
            if not pb.HasField("property_quota"):
                continue
            quota = pb.property_quota
            self.tokens_consumed += quota.tokens_per_day.consumed
            day.append(quota.tokens_per_day.remaining)
            hour.append(quota.tokens_per_hour.remaining)
            if quota.HasField("tokens_per_project_per_hour"):
                project_hour.append(quota.tokens_per_project_per_hour.remaining)
        self.tokens_remaining_day = min(day, default=self.tokens_remaining_day)
        self.tokens_remaining_hour = min(hour, default=self.tokens_remaining_hour)
        self.tokens_remaining_project_hour = min(project_hour, default=self.tokens_remaining_project_hour)

    def on_retry(self, _exc: Exception) -> None:
        self.retries += 1

    @property
    def hourly_left(self) -> int | None:
        """The tighter of the property's and this project's hourly budgets (the project's is 35 % of it)."""
        known = [v for v in (self.tokens_remaining_hour, self.tokens_remaining_project_hour) if v is not None]
        return min(known) if known else None
