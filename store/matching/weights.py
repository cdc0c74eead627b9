"""The weight of the evidence, Fellegi–Sunter style, and the match probability it gives.

Each comparison level carries log2(m/u): m, how often two records of one person
agree at that level, is set here from what duplicates in customer files look
like (tuned on FEBRL and the multi-country CRM set, see bench/dedupe_bench.py);
u, how often two records of different people do, is measured on the store
itself from random pairs. An exact name, company or address weighs by how rare
the value is (term frequency: a shared "Müller" says less than a shared
"Zwiebelhaus").

Surname, address and a shared phone say "one household". When the first name
is not close and a personal email or a mobile differs, another member of that
household is the likelier story: the household evidence then counts for at
most HOUSEHOLD_BITS beyond the prior, and the first name and email decide — a
household member is not a duplicate. (A different first name alone, with no
email or mobile to tell, is weighed as any other evidence: files mistype and
replace first names.)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from store.matching.compare import CLOSE, COMPARED, DIFFERENT, EXACT, FUZZY, MISSING, Array, compare

# m: the share of true duplicate pairs at each level (MISSING weighs nothing).
M: dict[str, dict[int, float]] = {
    "first_name": {DIFFERENT: 0.02, FUZZY: 0.04, CLOSE: 0.09, EXACT: 0.85},
    "last_name": {DIFFERENT: 0.02, FUZZY: 0.05, CLOSE: 0.08, EXACT: 0.85},
    "email": {DIFFERENT: 0.30, CLOSE: 0.10, EXACT: 0.60},
    "phone": {DIFFERENT: 0.25, CLOSE: 0.05, EXACT: 0.70},
    "vat_id": {DIFFERENT: 0.002, EXACT: 0.998},
    "company": {DIFFERENT: 0.05, CLOSE: 0.15, EXACT: 0.80},
    "address": {DIFFERENT: 0.10, FUZZY: 0.10, CLOSE: 0.15, EXACT: 0.65},
}
# The column whose value's frequency stands for u at the exact level.
TERM_FREQUENCY = {"first_name": "fn", "last_name": "ln", "company": "co", "address": "st"}
HOUSEHOLD = ("last_name", "address", "phone")
HOUSEHOLD_BITS = 3.0
# u at each level between two records of different people, as in a typical customer file: what
# the store's own random pairs are blended with (U_WEIGHT pairs' worth), so that a small store
# is judged sensibly and a large one by itself.
U_TYPICAL: dict[str, dict[int, float]] = {
    "first_name": {DIFFERENT: 0.97, FUZZY: 0.02, CLOSE: 0.005, EXACT: 0.005},
    "last_name": {DIFFERENT: 0.98, FUZZY: 0.015, CLOSE: 0.003, EXACT: 0.002},
    "email": {DIFFERENT: 0.9989, CLOSE: 0.001, EXACT: 0.0001},
    "phone": {DIFFERENT: 0.9994, CLOSE: 0.0005, EXACT: 0.0001},
    "vat_id": {DIFFERENT: 0.9999, EXACT: 0.0001},
    "company": {DIFFERENT: 0.995, CLOSE: 0.004, EXACT: 0.001},
    "address": {DIFFERENT: 0.9893, FUZZY: 0.01, CLOSE: 0.0005, EXACT: 0.0002},
}
U_WEIGHT = 1000
# A value's share of the records is blended the same way: as if TYPICAL_RECORDS more records
# held values of the column's typical share each (a small store's "Müller" is not one in three;
# company names and streets are rarer than first names).
TYPICAL_RECORDS = 2000
TYPICAL_SHARE = {"fn": 1 / 300, "ln": 1 / 3000, "co": 1 / 50_000, "st": 1 / 20_000}
# Duplicate pairs per record before the store's own pairs tell (`training`): with the number of
# records (at least TYPICAL_RECORDS), the prior odds that two records picked at random are one person.
DUPLICATE_SHARE = 0.1
U_SAMPLE = 20_000
U_SEED = 25


@dataclass
class Weights:
    """What scoring a pair needs, measured on one set of records."""

    u: dict[str, dict[int, float]]  # comparison -> level -> u
    totals: dict[str, int]          # column -> records holding a value in it
    records: int                    # how many records the weights were measured on
    m: dict[str, dict[int, float]] = field(default_factory=lambda: {k: dict(v) for k, v in M.items()})
    share: float = DUPLICATE_SHARE  # duplicate pairs per record

    @property
    def prior(self) -> float:
        """log2 odds that two records picked at random are one person."""
        return math.log2(self.share * 2 / max(self.records - 1, TYPICAL_RECORDS))

    @property
    def household_cap(self) -> float:
        return -self.prior + HOUSEHOLD_BITS


def with_counts(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with, per term-frequency column, how many records hold the row's value."""
    return frame.with_columns(pl.when(pl.col(c).is_not_null()).then(pl.len().over(c)).alias(c + "_n")
                              for c in TERM_FREQUENCY.values())


