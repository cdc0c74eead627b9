"""Text made safe to show on a terminal: data, never markup or terminal control.

The one sanitiser: the app's tables, titles and notifications and every line
the command line prints go through `printable`.
"""
from __future__ import annotations

import re

# C0 and C1 control characters and DEL: an ESC could move the cursor or clear
# the screen, a CR could overwrite the line. Each is shown as a visible symbol.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x0A:
        return "⏎"
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟, e.g. ␛ for ESC
    return "␡" if code == 0x7F else "�"


def printable(text: str, *, keep_lines: bool = False) -> str:
    """Text with every control character replaced by a visible symbol; with
    `keep_lines`, line breaks stay (a message body printed as it is)."""
    if keep_lines:
        return "\n".join(_CONTROL.sub(_picture, line) for line in text.split("\n"))
    return _CONTROL.sub(_picture, text)
