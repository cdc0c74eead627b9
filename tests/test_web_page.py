"""The public pages' colours (web/templates/base.html) meet WCAG 2.2 AA's 4.5:1 for text."""
import re
from pathlib import Path

import pytest

BASE = (Path(__file__).resolve().parent.parent / "web" / "templates" / "base.html").read_text()
# (text, background): body text, hints, errors and their links, links, the button and its inverse
PAIRS = [("#1f2328", "#ffffff"), ("#4b5563", "#ffffff"), ("#b3261e", "#ffffff"), ("#1d4ed8", "#ffffff"),
         ("#ffffff", "#1d4ed8")]
DECORATION = {"#f3f4f6", "#6b7280", "#d1d5db"}  # the page around the card, input and rule borders: no text on them


def _colours(css: str) -> set[str]:
    """Every #rgb or #rrggbb colour, as #rrggbb."""
    found = re.findall(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b", css)
    return {"#" + (c if len(c) == 6 else "".join(ch * 2 for ch in c)).lower() for c in found}


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_every_text_colour_of_the_pages_is_readable_on_its_background(text, background):
    lighter, darker = sorted((_luminance(text), _luminance(background)), reverse=True)
    assert (lighter + 0.05) / (darker + 0.05) >= 4.5


def test_the_pages_use_no_colour_but_those_checked():
    used = _colours(BASE.split("</style>")[0])
    assert used == {c for pair in PAIRS for c in pair} | DECORATION, used
