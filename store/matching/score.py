"""Pairs of normalised records compared, weighed and given a match probability."""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from store.matching.compare import Array, compare
from store.matching.weights import Weights, evidence, log_u, probability, total


@dataclass
class Scored:
    """Per pair: levels and weights per comparison, swapped names, and the match probability."""

    levels: dict[str, Array]
    weights: dict[str, Array]
    swapped: Array
    probability: Array
    log_u: dict[str, Array]
    personal_emails: Array
    personal_differs: Array


def score(weights: Weights, left: pl.DataFrame, right: pl.DataFrame, *, by_pair: int | Array = 2) -> Scored:
    """Row i of `left` (stored) against row i of `right`; exact values weigh by how many other
    stored records hold them (`by_pair`: 2 when `right` is stored too, else 1; per pair or for all)."""
    compared = compare(left, right)
    personal = ~(left["role"].fill_null(False).to_numpy() | right["role"].fill_null(False).to_numpy())
    lu = log_u(weights, left, compared.levels, by_pair)
    by_field = evidence(weights.m, compared.levels, lu, personal)
    odds = total(weights, by_field, compared.levels, compared.personal_differs)
    return Scored(compared.levels, by_field, compared.swapped, probability(odds), lu, personal, compared.personal_differs)
