"""The store's customers and prospects in compared form, with their blocks and weights,
kept per store until the store changes (so one new record is checked in milliseconds)."""
from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from store.matching.blocking import BlockIndex, block_index, block_keys, with_sounds
from store.matching.compare import Array
from store.matching.normalise import FIELDS, normalised
from store.matching.pairs import RecordRef
from store.matching.weights import Weights, estimate, with_counts
from store.model import CUSTOMERS, SOURCES
from store.store import Store


@dataclass
class Index:
    token: tuple[int, ...]
    refs: list[RecordRef]        # row -> record, in (table, id) order
    raw: pl.DataFrame            # the records' fields as stored (`FIELDS`)
    norm: pl.DataFrame           # the same rows, normalised (`normalise.normalised`)
    weights: Weights
    keys: pl.DataFrame           # (rule, key, row): the blocks
    region: str | None           # the store's default country: phones without one are read there
    _blocks: BlockIndex | None = field(default=None, repr=False)
    _rows: dict[RecordRef, int] | None = field(default=None, repr=False)

    @property
    def blocks(self) -> BlockIndex:
        if self._blocks is None:
            self._blocks = block_index(self.keys)
        return self._blocks

    def row_of(self, ref: RecordRef) -> int | None:
        if self._rows is None:
            self._rows = {r: i for i, r in enumerate(self.refs)}
        return self._rows.get(ref)


def _token(store: Store) -> tuple[int, ...]:
    """What changes whenever a customer or prospect does: every change is journaled
    (an undo too), so the newest journal entry and the counts tell a changed store."""
    stats = store.stats()
    newest = store.journal(limit=1)
    return stats["customers"], stats["sources"], int(newest[0]["id"]) if newest else 0


def raw_frame(records: list[Mapping[str, Any]]) -> pl.DataFrame:
    """The matched fields of records (dicts) as text columns (a value of another type as its text)."""
    return pl.DataFrame([pl.Series(f, [r.get(f) for r in records], dtype=pl.String, strict=False) for f in FIELDS])


def _stored(store: Store) -> tuple[list[RecordRef], pl.DataFrame]:
    refs: list[RecordRef] = []
    records: list[Mapping[str, Any]] = []
    for table, found in ((CUSTOMERS, store.customers()), (SOURCES, store.sources())):
        for record in sorted(found, key=lambda r: int(r["id"])):
            refs.append(RecordRef(table, int(record["id"])))
            records.append(record)
    return refs, raw_frame(records)


def build(store: Store, step: Callable[[], None] | None = None) -> Index:
    """The index of the store as it is now; `step` is called between the stages (a sweep's
    chance to report progress, or to be stopped)."""
    token = _token(store)  # (before reading: a change made meanwhile makes the next look build again)
    refs, raw = _stored(store)
    region = store.settings.get("default_country")
    if step is not None:
        step()
    norm = with_counts(prepared(raw, region if isinstance(region, str) else None))
    if step is not None:
        step()
    weights = estimate(norm)
    learned = _LEARNED.get(store)
    if learned is not None:
        weights = replace(weights, m=learned.m, share=learned.share)
    return Index(token=token, refs=refs, raw=raw, norm=norm, weights=weights,
                 keys=block_keys(norm), region=region if isinstance(region, str) else None)


def prepared(raw: pl.DataFrame, region: str | None) -> pl.DataFrame:
    """Records normalised and ready to block: `normalised` plus the sound of the surname."""
    return with_sounds(normalised(raw, region))


_CACHE: weakref.WeakKeyDictionary[Store, Index] = weakref.WeakKeyDictionary()
# What the last sweep learned (training.train): kept for the store's later checks, also once
# its index is built again after a change (a few changed records do not move m).
_LEARNED: weakref.WeakKeyDictionary[Store, Weights] = weakref.WeakKeyDictionary()


def learn(store: Store, index: Index, weights: Weights) -> None:
    """Weigh with `weights` from now on (learned by a sweep of `index`)."""
    index.weights = weights
    _LEARNED[store] = weights


def index_of(store: Store, step: Callable[[], None] | None = None) -> Index:
    """The store's index, built again when the store has changed since (`build`)."""
    held = _CACHE.get(store)
    if held is not None and held.token == _token(store):
        return held
    fresh = build(store, step)
    _CACHE[store] = fresh
    return fresh


def rows(frame: pl.DataFrame, at: Array) -> pl.DataFrame:
    return frame[np.asarray(at, dtype=np.int64)]
