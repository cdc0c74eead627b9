"""How text is sorted, the same in the polars view and on a server."""
from __future__ import annotations

from typing import Any

import polars as pl

# A text is sorted by its first this many characters (code points, by their bytes), then
# by id: a server's btree index holds at most about 2.7 KB an entry, and a longer value (a
# 3,000-character company name) could not be saved once its column's sort index was made.
# 256 characters of UTF-8 are at most 1 KB.
SORTED_CHARACTERS = 256


def sort_prefix(value: Any) -> Any:
    """The part of a value a sort compares (`SORTED_CHARACTERS` of a text; anything else whole)."""
    return value[:SORTED_CHARACTERS] if isinstance(value, str) else value


def text_order(field: str) -> pl.Expr:
    """A text field as documents are ordered by it (`ids_by`): missing as empty, its first
    `SORTED_CHARACTERS`."""
    return pl.col(field).fill_null("").str.slice(0, SORTED_CHARACTERS)
