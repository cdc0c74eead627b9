"""JSON objects built column-wise, one per row of a frame, the way the store writes a
document: fields whose value is null are left out (nested nulls stay). For the paths
that handle 100k records at once (an import's documents, the raw rows a prospect
keeps), where a dict and an `orjson.dumps` per record would cost more than the rest.
A struct column named among `objects` is written as the object of its fields that hold
something (a prospect's raw row: the file's cells, empty ones left out), built from the
cells themselves a part at a time: a million raw rows as text took 0.2 GB at an import.
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


def object_texts(frame: pl.DataFrame, *, objects: Collection[str] = ()) -> pl.Series:
    """Per row, the JSON object of the frame's non-null values ("{}" when none); each of
    the `objects` (struct columns) the object of its fields holding a value other than ""."""
    if not frame.width:  # (a frame of no columns has no rows either)
        return pl.Series(dtype=pl.String)
    if isinstance(objects, str) or any(not isinstance(frame.schema.get(name, pl.Struct({})), pl.Struct) for name in objects):
        raise TypeError(f"objects names struct columns: {objects!r}")
    # Columns (and an object's fields) by position: a file's header may read as a polars
    # pattern ("*", "^…$").
    plain = pl.DataFrame([_positional(frame.to_series(i), f"c{i}", name in objects) for i, name in enumerate(frame.columns)])
    members = [_member(pl.col(f"c{i}"), name, _fields(frame.to_series(i)) if name in objects else None)
               for i, name in enumerate(frame.columns)]
    text = _object(members)
    parts = [part.select(text).to_series() for part in plain.iter_slices(SLICE_ROWS)]
    return pl.concat(parts, rechunk=False) if parts else plain.select(text).to_series()


@dataclass(frozen=True, eq=False)
class ObjectTexts:
    """`object_texts` of a frame's rows, built when read and a part at a time (`slice`): an
    import's documents until their commit, which a server is sent a part at a time (a
    million documents' text held at once took 0.6 GB more at the peak of that commit); or
    built once, for every row (`built`: a store file keeps each document's text)."""
    frame: pl.DataFrame
    objects: frozenset[str] = frozenset()
    text: pl.Series | None = None  # (every row's, once `built`)

    def __len__(self) -> int:
        return self.frame.height

    def slice(self, offset: int, length: int | None = None) -> ObjectTexts:
        text = None if self.text is None else self.text.slice(offset, length)
        return ObjectTexts(self.frame.slice(offset, length), self.objects, text)

    def filter(self, kept: pl.Series) -> ObjectTexts:
        return ObjectTexts(self.frame.filter(kept), self.objects, None if self.text is None else self.text.filter(kept))

    def built(self) -> ObjectTexts:
        """These texts, every row's made now and kept."""
        return self if self.text is not None else ObjectTexts(self.frame, self.objects, self.series())

    def series(self) -> pl.Series:
        """Every row's text (made now, unless `built`)."""
        return self.text if self.text is not None else object_texts(self.frame, objects=self.objects)

    def at(self, position: int) -> str:
        return str(self.slice(position, 1).series()[0])


def _positional(column: pl.Series, name: str, is_object: bool) -> pl.Series:
    """`column` named `name`; an object's fields renamed f0, f1 … (their names are in `_fields`)."""
    if is_object:
        column = column.struct.rename_fields([f"f{i}" for i in range(len(column.struct.fields))])
    return column.alias(name)


def _fields(column: pl.Series) -> list[tuple[str, bool]]:
    """An object column's fields: (name, whether it holds text)."""
    schema = column.struct.schema
    return [(name, dtype == pl.String) for name, dtype in schema.items()]


def _object(members: list[pl.Expr]) -> pl.Expr:
    if not members:  # (a struct of no fields)
        return pl.lit("{}")
    return pl.concat_str([pl.lit("{"), pl.concat_str(members, separator=",", ignore_nulls=True), pl.lit("}")])


def _member(value: pl.Expr, name: str, fields: list[tuple[str, bool]] | None = None, *, text: bool = False) -> pl.Expr:
    """`"name":value` where `value` holds something (`text`: other than ""), else null; with
    `fields`, the object of the struct's fields that hold something."""
    held = value.is_not_null() & (value != "") if text else value.is_not_null()
    if fields is not None:
        written = _object([_member(value.struct.field(f"f{i}"), field, text=is_text) for i, (field, is_text) in enumerate(fields)])
    else:
        # polars writes the one-field object {"v":value}; the value is what is inside.
        written = pl.struct(value.alias("v")).struct.json_encode().str.strip_prefix('{"v":').str.strip_suffix("}")
    return pl.when(held).then(pl.lit(orjson.dumps(name).decode() + ":") + written)
