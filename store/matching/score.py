"""Pairs of normalised records compared, weighed and given a match probability."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from store.matching.compare import Array, compare
from store.matching.weights import Weights, field_weights, probability, total


@dataclass
class Scored:
    """Per pair: levels and weights per comparison, swapped names, and the match probability."""

    levels: dict[str, Array]
    weights: dict[str, Array]
    swapped: Array
    probability: Array


def score(weights: Weights, left: pl.DataFrame, right: pl.DataFrame, *, by_pair: int = 2) -> Scored:
    """Row i of `left` (stored) against row i of `right`; exact values weigh by how many other
    stored records hold them (`by_pair`: 2 when `right` is stored too, else 1)."""
    compared = compare(left, right)
    personal = ~(left["role"].fill_null(False).to_numpy() | right["role"].fill_null(False).to_numpy())
    by_field = field_weights(weights, left, compared.levels, personal, by_pair)
    return Scored(compared.levels, by_field, compared.swapped, probability(total(weights, by_field, compared.levels)))


def at(scored: Scored, keep: Array) -> Scored:
    """The scored pairs at the positions `keep` only."""
    return Scored({k: v[keep] for k, v in scored.levels.items()}, {k: v[keep] for k, v in scored.weights.items()},
                  scored.swapped[keep], scored.probability[keep])


def empty() -> Scored:
    nothing = np.zeros(0)
    return Scored({}, {}, nothing.astype(bool), nothing)
