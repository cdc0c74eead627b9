"""Counts of documents, kept with every commit, so that counting reads no table.

`Schema.tallies` names, per table, what is counted: a field's values ("kind"), the
values of fields together ("kind|active": each document's values joined by "|", for
a filter of both at once), or each value of a list field ("tags[]": a document counts
once under each value it holds, "" when it holds none). The engine keeps
`{table: {"*": documents, name: {value: count}}}` in its meta document and changes it
in the same transaction as the documents: the counts are as durable as they are, roll
back with them and are undone with them. A store written before tallies (or before a
name was counted, or by an older custdesk since: `schema.counts_trusted`) is counted anew by the
first commit that changes a counted table (`complete`).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import polars as pl

Tally = dict[str, Any]  # {"*": int, name: {value key: int}}
# A name counted under more values than this is no longer kept (its counts None): a tags
# column holding a value per row (a million distinct tags) made every commit copy and write
# a meta document of 16 MB (0.9 s each). Its filter is then counted as any other.
MOST_VALUES = 10_000
JOINED = "|"  # between the fields of a count of fields together, and between their values
EACH = "[]"  # after a list field whose values are counted one by one


def value_key(value: object) -> str:
    """A field's value as a JSON object key: true/false, the text itself, "" when missing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@cache  # (asked at every write of a counted table)
def fields_of(name: str) -> tuple[str, ...]:
    """The document fields a counted name reads: "kind|active" both, "tags[]" tags."""
    return tuple(name.removesuffix(EACH).split(JOINED))


def read_types(names: Iterable[str]) -> dict[str, pl.DataType]:
    """The fields to read from a server to count `names` (`remove_rows`): a list field as a
    list, every other as its text (`value_key`'s)."""
    return {field: pl.List(pl.String()) if name.endswith(EACH) else pl.String()
            for name in names for field in fields_of(name)}


def complete(held: object, names: Iterable[str]) -> bool:
    """Whether a table's kept counts (`held`) count every name (else the table is counted anew)."""
    return isinstance(held, dict) and "*" in held and all(name in held for name in names)


def doc_keys(doc: Mapping[str, Any], name: str) -> list[str]:
    """The value keys a document is counted under for `name`."""
    if name.endswith(EACH):
        values = doc.get(name.removesuffix(EACH))
        held = list(dict.fromkeys(v for v in values if isinstance(v, str))) if isinstance(values, list) else []
        return held or [""]
    return [JOINED.join(value_key(doc.get(field)) for field in fields_of(name))]


def frame_keys(frame: pl.DataFrame, name: str) -> pl.Series:
    """The value keys of every row of `frame` for `name`, column-wise (a list field's: each of
    a row's values once, "" for a row holding none; a field the frame lacks: absent in each)."""
    fields = fields_of(name)
    columns = [frame[f] if f in frame.columns else pl.repeat(None, frame.height, dtype=pl.String, eager=True).rename(f)
               for f in fields]
    if name.endswith(EACH):
        values = columns[0]
        if values.dtype != pl.List(pl.String):
            values = values.cast(pl.List(pl.String))
        held = values.list.unique(maintain_order=True).list.drop_nulls()
        none = held.list.len().fill_null(0) == 0  # (a null, an empty list: explode keeps one, drops the other)
        return pl.concat([held.filter(~none).explode(), pl.repeat("", int(none.sum()), dtype=pl.String, eager=True)])
    keys = [c.cast(pl.String).fill_null("") for c in columns]
    if len(keys) == 1:
        return keys[0]
    return pl.DataFrame(keys).select(pl.concat_str(fields, separator=JOINED)).to_series()


def count(rows: Mapping[int, Mapping[str, Any]], frame: pl.DataFrame | None, names: Iterable[str]) -> Tally:
    """The tally of a whole table: from its decoded fields when it keeps them (a table of a
    server: no document read), else its documents."""
    tally: Tally = {"*": len(rows) if frame is None else frame.height}
    for name in names:
        counts: dict[str, int] = {}
        tally[name] = counts
        if frame is not None and all(f in frame.columns for f in fields_of(name)):
            _count_keys(tally, name, frame_keys(frame, name), 1)
            continue
        for doc in rows.values():
            for key in doc_keys(doc, name):
                _step(counts, key, 1)
        _let_go_if_too_many(tally, name)
    return tally


def add_rows(tally: Tally, names: Iterable[str], frame: pl.DataFrame) -> None:
    """Count new documents given as a frame's rows (a field it lacks: absent in each)."""
    tally["*"] += frame.height
    for name in names:
        _count_keys(tally, name, frame_keys(frame, name), 1)


def remove_rows(tally: Tally, names: Iterable[str], frame: pl.DataFrame) -> None:
    """Count documents gone, given as a frame's rows (their fields as `read_types` reads them)."""
    tally["*"] -= frame.height
    for name in names:
        _count_keys(tally, name, frame_keys(frame, name), -1)


def _count_keys(tally: Tally, name: str, keys: pl.Series, step: int) -> None:
    """Each key of `name` counted `step` times as often as it occurs (a count that reaches 0
    is dropped; counts no longer kept, `MOST_VALUES`, stay so)."""
    counts = tally[name]
    if counts is None:
        return
    for key, n in keys.value_counts(name="n").iter_rows():
        _step(counts, key, step * n)
    _let_go_if_too_many(tally, name)


def _step(counts: dict[str, int], key: str, step: int) -> None:
    counts[key] = counts.get(key, 0) + step
    if not counts[key]:
        del counts[key]


def count_doc(tally: Tally, names: Iterable[str], doc: Mapping[str, Any], step: int = 1) -> None:
    """Count `doc` `step` times more (fewer, when negative): among the documents, and under
    each of its value keys of `names` (a server's group of `step` alike documents: `count_table`)."""
    tally["*"] += step
    for name in names:
        counts = tally[name]
        if counts is not None:
            for key in doc_keys(doc, name):
                _step(counts, key, step)
            _let_go_if_too_many(tally, name)


def _let_go_if_too_many(tally: Tally, name: str) -> None:
    counts = tally[name]
    if counts is not None and len(counts) > MOST_VALUES:
        tally[name] = None


def change_docs(tally: Tally, names: Iterable[str], old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]) -> None:
    """Count documents changed from `old` to `new`, document for document (a patch: each
    holding at least the fields `names` read)."""
    names = tuple(names)
    for before, after in zip(old, new, strict=True):
        count_doc(tally, names, before, -1)
        count_doc(tally, names, after)


def adjust(tally: Tally, names: Iterable[str], old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> None:
    """Count a document's change from `old` to `new` (None: absent)."""
    names = tuple(names)
    if old is not None:
        count_doc(tally, names, old, -1)
    if new is not None:
        count_doc(tally, names, new)
