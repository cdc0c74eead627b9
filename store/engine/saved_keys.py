"""The keys of the snapshot's documents, kept beside the store as `<store>.json.keys`.

A small command (a 3-row import, a sync of a few records) finds who holds a few
keys by normalising a key field of every document (`Indexes._scan`): ~10 ms per
field and 100,000 documents, at every run, for work that depends on the snapshot
alone. The first run after a new snapshot keeps the normalised columns in this
file, tagged with the snapshot's generation like the columns file; later runs,
and the app's key indexes, read them instead (a file of another generation, or
whose ids are not the table's, is ignored). Only the snapshot's documents are in
it: the ones written since are keyed from themselves.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from pathlib import Path

import polars as pl

from store.engine.columns import read_frames, write_frames

# (table, its snapshot columns) → `id` and each keyed field of the table, normalised.
Normalise = Callable[[str, pl.DataFrame], pl.DataFrame]


class SavedKeys:
    """The keys file of one snapshot generation."""

    def __init__(self, path: Path, generation: str, tables: Iterable[str], verify: Callable[[], None]) -> None:
        self._path = path
        self._generation = generation
        self._tables = tuple(tables)
        self._verify = verify

    def keys(self, table: str, base: pl.DataFrame, normalise: Normalise) -> pl.DataFrame:
        """The table's keys: saved, or normalised now and saved for the next run."""
        found = read_frames(self._path, self._generation, [table]).get(table)
        if found is not None and found["id"].equals(base["id"]):
            return found
        found = normalise(table, base)
        self._save(table, found)
        return found

    def _save(self, table: str, keys: pl.DataFrame) -> None:
        """Best effort, beside the other tables' saved keys: a store in a folder that cannot be
        written normalises again next time. Nothing is derived from a damaged store (`verify`
        raises StoreCorrupt first)."""
        self._verify()
        others = read_frames(self._path, self._generation, [name for name in self._tables if name != table])
        with contextlib.suppress(OSError):
            write_frames(self._path, self._generation, others | {table: keys})
