"""The report's colours, in one place, with the WCAG contrast maths that keeps its text readable.

The stylesheet takes its CSS variables from COLOURS, so the contrast a test computes here is the
contrast a reader gets. Status is never colour alone: every coloured badge also says its status.
"""

from __future__ import annotations

COLOURS = {
    "bg": "#ffffff",
    "text": "#1b1f24",
    "muted": "#4b5563",
    "panel": "#f5f7fa",
    "border": "#c9d1d9",
    "accent": "#0b57d0",
    "on-accent": "#ffffff",
    "bar-track": "#e3e8ef",
    "bar-fill": "#0b57d0",
    "pace": "#1b1f24",
    "line": "#0b57d0",
    "level": "#a4262c",
    "on_track-bg": "#dafbe1",
    "on_track-fg": "#0f5323",
    "at_risk-bg": "#fff1c7",
    "at_risk-fg": "#6b4500",
    "off_track-bg": "#ffe1de",
    "off_track-fg": "#8e1519",
    "neutral-bg": "#e9edf2",
    "neutral-fg": "#3a414b",
    "stale-bg": "#f0e4ff",
    "stale-fg": "#55287d",
}

# Status → colour family of its badge (the word is printed inside the badge as well).
STATUS_FAMILY = {
    "on_track": "on_track",
    "healthy": "on_track",
    "at_risk": "at_risk",
    "off_track": "off_track",
    "breached": "off_track",
    "invalid": "off_track",
    "stale": "stale",
    "no_data": "neutral",
    "not_started": "neutral",
    "self_reported": "neutral",
}

# Every (text colour, background colour) pair the stylesheet uses for text.
TEXT_PAIRS = [
    ("text", "bg"),
    ("muted", "bg"),
    ("text", "panel"),
    ("muted", "panel"),
    ("accent", "bg"),
    ("accent", "panel"),
    ("on-accent", "accent"),
    ("off_track-fg", "panel"),
    ("level", "bg"),
    *[(f"{family}-fg", f"{family}-bg") for family in sorted(set(STATUS_FAMILY.values()))],
]


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of #rrggbb (or #rgb)."""
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio, 1 to 21; body text needs at least 4.5."""
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def css_variables() -> str:
    """`--name: #hex;` for each colour, for the stylesheet's :root."""
    return " ".join(f"--{name}: {value};" for name, value in COLOURS.items())
