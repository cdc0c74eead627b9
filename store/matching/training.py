"""m and the share of duplicates, learned from the store's own candidate pairs by EM.

The documented M (weights.M) and DUPLICATE_SHARE are where learning starts and what
it is pulled towards (M_PSEUDO pairs' and SHARE_PSEUDO records' worth): a small store
keeps them nearly as they are, a large one speaks for itself — a file where first
names are often retyped learns that a different first name says less there — but
only within M_FACTOR of the documented shares (EM left alone among thousands of
namesakes learns that duplicates differ in everything but the name).
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
# Learned m stays within this factor of the documented share either way (see `_m_step`).
M_FACTOR = 5.0
# Candidate pairs EM learns from, at most (a random sample of them beyond: at 1M records a
# sweep scores millions, and m moves no further for more).
TRAINED_ON = 1_000_000
SAMPLE_SEED = 25


def _joined(parts: list[Scored], pick: str, sample: Array | None) -> dict[str, Array]:
    joined = {name: np.concatenate([getattr(p, pick)[name] for p in parts]) for name in COMPARED}
    return joined if sample is None else {name: values[sample] for name, values in joined.items()}


def _sample(parts: list[Scored]) -> Array | None:
    total = sum(p.probability.size for p in parts)
    if total <= TRAINED_ON:
        return None
    return np.sort(np.random.default_rng(SAMPLE_SEED).choice(total, TRAINED_ON, replace=False))


def _m_step(level: Array, match: Array, start: dict[int, float], scale: float) -> dict[int, float]:
    """`scale`: how many candidate pairs each pair of `match` stands for (a sample's)."""
    seen = float(match[level != MISSING].sum()) * scale + M_PSEUDO
    learned = {lv: (float(match[level == lv].sum()) * scale + M_PSEUDO * share) / seen for lv, share in start.items()}
    # Within M_FACTOR of the documented share either way: what duplicates look like is known, the
    # store only tunes it. Unbounded, a store of many namesakes (the demo's 100,000 customers)
    # taught EM that duplicates differ in everything but the name: 521 "sure" pairs of strangers.
    bounded = {lv: min(max(m, start[lv] / M_FACTOR), start[lv] * M_FACTOR) for lv, m in learned.items()}
    total = sum(bounded.values())
    return {lv: m / total for lv, m in bounded.items()}


def train(weights: Weights, parts: list[Scored]) -> Weights:
    """The weights with m and the share of duplicates learned from scored candidate pairs."""
    if not parts or weights.records < 2:
        return weights
    sample = _sample(parts)
    levels, lu = _joined(parts, "levels", sample), _joined(parts, "log_u", sample)
    personal = np.concatenate([p.personal_emails for p in parts])
    differs = np.concatenate([p.personal_differs for p in parts])
    if sample is not None:
        personal, differs = personal[sample], differs[sample]
    # A sample's pairs stand for all the candidate pairs (against the pseudo-counts too).
    scale = 1.0 if sample is None else sum(p.probability.size for p in parts) / sample.size
    learned = weights
    for _ in range(EM_ROUNDS):
        match = probability(total(learned, evidence(learned.m, levels, lu, personal), levels, differs))
        share = (float(match.sum()) * scale + SHARE_PSEUDO * DUPLICATE_SHARE) / (weights.records + SHARE_PSEUDO)
        learned = replace(learned, m={name: _m_step(levels[name], match, M[name], scale) for name in COMPARED}, share=share)
    return learned


def rescored(weights: Weights, scored: Scored) -> Scored:
    """The same pairs weighed with other weights (the levels stay)."""
    by_field = evidence(weights.m, scored.levels, scored.log_u, scored.personal_emails)
    odds = total(weights, by_field, scored.levels, scored.personal_differs)
    return replace(scored, weights=by_field, probability=probability(odds))
