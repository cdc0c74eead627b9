"""The store-wide sweep and the check of one record: blocks, scores, pairs."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import polars as pl

from store.base.errors import TooManyToMatch
from store.matching.blocking import BLOCK_CAP, block_keys, candidate_pairs
from store.matching.compare import COMPARED, Array
from store.matching.index import MATCHED, Index, index_of, learn, looked_up, prepared, raw_frame, rows
from store.matching.pairs import REVIEW, Pair, RecordRef, band_of
from store.matching.reasons import SHOWN, evidence, reasons
from store.matching.saved import Saved
from store.matching.score import Scored, score
from store.matching.training import rescored, train
from store.rules.validation import IDENTITY_FIELDS
from store.store import Store

CHUNK = 50_000  # pairs scored at a time (a progress step, and bounded memory)
IDENTITY_NAMES = tuple(dict.fromkeys(IDENTITY_FIELDS.values()))  # (email, phone, vat_id: a mobile is found as a phone)
Progress = Callable[[int, int], None]


class _Sides:
    """Records' fields as stored, and as compared (prefixed '_'), for the pairs' reasons."""

    def __init__(self, raw: pl.DataFrame, norm: pl.DataFrame) -> None:
        self.columns = {**raw.to_dict(as_series=False),
                        **{"_" + c: norm.get_column(c).to_list() for c in set(SHOWN.values())}}

    def __getitem__(self, row: int) -> dict[str, Any]:
        return {name: values[row] for name, values in self.columns.items()}


def _pair(a: RecordRef, b: RecordRef, scored: Scored, i: int, left: dict[str, Any], right: dict[str, Any]) -> Pair:
    levels = {name: int(scored.levels[name][i]) for name in COMPARED}
    weights = {name: float(scored.weights[name][i]) for name in COMPARED}
    value = round(float(scored.probability[i]), 3)
    return Pair(a=a, b=b, score=value, band=band_of(value),
                reasons=reasons(levels, weights, bool(scored.swapped[i]), left, right),
                evidence=evidence(levels, left, right))


def _scored_chunks(index: Index, pairs: pl.DataFrame, progress: Progress | None) -> list[tuple[pl.DataFrame, Scored]]:
    done = []
    for start in range(0, max(pairs.height, 1), CHUNK):
        part = pairs.slice(start, CHUNK)
        if part.height:
            done.append((part, score(index.weights, rows(index.norm, part["left"].to_numpy()),
                                     rows(index.norm, part["right"].to_numpy()))))
        if progress is not None:
            progress(min(start + CHUNK, pairs.height), pairs.height)
    return done


def find_pairs(store: Store, *, min_score: float | None = None, progress: Progress | None = None) -> list[Pair]:
    """Every likely duplicate pair across the store's customers and prospects, surest first;
    pairs a person has said are not duplicates are left out."""
    # While the index is built nothing is compared yet: "0 of 1", a step to report (or be stopped at).
    index = index_of(store, None if progress is None else lambda: progress(0, 1), compact=True)
    threshold = REVIEW if min_score is None else min_score
    distinct = store.distinct_pairs()
    found: list[Pair] = []
    parts = _scored_chunks(index, candidate_pairs(index.keys), progress)
    learn(store, index, train(index.weights, [scored for _, scored in parts]))
    sides = _Sides(index.raw, index.norm)
    for part, first in parts:
        scored = rescored(index.weights, first)
        lefts, rights = part["left"].to_numpy(), part["right"].to_numpy()
        for i in np.flatnonzero(scored.probability >= threshold - 0.0005):
            left, right = int(lefts[i]), int(rights[i])
            a, b = index.refs[left], index.refs[right]
            if distinct and frozenset((a, b)) in distinct:
                continue
            pair = _pair(a, b, scored, int(i), sides[left], sides[right])
            if pair.score >= threshold:
                found.append(pair)
    # (Keys of plain values: comparing the RecordRefs themselves costs a Python call each.)
    found.sort(key=lambda p: (-p.score, p.a.table, p.a.id, p.b.table, p.b.id))
    return found


def sweep_pairs(store: Store, *, min_score: float | None = None,
          progress: Progress | None = None) -> tuple[list[Pair], str | None]:
    """`find_pairs`, or in a store too large for the matcher `identity_pairs` (those scoring
    `min_score` or more, when given), with why in one line (None: the matcher's pairs)."""
    try:
        return find_pairs(store, min_score=min_score, progress=progress), None
    except TooManyToMatch as err:
        pairs = [pair for pair in identity_pairs(store) if min_score is None or pair.score >= min_score]
        return pairs, f"{err}; listed: the pairs sharing an email, phone or VAT id"


def identity_pairs(store: Store) -> list[Pair]:
    """The customers and prospects that share an email, phone or VAT id (a value held by at
    most `BLOCK_CAP`: a switchboard number says little), but those a person said are two:
    what a store too large for the matcher (TooManyToMatch) is swept for instead, grouped
    where the data is (a server groups its own). Not scored (0.0): the reasons say what
    they share; the most shared first."""
    distinct = store.distinct_pairs()
    shared: dict[tuple[RecordRef, RecordRef], list[str]] = {}
    for name, _key, holders in store.shared_keys(MATCHED, IDENTITY_NAMES, BLOCK_CAP):
        for a, b in combinations(sorted(RecordRef(table, doc_id) for table, doc_id in holders), 2):
            if frozenset((a, b)) not in distinct:
                said = shared.setdefault((a, b), [])
                if f"same {name}" not in said:
                    said.append(f"same {name}")
    pairs = [Pair(a, b, 0.0, band_of(0.0), tuple(said), {}) for (a, b), said in shared.items()]
    pairs.sort(key=lambda p: (-len(p.reasons), p.a.table, p.a.id, p.b.table, p.b.id))
    return pairs


def matches_for(store: Store, table: str, record: Mapping[str, Any], *, exclude: RecordRef | None = None,
                limit: int = 10) -> list[Pair]:
    """The stored records likely the same as `record`, surest first (`a`: the stored one);
    `exclude`: the record itself, when it is stored (then pairs a person said are not
    duplicates are left out too)."""
    return _matches(store, table, [record], [exclude], limit)[0]


def matches_among(store: Store, table: str, records: Sequence[Mapping[str, Any]], *, limit: int = 3) -> list[list[Pair]]:
    """For each of some new records (an import's rows, a sync's), the stored records likely the
    same, surest first: all compared at once (`matches_for` one by one would cost ~10 ms each)."""
    return _matches(store, table, records, [None] * len(records), limit)


def _own_rows(index: Index | Saved, excludes: Sequence[RecordRef | None]) -> Array:
    """Each looked-up record's own row in the index (-1: not stored)."""
    found = [None if e is None else index.row_of(e) for e in excludes]
    return np.array([-1 if row is None else row for row in found], dtype=np.int64)


def _matches(store: Store, table: str, records: Sequence[Mapping[str, Any]], excludes: Sequence[RecordRef | None],
             limit: int) -> list[list[Pair]]:
    try:
        index = looked_up(store)
    except TooManyToMatch:
        # A store of millions: none found here. Every write checks the records' email, phone
        # and VAT id itself (an import, a sync, a sign-up, an activation's suggestions).
        return [[] for _ in records]
    raw = raw_frame(list(records))
    norm = prepared(raw, index.region)
    stored, of = index.blocks.sharing(block_keys(norm))
    own = _own_rows(index, excludes)
    keep = index.alive_at(stored) & (stored != own[of])
    stored, of = stored[keep], of[keep]
    stored_raw, stored_norm = index.stored(store, stored)
    parts = []  # (scored chunk, its pairs' positions in stored/of)
    for start in range(0, stored.size, CHUNK):
        at = np.arange(start, min(start + CHUNK, stored.size))
        parts.append((score(index.weights, rows(stored_norm, at), rows(norm, of[at]),
                            by_pair=np.where(own[of[at]] >= 0, 2, 1)), at))
    found: list[list[Pair]] = [[] for _ in records]
    if not parts:
        return found
    likely = [(float(scored.probability[i]), c, int(i)) for c, (scored, _) in enumerate(parts)
              for i in np.flatnonzero(scored.probability >= REVIEW - 0.0005)]
    distinct = store.distinct_pairs() if any(e is not None for e in excludes) else set()
    new_sides = _Sides(raw, norm)
    for _, c, i in sorted(likely, key=lambda x: -x[0]):
        scored, at = parts[c]
        where, record = int(at[i]), int(of[at[i]])
        exclude = excludes[record]
        a, b = index.ref_at(int(stored[where])), RecordRef(table, 0 if exclude is None else exclude.id)
        if len(found[record]) >= limit or frozenset((a, b)) in distinct:
            continue
        pair = _pair(a, b, scored, i, _Sides(stored_raw[where], stored_norm[where])[0], new_sides[record])
        if pair.score >= REVIEW:
            found[record].append(pair)
    return found
