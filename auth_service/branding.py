"""The content site's brand on the service's pages and emails: name, logo, accent colour,
support address, terms and privacy links, all from configuration.

The accent colour is checked like any text colour (WCAG 2.1 contrast): links in
the accent on the white card need 4.5:1, and a button's label is drawn in white
or near-black, whichever reads better on it. In dark mode the accent is lightened
until it reads on the dark card. A colour that cannot pass in light mode is
reported at start-up and by ``doctor``, not refused: the site's brand is the
operator's call, the warning says what it costs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_ACCENT = "#8a2b1d"
# The house accent has a dark-mode shade drawn for it; any other is lightened by for_dark().
DEFAULT_DARK_ACCENT = "#e0735f"
WHITE, NEAR_BLACK = "#ffffff", "#111111"
LIGHT_CARD, DARK_CARD = "#ffffff", "#22262b"
AA = 4.5


def parse_colour(raw: str) -> str:
    """A colour as ``#rrggbb`` (lower-case); raises ValueError for anything else."""
    value = raw.strip()
    if not HEX.match(value):
        raise ValueError("expected a colour as #rrggbb, e.g. #8a2b1d")
    return value.lower()


def _luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of ``#rrggbb``."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio between two colours, 1 to 21."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def ink_on(colour: str) -> str:
    """The label colour for a button filled with ``colour``: white or near-black."""
    return WHITE if contrast(colour, WHITE) >= contrast(colour, NEAR_BLACK) else NEAR_BLACK


def _mix(colour: str, other: str, share: float) -> str:
    channels = [round(int(colour[i:i + 2], 16) * (1 - share) + int(other[i:i + 2], 16) * share)
                for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in channels)


def for_dark(colour: str) -> str:
    """``colour`` lightened, in steps, until it reads on the dark card (at most white)."""
    for step in range(11):
        candidate = _mix(colour, WHITE, step / 10)
        if contrast(candidate, DARK_CARD) >= AA:
            return candidate
    return WHITE


def problems(config: Mapping[str, Any]) -> list[str]:
    """What the brand settings cost the pages' readability (empty: nothing)."""
    accent = config["ACCENT_COLOR"]
    ratio = contrast(accent, LIGHT_CARD)
    if ratio < AA:
        return [f"AUTH_ACCENT_COLOR {accent} has a contrast of {ratio:.1f}:1 on the white page, "
                f"below the {AA}:1 WCAG AA asks of links: pick a darker shade"]
    return []


def stylesheet(config: Mapping[str, Any]) -> str:
    """``/brand.css``: the accent colours, for light and dark pages (no inline styles: CSP)."""
    accent = config["ACCENT_COLOR"]
    dark = DEFAULT_DARK_ACCENT if accent == DEFAULT_ACCENT else for_dark(accent)
    return (f":root {{ --accent: {accent}; --accent-ink: {ink_on(accent)}; }}\n"
            f"@media (prefers-color-scheme: dark) {{\n"
            f"  :root {{ --accent: {dark}; --accent-ink: {ink_on(dark)}; }}\n}}\n")


def context(config: Mapping[str, Any]) -> dict[str, Any]:
    """What the page and email templates know of the brand (``brand.*``)."""
    accent = config["ACCENT_COLOR"]
    return {"name": config["SITE_NAME"], "logo_url": config["LOGO_URL"], "accent": accent,
            "accent_ink": ink_on(accent), "support_email": config["SUPPORT_EMAIL"],
            "terms_url": config["TERMS_URL"], "privacy_url": config["PRIVACY_URL"]}
