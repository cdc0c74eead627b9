"""The store-wide sweep and the check of one record: blocks, scores, pairs."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import polars as pl

from store.matching.blocking import block_keys, candidate_pairs, rows_sharing
from store.matching.compare import COMPARED
from store.matching.index import Index, index_of, learn, prepared, raw_frame, rows
from store.matching.pairs import REVIEW, Pair, RecordRef, band_of
from store.matching.reasons import SHOWN, evidence, reasons
from store.matching.score import Scored, score
from store.matching.training import rescored, train
from store.store import Store

CHUNK = 50_000  # pairs scored at a time (a progress step, and bounded memory)
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
            if frozenset((a, b)) in distinct:
                continue
            pair = _pair(a, b, scored, int(i), sides[left], sides[right])
            if pair.score >= threshold:
                found.append(pair)
    found.sort(key=lambda p: (-p.score, p.a, p.b))
    return found


def matches_for(store: Store, table: str, record: Mapping[str, Any], *, exclude: RecordRef | None = None,
                limit: int = 10) -> list[Pair]:
    """The stored records likely the same as `record`, surest first (`a`: the stored one)."""
    index = index_of(store)
    raw = raw_frame([record])
    norm = prepared(raw, index.region)
    candidates = rows_sharing(index.blocks, block_keys(norm))
    candidates = candidates[index.alive[candidates]]
    own = index.row_of(exclude) if exclude is not None else None
    if own is not None:
        candidates = candidates[candidates != own]
    if candidates.size == 0:
        return []
    scored = score(index.weights, index.counted(rows(index.norm, candidates)),
                   rows(norm, np.zeros(candidates.size, dtype=np.int64)), by_pair=1 if own is None else 2)
    b = RecordRef(table, exclude.id if exclude is not None else 0)
    distinct = store.distinct_pairs() if exclude is not None else set()
    order = np.argsort(-scored.probability, kind="stable")
    found: list[Pair] = []
    new_side = _Sides(raw, norm)[0]
    for i in order:
        if scored.probability[i] < REVIEW - 0.0005 or len(found) >= limit:
            break
        a = index.refs[int(candidates[i])]
        if frozenset((a, b)) in distinct:
            continue
        pair = _pair(a, b, scored, int(i), _Sides(index.raw[int(candidates[i])], index.norm[int(candidates[i])])[0], new_side)
        if pair.score >= REVIEW:
            found.append(pair)
    return found
