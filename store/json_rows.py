"""JSON objects built column-wise, one per row of a frame, the way the store writes a
document: fields whose value is null are left out (nested nulls stay). For the paths
that handle 100k records at once (an import's documents, the raw rows a prospect
keeps), where a dict and an `orjson.dumps` per record would cost more than the rest.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence

import orjson
import polars as pl


def object_text(columns: Sequence[str], *, encoded: Collection[str] = ()) -> pl.Expr:
    """Per row, the JSON object of these columns' non-null values ("{}" when none);
    the `encoded` columns hold JSON text already, written as the value it encodes."""
    members = [_member(column, column in encoded) for column in columns]
    if not members:
        return pl.lit("{}")
    return pl.concat_str([pl.lit("{"), pl.concat_str(members, separator=",", ignore_nulls=True), pl.lit("}")])


def _member(column: str, encoded: bool) -> pl.Expr:
    """`"name":value` where the column holds a value, else null."""
    value = pl.col(column)
    if encoded:
        member = pl.lit(orjson.dumps(column).decode() + ":") + value
    else:
        # polars writes the one-field object {"name":value}; its braces come off.
        member = pl.struct(value).struct.json_encode().str.strip_prefix("{").str.strip_suffix("}")
    return pl.when(value.is_not_null()).then(member)
