"""Graded agreement of two records per field, for many pairs at once.

Each comparison gives a level per pair: MISSING (either side has no value),
DIFFERENT, FUZZY, CLOSE or EXACT. Similarities come from rapidfuzz's
`process.cpdist` (element-wise over two lists, on every core), never a Python
loop per pair.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import distance, fuzz, process

MISSING, DIFFERENT, FUZZY, CLOSE, EXACT = 0, 1, 2, 3, 4
LEVEL_NAMES = ("missing", "different", "close", "close", "exact")  # what a person is shown (fuzzy: close)

# Jaro-Winkler similarity at or above which a name is close (a typo, a letter left out) or fuzzy.
NAME_CLOSE, NAME_FUZZY = 0.92, 0.84
TEXT_CLOSE = 90  # token_sort_ratio of a company or street written another way

# The comparisons, in the order reasons and evidence list them.
COMPARED = ("first_name", "last_name", "email", "phone", "vat_id", "company", "address")

Array = np.ndarray[Any, np.dtype[Any]]


def _texts(frame: pl.DataFrame, column: str) -> list[str]:
    return frame[column].fill_null("").to_list()


def _similar(left: list[str], right: list[str], scorer: Callable[..., float]) -> Array:
    return process.cpdist(left, right, scorer=scorer, workers=-1, dtype=np.float32)


def _present(left: pl.DataFrame, right: pl.DataFrame, column: str) -> Array:
    return (left[column].is_not_null() & right[column].is_not_null()).to_numpy()


def _equal(left: pl.DataFrame, right: pl.DataFrame, column: str) -> Array:
    return (left[column] == right[column]).fill_null(False).to_numpy()


def _graded(present: Array, exact: Array, close: Array, fuzzy: Array | None = None) -> Array:
    level = np.full(present.shape, DIFFERENT, dtype=np.int8)
    if fuzzy is not None:
        level[fuzzy] = FUZZY
    level[close] = CLOSE
    level[exact] = EXACT
    level[~present] = MISSING
    return level


@dataclass
class Compared:
    """Per pair: a level per comparison (`COMPARED`), and whether first and last name were swapped."""

    levels: dict[str, Array]
    swapped: Array


def _names(left: pl.DataFrame, right: pl.DataFrame) -> tuple[Array, Array, Array]:
    """Levels of first and last name, taken crosswise where the two are swapped."""
    jw = distance.JaroWinkler.normalized_similarity
    lf, ll, rf, rl = (_texts(left, "fn"), _texts(left, "ln"), _texts(right, "fn"), _texts(right, "ln"))
    first, last = _similar(lf, rf, jw), _similar(ll, rl, jw)
    cross_first, cross_last = _similar(lf, rl, jw), _similar(ll, rf, jw)
    swapped = ((np.minimum(cross_first, cross_last) >= NAME_CLOSE)
               & (cross_first + cross_last > first + last + 0.1))
    first = np.where(swapped, cross_first, first)
    last = np.where(swapped, cross_last, last)
    present_first = _present(left, right, "fn")
    present_last = _present(left, right, "ln")
    # Swapped, each name was present on both sides exactly when both were.
    present = present_first & present_last
    present_first = np.where(swapped, present, present_first)
    present_last = np.where(swapped, present, present_last)
    levels = [_graded(p, s >= 0.9999, s >= NAME_CLOSE, s >= NAME_FUZZY)
              for p, s in ((present_first, first), (present_last, last))]
    return levels[0], levels[1], swapped


def _email(left: pl.DataFrame, right: pl.DataFrame) -> Array:
    """Exact: one address; close: the same local part at another domain, or a typo."""
    lev = _similar(_texts(left, "em"), _texts(right, "em"), distance.Levenshtein.normalized_similarity)
    close = _equal(left, right, "eml") | (lev >= 0.9)
    return _graded(_present(left, right, "em"), _equal(left, right, "em"), close)


def _phone(left: pl.DataFrame, right: pl.DataFrame) -> Array:
    """Exact: a number in common (phone or mobile, either way round); close: one digit apart."""
    present = ((left["p1"].is_not_null() | left["p2"].is_not_null())
               & (right["p1"].is_not_null() | right["p2"].is_not_null())).to_numpy()
    exact = np.zeros(left.height, dtype=bool)
    close = np.zeros(left.height, dtype=bool)
    for a in ("p1", "p2"):
        for b in ("p1", "p2"):
            exact |= _equal(left.select(p=a), right.select(p=b), "p")
            apart = _similar(_texts(left, a), _texts(right, b), distance.Hamming.distance)
            close |= (apart <= 1) & _present(left.select(p=a), right.select(p=b), "p")
    return _graded(present, exact, close)


def _text(left: pl.DataFrame, right: pl.DataFrame, column: str) -> Array:
    sort = _similar(_texts(left, column), _texts(right, column), fuzz.token_sort_ratio)
    return _graded(_present(left, right, column), _equal(left, right, column), sort >= TEXT_CLOSE)


def _house_numbers_differ(left: pl.DataFrame, right: pl.DataFrame) -> Array:
    number = pl.col("st").str.extract(r"(\d+)")
    a, b = left.select(number).to_series(), right.select(number).to_series()
    return (a != b).fill_null(False).to_numpy()


def _address(left: pl.DataFrame, right: pl.DataFrame) -> Array:
    """Street, postcode and city as one comparison (they are not independent evidence):
    exact: the same street in the same postcode or city; close: the street written
    another way there; fuzzy: the same postcode (or city, without postcodes) only."""
    street = np.maximum(_text(left, right, "st"), _text(left, right, "sf"))
    street[(street >= CLOSE) & _house_numbers_differ(left, right)] = DIFFERENT
    postcode = _equal(left, right, "pc")
    city = _equal(left, right, "ci")
    city_jw = _similar(_texts(left, "ci"), _texts(right, "ci"), distance.JaroWinkler.normalized_similarity)
    city_close = city | (_present(left, right, "ci") & (city_jw >= NAME_CLOSE))
    postcode_near = postcode | (_present(left, right, "pc") & (
        _similar(_texts(left, "pc"), _texts(right, "pc"), distance.Levenshtein.distance) <= 1))
    place = postcode | (~_present(left, right, "pc") & city) | (postcode_near & city_close)
    present = _present(left, right, "st") | _present(left, right, "pc") | _present(left, right, "ci")
    return _graded(present, (street == EXACT) & place, (street >= CLOSE) & (place | postcode_near | city_close),
                   place & (street <= DIFFERENT))


def compare(left: pl.DataFrame, right: pl.DataFrame) -> Compared:
    """The levels of row i of `left` against row i of `right`, for every i (normalised frames)."""
    first, last, swapped = _names(left, right)
    vat = _graded(_present(left, right, "vat"), _equal(left, right, "vat"), _equal(left, right, "vat"))
    levels = {"first_name": first, "last_name": last, "email": _email(left, right), "phone": _phone(left, right),
              "vat_id": vat, "company": _text(left, right, "co"), "address": _address(left, right)}
    return Compared(levels, swapped)
