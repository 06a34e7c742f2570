"""A KR's filters as a GA4 `dimensionFilter`, so a period query counts exactly the users the KR means.

Why server-side: a distinct count cannot be put together from parts. Users of campaign A plus users of
campaign B count twice everyone who came through both, just as daily users summed over a quarter count a
returning user once per day. So a "users of the spring campaigns in Q2" KR asks GA4 for that one number:
the window as one date range, no date dimension, and the KR's campaign / channel / source-medium filters
as a filter expression GA4 evaluates before it counts.

Semantics follow the daily path's filters (pipelines/lib/scoring/kr_grouped.sql): values of one dimension
are alternatives (OR), dimensions all apply (AND), an exact value is compared case-sensitively, and a glob
(`*`, `?`, `[...]`) becomes a full-match RE2 expression, case-sensitive too. GA4's own default is
case-insensitive, which would make a period KR match more campaigns than the same KR on daily rows.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence

from google.analytics.data_v1beta.types import Filter, FilterExpression, FilterExpressionList

from connectors.ga4_config import Ga4Config

# Grain columns a GA4 dimension can be filtered on (the keys of Ga4Dimensions.by_column without the date).
FILTERABLE = ("campaign_id", "campaign_name", "channel", "source_medium")
GLOB_CHARS = frozenset("*?[")

Pattern = tuple[str, bool]  # (value, is_glob)
FilterTerms = tuple[tuple[str, tuple[Pattern, ...]], ...]  # ((grain column, patterns), ...), sorted


def terms(filters: Mapping[str, Iterable[str | Pattern]]) -> FilterTerms:
    """Canonical, hashable filter terms: columns sorted, values sorted and de-duplicated.

    A plain string value is a glob when it holds `*`, `?` or `[` (as in okr_defs filters).
    """
    out = []
    for column in sorted(filters):
        patterns = {(v, any(c in GLOB_CHARS for c in v)) if isinstance(v, str) else tuple(v) for v in filters[column]}
        if patterns:
            out.append((column, tuple(sorted(patterns))))
    return tuple(out)


def glob_to_regex(pattern: str) -> str:
    """A GLOB pattern (DuckDB's: `*` any run, `?` one character, `[a-z]`, `[!a-z]`) as RE2 text.

    Everything else is a literal and escaped, so a campaign called `50% off (v2)` stays a literal.
    """
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[" and (end := _class_end(pattern, i)) is not None:
            body = pattern[i + 1 : end]
            negate = body[:1] == "!"  # DuckDB's GLOB negates with `!` only; `^` is a member
            body = body[1:] if negate else body
            escaped = "".join("\\" + c if c in "\\]^[" else c for c in body)
            out.append("[" + ("^" if negate else "") + escaped + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int | None:
    """Index of the `]` closing the class opened at `start` (a `]` first in the class is a member)."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "!":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    close = pattern.find("]", i)
    return close if close != -1 else None


def expression(config: Ga4Config, filter_terms: FilterTerms) -> FilterExpression | None:
    """The FilterExpression for the terms (None without terms): AND over columns, OR over a column's values."""
    dims = config.dimensions.by_column()
    groups = []
    for column, patterns in filter_terms:
        config.fail_unless(
            column in FILTERABLE, f"a period query cannot filter on {column!r}; use some of {FILTERABLE}", column
        )
        name = dims[column]
        exact = [value for value, glob in patterns if not glob]
        alternatives = [_regex(name, value) for value, glob in patterns if glob]
        if len(exact) == 1:
            alternatives.insert(0, _exact(name, exact[0]))
        elif exact:
            in_list = Filter.InListFilter(values=exact, case_sensitive=True)
            alternatives.insert(0, FilterExpression(filter=Filter(field_name=name, in_list_filter=in_list)))
        groups.append(alternatives[0] if len(alternatives) == 1 else _or(alternatives))
    if not groups:
        return None
    return groups[0] if len(groups) == 1 else FilterExpression(and_group=FilterExpressionList(expressions=groups))


def _exact(name: str, value: str) -> FilterExpression:
    match = Filter.StringFilter(match_type=Filter.StringFilter.MatchType.EXACT, value=value, case_sensitive=True)
    return FilterExpression(filter=Filter(field_name=name, string_filter=match))


def _regex(name: str, pattern: str) -> FilterExpression:
    regex = Filter.StringFilter(
        match_type=Filter.StringFilter.MatchType.FULL_REGEXP, value=glob_to_regex(pattern), case_sensitive=True
    )
    return FilterExpression(filter=Filter(field_name=name, string_filter=regex))


def _or(expressions: Sequence[FilterExpression]) -> FilterExpression:
    return FilterExpression(or_group=FilterExpressionList(expressions=list(expressions)))


def as_json(expr: FilterExpression | None) -> str | None:
    """The expression as compact, key-sorted JSON: hashable, storable, and the same text for the same filter."""
    if expr is None:
        return None
    return json.dumps(json.loads(FilterExpression.to_json(expr)), sort_keys=True, separators=(",", ":"))


def fingerprint(dimension_filter: str | None) -> str:
    """A short stable key for a filter (the empty filter included), to store and join period rows on."""
    return hashlib.sha256((dimension_filter or "").encode()).hexdigest()[:16]


def describe(filter_terms: FilterTerms) -> str:
    """The filter in words, e.g. `campaign_name GLOB 'spring*' AND channel = 'Paid Search'` (or `no filter`)."""
    parts = []
    for column, patterns in filter_terms:
        shown = [f"{column} {'GLOB' if glob else '='} {value!r}" for value, glob in patterns]
        parts.append(shown[0] if len(shown) == 1 else "(" + " OR ".join(shown) + ")")
    return " AND ".join(parts) or "no filter"
