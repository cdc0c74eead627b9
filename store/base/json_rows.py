"""JSON objects built column-wise, one per row of a frame, the way the store writes a
document: fields whose value is null are left out (nested nulls stay). For the paths
that handle 100k records at once (an import's documents, the raw rows a prospect
keeps), where a dict and an `orjson.dumps` per record would cost more than the rest.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import orjson
import polars as pl

# Asked of a server's `read_columns` for a field: its JSON text as the document holds it
# (null: absent), not a decoded value (a patch's undo data puts it back exactly).
JSON_TEXT = pl.Binary()

# Rows built at a time: each field's member is a column of text before they are joined (a
# million rows at once: 1.3 GB more at the peak of an import).
SLICE_ROWS = 50_000


def object_texts(frame: pl.DataFrame, *, encoded: Collection[str] = ()) -> pl.Series:
    """Per row, the JSON object of the frame's non-null values ("{}" when none); the
    `encoded` columns hold JSON text already, written as the value it encodes."""
    if not frame.width:  # (a frame of no columns has no rows either)
        return pl.Series(dtype=pl.String)
    # Columns by position: a file's header may read as a polars pattern ("*", "^…$").
    plain = pl.DataFrame([frame.to_series(i).alias(f"c{i}") for i in range(frame.width)])
    members = [_member(f"c{i}", name, name in encoded) for i, name in enumerate(frame.columns)]
    text = pl.concat_str([pl.lit("{"), pl.concat_str(members, separator=",", ignore_nulls=True), pl.lit("}")])
    parts = [part.select(text).to_series() for part in plain.iter_slices(SLICE_ROWS)]
    return pl.concat(parts, rechunk=False) if parts else plain.select(text).to_series()


@dataclass(frozen=True, eq=False)
class ObjectTexts:
    """`object_texts` of a frame's rows, built when read and a part at a time (`slice`): an
    import's documents until their commit, which a server is sent a part at a time (a
    million documents' text held at once took 0.6 GB more at the peak of that commit); or
    built once, for every row (`built`: a store file keeps each document's text)."""
    frame: pl.DataFrame
    encoded: frozenset[str] = frozenset()
    text: pl.Series | None = None  # (every row's, once `built`)

    def __len__(self) -> int:
        return self.frame.height

    def slice(self, offset: int, length: int | None = None) -> ObjectTexts:
        text = None if self.text is None else self.text.slice(offset, length)
        return ObjectTexts(self.frame.slice(offset, length), self.encoded, text)

    def filter(self, kept: pl.Series) -> ObjectTexts:
        return ObjectTexts(self.frame.filter(kept), self.encoded, None if self.text is None else self.text.filter(kept))

    def built(self) -> ObjectTexts:
        """These texts, every row's made now and kept."""
        return self if self.text is not None else ObjectTexts(self.frame, self.encoded, self.series())

    def series(self) -> pl.Series:
        """Every row's text (made now, unless `built`)."""
        return self.text if self.text is not None else object_texts(self.frame, encoded=self.encoded)

    def at(self, position: int) -> str:
        return str(self.slice(position, 1).series()[0])


def _member(column: str, name: str, encoded: bool) -> pl.Expr:
    """`"name":value` where the column holds a value, else null."""
    value = pl.col(column)
    if not encoded:
        # polars writes the one-field object {"cN":value}; the value is what is inside.
        value = pl.struct(value).struct.json_encode().str.strip_prefix(f'{{"{column}":').str.strip_suffix("}")
    return pl.when(pl.col(column).is_not_null()).then(pl.lit(orjson.dumps(name).decode() + ":") + value)
