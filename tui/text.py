"""Imported text made safe to show: data, never markup or terminal control."""
from __future__ import annotations

import re

# C0 and C1 control characters and DEL: an ESC could move the cursor or clear
# the screen, a CR could overwrite the line. Each is shown as a visible symbol.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _picture(match: re.Match) -> str:
    code = ord(match.group())
    if code == 0x0A:
        return "⏎"
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟, e.g. ␛ for ESC
    return "␡" if code == 0x7F else "�"


def printable(text: str) -> str:
    """One line of text with every control character replaced by a visible symbol."""
    return _CONTROL.sub(_picture, text)
