"""The store's customers and prospects in compared form, with their blocks and weights,
kept per store and brought up to date with the records changed since (so one new
record is checked in milliseconds, also right after a write).

Built once per store and process from the fields the store keeps decoded (no JSON
is parsed). Afterwards the engine tells which records changed (`take_changes`, read
by the matcher as its own reader): each changed record's row is retired and its
record as it is now appended, normalised alone. Each update makes a new `Index`
(the arrays it shares are never changed), so a thread holding the previous one reads
a consistent index while another brings it up to date. The sweep compacts the index
first (retired rows out, value counts and blocks afresh); a bulk change (more than
a quarter of the records), a reload or another default country builds it again.
"""
from __future__ import annotations

import threading
import weakref
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from store.base.errors import TooManyToMatch
from store.matching import saved
from store.matching.blocking import BlockIndex, block_index, block_keys, with_sounds
from store.matching.compare import Array
from store.matching.normalise import FIELDS, normalised
from store.matching.pairs import RecordRef
from store.matching.weights import TERM_FREQUENCY, Weights, estimate, with_counts
from store.model import CUSTOMERS, SOURCES
from store.store import Store

MATCHED = (CUSTOMERS, SOURCES)
READER = "matcher"  # the matcher's name as a reader of the engine's changes
# The index holds every customer and prospect normalised, with their blocks: a sweep of
# 1,000,000 peaks at 5.5 GB. Beyond this many, a process does not build it (at 10,000,000
# it would need ~55 GB: polars aborted the process at 8 GB under a 16 GB limit).
MATCHED_STORE = 2_000_000
_COUNTED = tuple(TERM_FREQUENCY.values())


