"""Counts of documents, kept with every commit, so that counting reads no table.

`Schema.tallies` names, per table, the fields whose values are counted. The
engine keeps `{table: {"*": documents, field: {value: count}}}` in its meta
document and changes it in the same transaction as the documents: the counts
are as durable as they are, roll back with them and are undone with them. A
store written before tallies has none; the first commit that changes a
tallied table counts it once.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

Tally = dict[str, Any]  # {"*": int, field: {value key: int}}


def value_key(value: object) -> str:
    """A field's value as a JSON object key: true/false, the text itself, "" when missing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def count(rows: Mapping[int, Mapping[str, Any]], frame: pl.DataFrame | None, fields: Iterable[str]) -> Tally:
    """The tally of a whole table: from its decoded fields when it keeps them (a table of a
    server: no document read), else its documents."""
    tally: Tally = {"*": len(rows) if frame is None else frame.height}
    for field in fields:
        counts: dict[str, int] = {}
        tally[field] = counts
        if frame is not None and field in frame.columns:
            _count_column(counts, frame[field])
            continue
        for doc in rows.values():
            key = value_key(doc.get(field))
            counts[key] = counts.get(key, 0) + 1
    return tally


def add_rows(tally: Tally, fields: Iterable[str], frame: pl.DataFrame) -> None:
    """Count new documents given as a frame's rows (a field it lacks: absent in each)."""
    tally["*"] += frame.height
    for field in fields:
        values = frame[field] if field in frame.columns else pl.repeat(None, frame.height, dtype=pl.String, eager=True)
        _count_column(tally[field], values)


def remove_rows(tally: Tally, fields: Iterable[str], frame: pl.DataFrame) -> None:
    """Count documents gone, given as a frame's rows (their fields as text, `value_key`'s)."""
    tally["*"] -= frame.height
    for field in fields:
        counts = tally[field]
        for key, n in frame[field].fill_null("").value_counts(name="n").iter_rows():
            counts[key] -= n
            if not counts[key]:
                del counts[key]


def _count_column(counts: dict[str, int], values: pl.Series) -> None:
    """`value_key` of every value, counted column-wise (flags as true/false, missing as "")."""
    for key, n in values.cast(pl.String).fill_null("").value_counts(name="n").iter_rows():
        counts[key] = counts.get(key, 0) + n


def change_values(tally: Tally, field: str, old: Iterable[object], new: Iterable[object]) -> None:
    """Count documents whose field changed from `old` to `new`, value for value (a patch)."""
    counts = tally[field]
    for before, after in zip(old, new, strict=True):
        for key, step in ((value_key(before), -1), (value_key(after), 1)):
            counts[key] = counts.get(key, 0) + step
            if not counts[key]:
                del counts[key]


def adjust(tally: Tally, fields: Iterable[str], old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> None:
    """Count a document's change from `old` to `new` (None: absent)."""
    tally["*"] += (new is not None) - (old is not None)
    for field in fields:
        counts = tally[field]
        if old is not None:
            key = value_key(old.get(field))
            counts[key] -= 1
            if not counts[key]:
                del counts[key]
        if new is not None:
            key = value_key(new.get(field))
            counts[key] = counts.get(key, 0) + 1
