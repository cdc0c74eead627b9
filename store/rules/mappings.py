"""Remembered import mappings: which shape of file a confirmed mapping is for, and how it
applies again to a file of that shape.

A shape is the file's header set and the import's target. The set is order-insensitive:
a monthly export whose columns come in another order (a view rearranged, a column moved)
still means the same by each header, and the mapping is column by column. A header is
compared casefolded, NFC, its white space collapsed (exports differ in "E-Mail " and
"e-mail"), but its punctuation kept: "Phone (work)" and "Phone (home)" stay two columns.
The target is part of the shape: the same file read as prospects or as corporate
customers may well be mapped differently (headquarters and departments only mean
structure for corporate customers).
"""
from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

KEY_CHARS = 12  # of the shape's SHA-256 in hex: the id a user types to forget a mapping
SHOWN_HEADERS = 6  # a listing names this many of a shape's headers
SHOWN_HEADER_CHARS = 40  # and this much of each


def header_text(header: str) -> str:
    """A header as shapes compare it: NFC, casefolded, its white space one space, none around."""
    return " ".join(unicodedata.normalize("NFC", header).casefold().split())


def header_key(target: str, headers: Iterable[str]) -> str:
    """The id of a shape: the same for the same target and header set in any order."""
    shape = [target, sorted(header_text(h) for h in headers)]
    # ensure_ascii: a lone surrogate (an undecodable byte kept by the reader) hashes as its escape.
    return hashlib.sha256(json.dumps(shape).encode("ascii")).hexdigest()[:KEY_CHARS]


def mapping_id(text: str) -> str:
    """A mapping's id as the user typed it (case and surrounding space do not matter)."""
    return text.strip().casefold()


def columns_for(remembered: Sequence[tuple[str, str | None]], columns: Sequence[str]) -> dict[str, str | None]:
    """The remembered field of each of the file's `columns` (None: not imported): by its
    header as remembered, else by the header as shapes compare it."""
    exact = dict(remembered)
    loose: dict[str, str | None] = {}
    for header, field in remembered:
        loose.setdefault(header_text(header), field)
    found: dict[str, str | None] = {}
    for column in columns:
        if column in exact:
            found[column] = exact[column]
        elif header_text(column) in loose:
            found[column] = loose[header_text(column)]
    return found


def mapping_record(target: str, columns: Sequence[tuple[str, str | None]],
                   origin: Mapping[str, str | None] | None = None) -> dict[str, object]:
    """What an import's journal entry keeps of a mapping the user confirmed: its shape's key,
    each column's field, and (`origin`: file, sheet, at) where it was confirmed when that was
    an earlier import's file (None: this import's own)."""
    return {"key": header_key(target, [c for c, _ in columns]), "target": target,
            "columns": [[c, f] for c, f in columns], "origin": dict(origin) if origin else None}


def shown_headers(headers: Sequence[str]) -> str:
    """A shape's headers as a listing names them: the first few, each cut short, and how many more."""
    shown = [h if len(h) <= SHOWN_HEADER_CHARS else h[:SHOWN_HEADER_CHARS - 1] + "…" for h in headers[:SHOWN_HEADERS]]
    more = len(headers) - len(shown)
    return ", ".join(shown) + (f" … and {more} more" if more > 0 else "")
