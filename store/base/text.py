"""Text made safe to show on a terminal: data, never markup or terminal control.

The one sanitiser: the app's tables, titles and notifications and every line
the command line prints go through `printable`; every path printed or kept in
the store goes through `path_text`.
"""
from __future__ import annotations

import os
import re

# C0 and C1 control characters and DEL: an ESC could move the cursor or clear
# the screen, a CR could overwrite the line. Each is shown as a visible symbol.
# Lone surrogates too: no encoder writes them (a terminal, orjson), so they would
# crash the print or the commit; a file name's undecodable byte arrives as one.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# `os.fsdecode` (surrogateescape) keeps a byte 0x80-0xFF that is not UTF-8 as U+DC80-U+DCFF.
_ESCAPED_BYTES = range(0xDC80, 0xDD00)


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x0A:
        return "⏎"
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟, e.g. ␛ for ESC
    if code in _ESCAPED_BYTES:
        return f"\\x{code - 0xDC00:02x}"  # the byte the name holds: kunden-\xe9.csv
    return "␡" if code == 0x7F else "�"


def printable(text: str, *, keep_lines: bool = False) -> str:
    """Text with every control character replaced by a visible symbol; with
    `keep_lines`, line breaks stay (a message body printed as it is)."""
    if keep_lines:
        return "\n".join(_CONTROL.sub(_picture, line) for line in text.split("\n"))
    return _CONTROL.sub(_picture, text)


def path_text(path: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> str:
    """A file name or path as it is printed and journaled: a byte the file system's
    encoding cannot decode shown as `\\xe9`, control characters as symbols."""
    return printable(os.fsdecode(path))