@dataclass
class Index:
    refs: list[RecordRef]        # row -> record
    raw: pl.DataFrame            # the records' fields as stored (`FIELDS`)
    norm: pl.DataFrame           # the same rows, normalised (`prepared`) and `with_counts`
    weights: Weights
    keys: pl.DataFrame           # (rule, key, row): the blocks
    region: str | None           # the store's default country: phones without one are read there
    alive: Array                 # per row: False once the record changed or is gone (a newer row holds it)
    blocks: BlockIndex
    rows_of: dict[RecordRef, int]  # record -> its live row
    counts: dict[str, Counter[str]] | None = None  # value counts, kept once rows were appended
    learned: Weights | None = field(default=None, repr=False)

    def alive_at(self, at: Array) -> Array:
        return self.alive[at]

    def ref_at(self, row: int) -> RecordRef:
        return self.refs[row]

    def stored(self, store: Store, at: Array) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(fields as stored, normalised and counted as they are now) of these rows, in their order."""
        return rows(self.raw, at), self.counted(rows(self.norm, at))

    def row_of(self, ref: RecordRef) -> int | None:
        return self.rows_of.get(ref)

    @property
    def compact(self) -> bool:
        """Whether every row is live and counted as built (what the sweep needs)."""
        return self.counts is None

    def counted(self, stored: pl.DataFrame) -> pl.DataFrame:
        """Rows of `norm` with their value counts as they are now (appended rows moved them)."""
        if self.counts is None:
            return stored
        return stored.with_columns(
            pl.Series(c + "_n", [None if v is None else self.counts[c].get(v) for v in stored[c].to_list()],
                      dtype=pl.UInt32) for c in _COUNTED)


def raw_frame(records: list[Mapping[str, Any]]) -> pl.DataFrame:
    """The matched fields of records (dicts) as text columns (a value of another type as its text)."""
    return pl.DataFrame([pl.Series(f, [r.get(f) for r in records], dtype=pl.String, strict=False) for f in FIELDS])


def prepared(raw: pl.DataFrame, region: str | None) -> pl.DataFrame:
    """Records normalised and ready to block: `normalised` plus the sound of the surname."""
    return with_sounds(normalised(raw, region))


def _stored(store: Store, ids: Mapping[str, set[int]] | None = None) -> tuple[list[RecordRef], pl.DataFrame]:
    """The records (all, or these ids by table) as stored, in (table, id) order."""
    refs: list[RecordRef] = []
    frames = []
    for table in MATCHED:
        wanted = None if ids is None else ids.get(table, set())
        if wanted is not None and not wanted:
            continue
        found = store.frame(table, wanted)
        refs.extend(RecordRef(table, int(i)) for i in found["id"].to_list())
        frames.append(found.select(pl.col(f).cast(pl.String) for f in FIELDS))
    return refs, pl.concat(frames) if frames else raw_frame([])


def _region(store: Store) -> str | None:
    region = store.settings.get("default_country")
    return region if isinstance(region, str) else None


def build(store: Store, step: Callable[[], None] | None = None) -> Index:
    """The index of the store as it is now, kept beside it (`saved`); `step` is called
    between the stages (a sweep's chance to report progress, or to be stopped).
    TooManyToMatch when the store holds more records than it may (`MATCHED_STORE`)."""
    refuse_too_many(store)
    store.take_changes(READER)  # (before reading: a change made meanwhile is taken next time)
    state = saved.state_of(store)  # (likewise: a change made meanwhile is applied again, no harm)
    refs, raw = _stored(store)
    if step is not None:
        step()
    region = _region(store)
    norm = with_counts(prepared(raw, region))
    if step is not None:
        step()
    index = _indexed(refs, raw, norm, estimate(norm), region)
    saved.save(store, index, state)
    return index


def refuse_too_many(store: Store) -> None:
    """TooManyToMatch, naming the store and its count, when it holds more customers and
    prospects than `MATCHED_STORE` (told by the counts kept with each commit: nothing is read)."""
    stats = store.stats()
    held = stats["customers"] + stats["sources"]
    if held > MATCHED_STORE:
        raise TooManyToMatch(f"{store.where}: {held:,} customers and prospects are more than the duplicate "
                             f"matcher compares in one process ({MATCHED_STORE:,}); email, phone and VAT id "
                             "are still checked with every write")


def looked_up(store: Store) -> Index | saved.Saved:
    """What checking a few records against the store reads: the index this process holds,
    else the one kept beside the store (`saved`: nothing of the whole store is read), else
    the index built now (and kept)."""
    with _LOCK:
        held = _CACHE.get(store)
    if held is None:
        found = saved.load(store, _region(store))
        if found is not None:
            return found
    return index_of(store)


def _indexed(refs: list[RecordRef], raw: pl.DataFrame, norm: pl.DataFrame, weights: Weights,
             region: str | None) -> Index:
    keys = block_keys(norm)
    return Index(refs=refs, raw=raw, norm=norm, weights=weights, keys=keys, region=region,
                 alive=np.ones(len(refs), dtype=bool), blocks=block_index(keys),
                 rows_of={ref: row for row, ref in enumerate(refs)})


def _value_counts(norm: pl.DataFrame, alive: Array) -> dict[str, Counter[str]]:
    live = norm.filter(pl.Series(alive))
    return {c: Counter(dict(live[c].drop_nulls().value_counts().iter_rows())) for c in _COUNTED}


def updated(index: Index, store: Store, changes: Mapping[str, set[int]]) -> Index:
    """A new index: `index` with the changed records' rows retired and their records as they
    are now appended."""
    refs = list(index.refs)
    alive = index.alive.copy()
    # (Counted in place: an older index read meanwhile sees counts a record or two ahead, no harm.)
    counts = index.counts if index.counts is not None else _value_counts(index.norm, index.alive)
    rows_of = dict(index.rows_of)
    for table in MATCHED:
        for doc_id in changes.get(table, ()):
            row = rows_of.pop(RecordRef(table, doc_id), None)
            if row is not None:
                alive[row] = False
                for c in _COUNTED:
                    value = index.norm[c][row]
                    if value is not None:
                        counts[c][value] -= 1
    new_refs, raw = _stored(store, {t: set(changes.get(t, ())) for t in MATCHED})
    if not new_refs:
        return replace(index, alive=alive, counts=counts, rows_of=rows_of)
    norm = prepared(raw, index.region)
    for c in _COUNTED:
        counts[c].update(v for v in norm[c].to_list() if v is not None)
    start = len(refs)
    norm = norm.with_columns(pl.Series(c + "_n", [None if v is None else counts[c][v] for v in norm[c].to_list()],
                                       dtype=pl.UInt32) for c in _COUNTED)
    keys = block_keys(norm).with_columns(pl.col("row") + start)
    for offset, ref in enumerate(new_refs):
        rows_of[ref] = start + offset
    refs.extend(new_refs)
    return replace(index, refs=refs, raw=pl.concat([index.raw, raw]), alive=np.concatenate([alive, np.ones(len(new_refs), dtype=bool)]),
                   norm=pl.concat([index.norm, norm.select(index.norm.columns)], how="vertical_relaxed"),
                   keys=pl.concat([index.keys, keys]), blocks=index.blocks.with_rows(keys), counts=counts,
                   rows_of=rows_of)


def compacted(index: Index) -> Index:
    """The index with only its live rows, counted and blocked afresh (its weights kept)."""
    if index.compact:
        return index
    keep = np.flatnonzero(index.alive)
    live = pl.Series(index.alive)
    norm = with_counts(index.norm.filter(live).drop([c + "_n" for c in _COUNTED]))
    fresh = _indexed([index.refs[i] for i in keep], index.raw.filter(live), norm, index.weights, index.region)
    fresh.learned = index.learned
    return fresh


_CACHE: weakref.WeakKeyDictionary[Store, Index] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()  # one thread brings a store's index up to date at a time


def learn(store: Store, index: Index, weights: Weights) -> None:
    """Weigh with `weights` from now on (learned by a sweep of `index`): kept for the store's later
    checks, also once its index is built again (a few changed records do not move m)."""
    index.weights = weights
    index.learned = weights
    with _LOCK:
        held = _CACHE.get(store)
        if held is not None and held is not index:
            held.weights, held.learned = weights, weights


def _learned(index: Index, before: Index | None) -> Index:
    if before is not None and before.learned is not None:
        index.weights = replace(index.weights, m=before.learned.m, share=before.learned.share)
        index.learned = before.learned
    return index


def index_of(store: Store, step: Callable[[], None] | None = None, *, compact: bool = False) -> Index:
    """The store's index, brought up to date with the records changed since it was last asked
    for; `compact`: with retired rows left out (`compacted`)."""
    with _LOCK:
        held = _CACHE.get(store)
        try:
            changes = store.take_changes(READER) if held is not None else None
            if held is None or changes is None or held.region != _region(store) or _bulk(held, changes):
                fresh = _learned(build(store, step), held)
            else:
                fresh = updated(held, store, changes) if any(changes.get(t) for t in MATCHED) else held
        except BaseException:
            # (A sweep stopped while building, a store that could not be read: the changes taken
            # are in no index now, so the next look builds afresh.)
            _CACHE.pop(store, None)
            raise
        if compact:
            fresh = compacted(fresh)
        _CACHE[store] = fresh
        return fresh


def _bulk(index: Index, changes: Mapping[str, set[int]]) -> bool:
    """Whether so many records changed that building again costs no more (and keeps no dead rows)."""
    changed = sum(len(changes.get(t, ())) for t in MATCHED)
    return changed > max(len(index.rows_of), 1000) // 4 or len(index.refs) + changed > 2 * max(len(index.rows_of), 1000)


def rows(frame: pl.DataFrame, at: Array) -> pl.DataFrame:
    return frame[np.asarray(at, dtype=np.int64)]
