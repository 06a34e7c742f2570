"""KR filters as GA4 filter expressions: a glob must select in GA4 exactly what DuckDB's GLOB selects."""

from __future__ import annotations

import re

import duckdb
import pytest

from connectors.ga4_filter import describe, fingerprint, glob_to_regex, terms

NAMES = [
    "spring_sale",
    "Spring_Sale",
    "spring-sale",
    "springsale",
    "spring_sale_v2",
    "50% off (v2)",
    "50% off (v3)",
    "a.b",
    "axb",
    "a]b",
    "a^b",
    "tết 2026",
    "",
]
PATTERNS = ["spring*", "spring_sale", "*sale", "spring?sale", "s[pq]ring*", "spring[!_]sale", "50% off (v?)"]
PATTERNS += ["a.b", "a[]]b", "a[^]b", "*2026", "t?t*", "[!s]*", "*"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_glob_translation_selects_what_duckdb_glob_selects(pattern: str) -> None:
    conn = duckdb.connect()
    expected = [n for n in NAMES if conn.execute("SELECT ? GLOB ?", [n, pattern]).fetchone()[0]]
    regex = re.compile(glob_to_regex(pattern), re.DOTALL)
    assert [n for n in NAMES if regex.fullmatch(n)] == expected


def test_translations_are_literal_outside_wildcards() -> None:
    assert glob_to_regex("spring*") == "spring.*"
    assert glob_to_regex("50% off (v?)") == r"50%\ off\ \(v.\)"
    assert glob_to_regex("x[!a-c]y") == "x[^a-c]y"
    assert glob_to_regex("x[^a]y") == r"x[\^a]y"  # DuckDB negates with ! only
    assert glob_to_regex("x[ab") == r"x\[ab"  # an unclosed bracket is a literal


def test_terms_are_canonical_and_described() -> None:
    one = terms({"channel": ["Paid Search"], "campaign_name": ["spring*", "tet"]})
    two = terms({"campaign_name": ["tet", "spring*", "tet"], "channel": ["Paid Search"]})
    assert (
        one
        == two
        == (
            ("campaign_name", (("spring*", True), ("tet", False))),
            ("channel", (("Paid Search", False),)),
        )
    )
    assert describe(one) == "(campaign_name GLOB 'spring*' OR campaign_name = 'tet') AND channel = 'Paid Search'"
    assert describe(()) == "no filter"
    assert fingerprint(None) == fingerprint(None) != fingerprint('{"filter":{}}')
    assert len(fingerprint(None)) == 16
