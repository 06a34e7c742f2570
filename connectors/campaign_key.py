"""The normalized campaign name that joins GA4 campaigns to ad campaigns when their ids do not.

`utm_campaign` is free text typed by people: "Tết 2026", "tet-2026" and "TET_2026" are one campaign.
One Python function defines the key (the mart build registers it as a DuckDB function, the KR filter
`unified_campaign` and the campaign map file normalize their values with it), so the rule cannot drift
between the SQL that matches campaigns and the YAML that names them.

The rule, in order:
1. a GA4 placeholder ((not set), (direct), (organic), ...) or an empty name has no key (None);
2. case-fold (Unicode: "Đ" → "đ", "ß" → "ss");
3. decompose (NFKD) and drop the combining marks: "tết" → "tet", "ưu đãi" → "uu đai", "ﬁ" → "fi";
4. map the letters that carry no combining mark: đ → d, ð → d, ø → o, ł → l, æ → ae, œ → oe, þ → th;
5. every run of characters that are not letters or digits (spaces, "_", "-", "|", "&", "(", ...) becomes
   one space; leading and trailing spaces go. Letters of any script are kept.

So "Tết 2026", " tet-2026 ", "TET__2026" and "Tết | 2026" all become "tet 2026"; "Tet2026" does not.
"""

from __future__ import annotations

import re
import unicodedata

# GA4's values for "no campaign" (and the rollup row); compared case-insensitively after trimming.
PLACEHOLDERS = frozenset(
    {
        "(not set)",
        "(direct)",
        "(organic)",
        "(referral)",
        "(none)",
        "(other)",
        "(not provided)",
        "(data not available)",
        "(cross-network)",
    }
)
GLOB_CHARS = "*?[]"

_LETTERS = str.maketrans({"đ": "d", "ð": "d", "ø": "o", "ł": "l", "æ": "ae", "œ": "oe", "þ": "th"})
_SEPARATORS = re.compile(r"[\W_]+")
_PATTERN_SEPARATORS = re.compile(r"(?:[^\w*?\[\]]|_)+")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_LETTERS)


def is_placeholder(value: str | None) -> bool:
    """True for a missing value or one of GA4's "no campaign" values."""
    return value is None or not value.strip() or value.strip().casefold() in PLACEHOLDERS


def campaign_key(name: str | None) -> str | None:
    """The normalized key of a campaign name (see the module docstring), or None when it names no campaign."""
    if is_placeholder(name):
        return None
    return _SEPARATORS.sub(" ", _fold(name)).strip() or None


def campaign_key_pattern(pattern: str) -> str | None:
    """A filter value normalized like a name, keeping the glob characters * ? [ ] so `Tết 2026*` still globs."""
    if is_placeholder(pattern):
        return None
    return _PATTERN_SEPARATORS.sub(" ", _fold(pattern)).strip() or None