def estimate(frame: pl.DataFrame) -> Weights:
    """u from random pairs of the records themselves (a frame `with_counts`)."""
    n = frame.height
    rng = np.random.default_rng(U_SEED)
    size = min(U_SAMPLE, n * (n - 1) // 2)
    u: dict[str, dict[int, float]] = {}
    if size > 0:
        left = rng.integers(0, n, size)
        right = (left + rng.integers(1, n, size)) % n  # never the same record
        levels = compare(frame[left], frame[right]).levels
    for name in COMPARED:
        typical = U_TYPICAL[name]
        counts = {level: float(np.count_nonzero(levels[name] == level)) if size else 0.0 for level in typical}
        total = sum(counts.values()) + U_WEIGHT
        u[name] = {level: (counts[level] + U_WEIGHT * typical[level]) / total for level in typical}
    totals = {c: n - frame[c].null_count() for c in TERM_FREQUENCY.values()}
    return Weights(u=u, totals=totals, records=n)


def _exact_u(weights: Weights, column: str, held: Array, by_pair: int | Array) -> Array:
    """How often another record holds the value: those holding it, less the pair itself
    (a name only these two records hold is as rare as a name can be)."""
    others = np.maximum(held - by_pair, 0)
    return (others + TYPICAL_RECORDS * TYPICAL_SHARE[column]) / (weights.totals[column] + TYPICAL_RECORDS)


def log_u(weights: Weights, left: pl.DataFrame, levels: dict[str, Array], by_pair: int | Array) -> dict[str, Array]:
    """log2 u per pair and comparison (0 where a side is missing); at the exact level by how many
    records hold the value (`left` is a stored row `with_counts`; `by_pair`: how many of the
    pair are among them, per pair or for all)."""
    out: dict[str, Array] = {}
    for name in COMPARED:
        level = levels[name]
        lu = np.zeros(level.shape, dtype=np.float64)
        for lv, u in weights.u[name].items():
            lu[level == lv] = math.log2(u)
        if name in TERM_FREQUENCY:
            at = np.flatnonzero(level == EXACT)
            if at.size:
                column = TERM_FREQUENCY[name]
                held = left.get_column(column + "_n").to_numpy()[at].astype(np.int64)
                pair_held = by_pair if isinstance(by_pair, int) else by_pair[at]
                lu[at] = np.log2(_exact_u(weights, column, held, pair_held))
        out[name] = lu
    return out


def evidence(m: dict[str, dict[int, float]], levels: dict[str, Array], lu: dict[str, Array],
             personal_emails: Array) -> dict[str, Array]:
    """log2(m/u) per pair and comparison; nothing where a side is missing."""
    out: dict[str, Array] = {}
    for name in COMPARED:
        level = levels[name]
        lm = np.zeros(level.shape, dtype=np.float64)
        for lv, share in m[name].items():
            lm[level == lv] = math.log2(share)
        w = np.where(level == MISSING, 0.0, lm - lu[name])
        if name == "email":
            # A role address (info@, office@ …) that differs says nothing about the person.
            w[(level == DIFFERENT) & ~personal_emails] = 0.0
        out[name] = w
    return out


def total(weights: Weights, by_field: dict[str, Array], levels: dict[str, Array], personal_differs: Array) -> Array:
    """The log2 odds of one person: prior plus the evidence, household evidence capped
    where a first name that is not close and a differing personal email or mobile say
    "another member"."""
    household = sum((np.maximum(by_field[name], 0.0) for name in HOUSEHOLD), np.zeros(1))
    against = sum((np.minimum(by_field[name], 0.0) for name in HOUSEHOLD), np.zeros(1))
    others = sum((by_field[name] for name in COMPARED if name not in HOUSEHOLD), np.zeros(1))
    member = (levels["first_name"] < CLOSE) & (levels["first_name"] != MISSING) & personal_differs
    household = np.where(member, np.minimum(household, weights.household_cap), household)
    return weights.prior + household + against + others


def probability(log2_odds: Array) -> Array:
    """The match probability of log2 odds."""
    return 1.0 / (1.0 + np.exp2(-np.clip(log2_odds, -60.0, 60.0)))  # type: ignore[no-any-return]
