"""Which documents hold each identifying key (an email, a phone, a VAT id, a number …), in little memory.

A table's key index is built once from its columns and then follows every write. As a
dict of Python strings and ints it cost ~145 bytes a key: ~550 MB for the keys of a
million customers, a quarter of the app's memory. Here what is built is the keys in one
polars column (their bytes, ~30 a key) in the order of their hashes, with the hashes and
the ids in two arrays of 8-byte ints: a look-up bisects the hashes and compares the few
keys that share one (so a hash collision never answers for another key). What is written
after is kept beside them (added ids by key, removed pairs) until the next build.
"""
from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import TypeAlias

import polars as pl

from store.engine.slices import int64_array, int64_series, lists

NO_IDS: frozenset[int] = frozenset()  # held by no document (shared: never changed)
# Normalised keys to look up (None: none): a few in a list, an import's million as a column
# (a list of them held a str object each: 80 MB).
Keys: TypeAlias = "Sequence[str | None] | pl.Series"


class KeyedIds:
    """normalised key → ids of the documents holding it."""

    __slots__ = ("_added", "_hashes", "_held", "_ids", "_keys", "_removed")

    def __init__(self) -> None:
        self._hashes = array("q")
        self._ids = array("q")
        self._keys = pl.Series(dtype=pl.String)
        self._added: dict[object, set[int]] = {}
        self._removed: set[tuple[object, int]] = set()
        self._held = 0  # (key, id) pairs

    def _built(self, key: object) -> list[int]:
        digest = hash(key)
        start, end = bisect_left(self._hashes, digest), bisect_right(self._hashes, digest)
        keys, ids = self._keys, self._ids
        return [ids[at] for at in range(start, end) if keys[at] == key]

    def ids(self, key: object) -> AbstractSet[int]:
        built = self._built(key)
        if not built and key not in self._added:
            return NO_IDS  # (most keys an import asks: one set fewer each of a million)
        found = set(built)
        if self._removed:
            found = {doc_id for doc_id in found if (key, doc_id) not in self._removed}
        return found | self._added.get(key, set())

    def first(self, key: object) -> int | None:
        """The lowest id holding `key`, or None."""
        return min(self.ids(key), default=None)

    def add(self, key: object, doc_id: int) -> None:
        if (key, doc_id) in self._removed:
            self._removed.discard((key, doc_id))
        elif doc_id in self._built(key) or doc_id in self._added.get(key, ()):
            return
        else:
            self._added.setdefault(key, set()).add(doc_id)
        self._held += 1

    def discard(self, key: object, doc_id: int) -> None:
        added = self._added.get(key)
        if added is not None and doc_id in added:
            added.discard(doc_id)
            if not added:
                del self._added[key]
        elif doc_id in self._built(key) and (key, doc_id) not in self._removed:
            self._removed.add((key, doc_id))
        else:
            return
        self._held -= 1

    def add_all(self, keys: pl.Series, ids: pl.Series) -> None:
        """Add every (key, id) pair of the two columns whose key is not null."""
        pairs = pl.DataFrame({"key": keys, "id": ids}).drop_nulls("key")
        if len(self._hashes) or self._added or pairs["key"].dtype != pl.String:
            for key, doc_id in pairs.iter_rows():
                self.add(key, doc_id)
            return
        # Python's own hash of each key (what a look-up computes), then the pairs in its order.
        pairs = pairs.unique()  # (a document holding one key in two fields holds it once)
        hashed = pairs.with_columns(int64_series("hash", ([hash(key) for key in keys] for keys in lists(pairs["key"]))))
        hashed = hashed.sort("hash")
        self._hashes = int64_array(hashed["hash"])
        self._ids = int64_array(hashed["id"])
        self._keys = hashed["key"].rechunk()
        self._held = hashed.height

    def __contains__(self, key: object) -> bool:
        return bool(self.ids(key))

    def __len__(self) -> int:
        """How many (key, id) pairs are held: 0 when no key is."""
        return self._held
