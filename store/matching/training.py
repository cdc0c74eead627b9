"""m and the share of duplicates, learned from the store's own candidate pairs by EM.

The documented M (weights.M) and DUPLICATE_SHARE are where learning starts and what
it is pulled towards (M_PSEUDO pairs' and SHARE_PSEUDO records' worth): a small store
keeps them nearly as they are, a large one speaks for itself — a file where first
names are often retyped learns that a different first name says less there.
u stays as measured on random pairs (weights.estimate).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from store.matching.compare import COMPARED, MISSING, Array
from store.matching.score import Scored
from store.matching.weights import DUPLICATE_SHARE, M, Weights, evidence, probability, total

EM_ROUNDS = 10
M_PSEUDO = 200
SHARE_PSEUDO = 500


def _joined(parts: list[Scored], pick: str) -> dict[str, Array]:
    return {name: np.concatenate([getattr(p, pick)[name] for p in parts]) for name in COMPARED}


def _m_step(level: Array, match: Array, start: dict[int, float]) -> dict[int, float]:
    seen = float(match[level != MISSING].sum()) + M_PSEUDO
    return {lv: (float(match[level == lv].sum()) + M_PSEUDO * share) / seen for lv, share in start.items()}


def train(weights: Weights, parts: list[Scored]) -> Weights:
    """The weights with m and the share of duplicates learned from scored candidate pairs."""
    if not parts or weights.records < 2:
        return weights
    levels, lu = _joined(parts, "levels"), _joined(parts, "log_u")
    personal = np.concatenate([p.personal_emails for p in parts])
    differs = np.concatenate([p.personal_differs for p in parts])
    learned = weights
    for _ in range(EM_ROUNDS):
        match = probability(total(learned, evidence(learned.m, levels, lu, personal), levels, differs))
        share = (float(match.sum()) + SHARE_PSEUDO * DUPLICATE_SHARE) / (weights.records + SHARE_PSEUDO)
        learned = replace(learned, m={name: _m_step(levels[name], match, M[name]) for name in COMPARED}, share=share)
    return learned


def rescored(weights: Weights, scored: Scored) -> Scored:
    """The same pairs weighed with other weights (the levels stay)."""
    by_field = evidence(weights.m, scored.levels, scored.log_u, scored.personal_emails)
    odds = total(weights, by_field, scored.levels, scored.personal_differs)
    return replace(scored, weights=by_field, probability=probability(odds))
