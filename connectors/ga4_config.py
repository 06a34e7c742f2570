"""What a GA4 source is (`Ga4Config`) and the checks that reject a bad one before any request is sent.

Everything that an analyst can get wrong in `sources.yaml` fails here, with a message that says what to
write instead: a Measurement ID where a property ID belongs, a renamed GA4 field, anonymous credentials
pointed at a real host. A request the API would refuse costs quota and a nightly run; this costs nothing.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from connectors.errors import Ga4Error

MAX_PAGE_SIZE = 250_000  # the Data API returns at most this many rows per request, whatever `limit` says

# GA4 renamed these in May 2024; the old names stop working (400) a few months after a rename.
RENAMED = {
    "conversions": "keyEvents",
    "sessionConversionRate": "sessionKeyEventRate",
    "userConversionRate": "userKeyEventRate",
    "isConversionEvent": "isKeyEvent",
}

# Distinct counts: a sum of daily users counts a returning user once per day. Query the whole period.
NON_ADDITIVE = frozenset(
    {"totalUsers", "activeUsers", "newUsers", "active1DayUsers", "active7DayUsers", "active28DayUsers"}
)
_RATIO = re.compile(r"(Rate$|^average|Per[A-Z]|^dauPer|^wauPer)")


@dataclass(frozen=True)
class Ga4Dimensions:
    """Which GA4 dimension fills each grain column; session-scoped by default so campaigns and channels agree."""

    date: str = "date"
    campaign_id: str = "sessionCampaignId"
    campaign_name: str = "sessionCampaignName"
    channel: str = "sessionDefaultChannelGroup"
    source_medium: str = "sessionSourceMedium"

    def by_column(self) -> dict[str, str]:
        """{grain column: GA4 dimension}, in the order dimensions are requested and sorted."""
        return {
            "report_date": self.date,
            "campaign_id": self.campaign_id,
            "campaign_name": self.campaign_name,
            "channel": self.channel,
            "source_medium": self.source_medium,
        }


@dataclass(frozen=True)
class Ga4RetryPolicy:
    """Backoff for 429 / 503 / timeouts: exponential with full jitter, bounded by attempts and a deadline.

    Tests shrink the waits to milliseconds; production keeps seconds so a busy property can recover.
    """

    initial_seconds: float = 1.0
    max_seconds: float = 60.0
    multiplier: float = 2.0
    deadline_seconds: float = 600.0
    max_attempts: int = 6


@dataclass(frozen=True)
class Ga4Config:
    """One GA4 property read as a source; `metrics` maps catalogue metric → GA4 metric (e.g. revenue → purchaseRevenue).

    Credentials are never part of it: `default` uses Google's standard chain (GOOGLE_APPLICATION_CREDENTIALS,
    then Application Default Credentials); `anonymous` exists only for a fake server on a loopback address.
    """

    name: str  # the source's name in sources.yaml, quoted in every error
    property_id: str  # digits ("properties/123" is accepted too)
    metrics: dict[str, str]  # read per day (fetch_daily): they must add up over days
    period_metrics: dict[str, str] = field(default_factory=dict)  # read per KR window only (fetch_periods)
    dimensions: Ga4Dimensions = field(default_factory=Ga4Dimensions)
    lookback_days: int = 7  # GA4 restates 24-48 h and key events longer; re-read this many days every run
    endpoint: str | None = None  # e.g. "http://127.0.0.1:8123" for a fake; None = analyticsdata.googleapis.com
    credentials: str = "default"  # "default" (Google's chain) | "anonymous" (loopback endpoint only)
    page_size: int = MAX_PAGE_SIZE
    chunk_days: int = 31  # one report per this many days: first pages of chunks share batches, pages stay small
    timeout_seconds: float = 60.0  # per attempt at most (api_core counts it down across retries)
    retry: Ga4RetryPolicy = field(default_factory=Ga4RetryPolicy)
    min_hourly_tokens: int = 2_000  # pause before a call while fewer hourly tokens than this are left
    throttle_pause_seconds: float = 60.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "property_id", _property_id(self.name, self.property_id))
        self.fail_unless(
            bool(self.metrics),
            "no daily metrics are mapped; map at least one, e.g. sessions: sessions (the nightly load and the "
            "freshness check read it; distinct counts such as users are only asked per KR window)",
        )
        check_field_names(
            self,
            [*self.metrics.values(), *self.period_metrics.values(), *self.dimensions.by_column().values()],
        )
        both = sorted(set(self.metrics) & set(self.period_metrics))
        self.fail_unless(not both, f"metrics {both} are mapped both per day and per period; keep one")
        self.fail_unless(len(set(self.dimensions.by_column().values())) == 5, "the five dimensions must differ")
        self.fail_unless(self.lookback_days >= 1, f"lookback_days must be at least 1, not {self.lookback_days}")
        self.fail_unless(self.chunk_days >= 1, f"chunk_days must be at least 1, not {self.chunk_days}")
        self.fail_unless(
            1 <= self.page_size <= MAX_PAGE_SIZE, f"page_size must be 1..{MAX_PAGE_SIZE}, not {self.page_size}"
        )
        self.fail_unless(self.timeout_seconds > 0, "timeout_seconds must be positive")
        self.fail_unless(self.retry.max_attempts >= 1, "retry.max_attempts must be at least 1")
        _check_endpoint(self)

    def error(self, message: str, field: str | None = None) -> Ga4Error:
        """A Ga4Error naming this source and property (and the field to blame, if any)."""
        return Ga4Error(self.name, self.property_id, message, field=field)

    def fail_unless(self, ok: bool, message: str, field: str | None = None) -> None:
        """Raise `error(message, field)` unless `ok`."""
        if not ok:
            raise self.error(message, field)

    @property
    def resource(self) -> str:
        """The property as the API names it in URLs and batch requests."""
        return f"properties/{self.property_id}"


def check_field_names(config: Ga4Config, names: list[str]) -> None:
    """Reject renamed GA4 fields with the new name, before a request spends quota on a sure 400."""
    for name in names:
        config.fail_unless(bool(name and name.strip() == name), f"GA4 field name {name!r} is empty or padded")
        base, colon, event = name.partition(":")
        if base in RENAMED:
            new = RENAMED[base] + colon + event
            raise config.error(f"GA4 renamed field {name!r} to {new!r}; use {new!r} in sources.yaml", name)


def check_additive(config: Ga4Config, metrics: dict[str, str]) -> None:
    """Daily rows get summed downstream, so a distinct count or a ratio must not be fetched per day."""
    for metric, name in metrics.items():
        if name in NON_ADDITIVE:
            raise config.error(
                f"metric {metric!r} ({name!r}) counts distinct users and cannot be summed over days; "
                "query it for the whole period with fetch_period instead",
                name,
            )
        if _RATIO.search(name):
            raise config.error(
                f"metric {metric!r} ({name!r}) is a ratio and cannot be summed over days; map its numerator and "
                "denominator and let the KR divide the sums",
                name,
            )


def _property_id(source: str, value: object) -> str:
    """Digits only; a Measurement ID (G-…) is the usual mistake, so it gets its own hint."""
    text = str(value).strip()
    text = text.removeprefix("properties/")
    if re.fullmatch(r"G-[A-Z0-9]+", text, flags=re.IGNORECASE):
        hint = (
            f"{text!r} is a Measurement ID (a web data stream), not a property ID; use the numeric "
            "Property ID from GA4 Admin → Property settings"
        )
        raise Ga4Error(source, text, hint, field="property_id")
    if not text.isdigit() or int(text) == 0:
        hint = f"property_id must be the numeric GA4 Property ID (GA4 Admin → Property settings), not {text!r}"
        raise Ga4Error(source, text or "?", hint, field="property_id")
    return str(int(text))


def _check_endpoint(config: Ga4Config) -> None:
    """Plain http and anonymous credentials only towards this machine: tokens must never cross a network in clear."""
    config.fail_unless(
        config.credentials in {"default", "anonymous"},
        f"credentials must be 'default' or 'anonymous', not {config.credentials!r}",
        "credentials",
    )
    if config.endpoint is None:
        config.fail_unless(
            config.credentials == "default", "credentials: anonymous needs an endpoint on a loopback address"
        )
        return
    parts = urlsplit(config.endpoint)
    config.fail_unless(
        parts.scheme in {"http", "https"} and bool(parts.hostname) and parts.path in {"", "/"},
        f"endpoint must look like http://127.0.0.1:8123 or https://host, not {config.endpoint!r}",
        "endpoint",
    )
    local = _is_loopback(parts.hostname or "")
    config.fail_unless(local or parts.scheme == "https", "a plain http endpoint must be on a loopback address")
    config.fail_unless(
        local or config.credentials == "default",
        f"credentials: anonymous is accepted only with a loopback endpoint, not {parts.hostname!r}",
        "credentials",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
