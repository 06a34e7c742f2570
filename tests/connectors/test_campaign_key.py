"""The normalized campaign name: what matches and what does not."""

from __future__ import annotations

import pytest

from connectors.campaign_key import campaign_key, campaign_key_pattern


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Tết 2026", "tet 2026"),
        (" tet-2026 ", "tet 2026"),
        ("TET__2026", "tet 2026"),
        ("Tết | 2026", "tet 2026"),
        ("TẾT_2026", "tet 2026"),
        ("Tet2026", "tet2026"),  # no separator, no match: the rule never splits words
        ("ƯU ĐÃI Lì xì", "uu dai li xi"),
        ("Khuyến mãi Đà Nẵng -- 50% off!", "khuyen mai da nang 50 off"),
        ("Straße", "strasse"),
        ("ﬁnal", "final"),
        ("PMax - Tết 2026", "pmax tet 2026"),
        ("日本 セール", "日本 セール"),
        ("(not set)", None),
        (" (Direct) ", None),
        ("(organic)", None),
        ("", None),
        ("---", None),
        (None, None),
    ],
)
def test_campaign_key(name: str | None, key: str | None) -> None:
    assert campaign_key(name) == key


def test_filter_patterns_keep_their_glob_characters() -> None:
    assert campaign_key_pattern("Tết 2026*") == "tet 2026*"
    assert campaign_key_pattern("*TẾT - [Ss]ale?") == "*tet [ss]ale?"
    assert campaign_key_pattern("(not set)") is None
