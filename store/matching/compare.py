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


# Below this many pairs, rapidfuzz's threads cost more than they save (one record's check).
THREADED_FROM = 5000


class Side:
    """One side of the pairs, read column by column once (numpy: no polars call per comparison)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame
        self.size = frame.height
        self._values: dict[str, Array] = {}
        self.roles = frame["role"].to_numpy()

    def values(self, column: str) -> Array:
        """The column as objects, missing as ''."""
        if column not in self._values:
            values = self.frame.get_column(column).to_list()
            self._values[column] = np.array(["" if v is None else v for v in values], dtype=object)
        return self._values[column]

    def texts(self, column: str) -> list[str]:
        return self.values(column).tolist()  # type: ignore[no-any-return]


def _similar(left: list[str], right: list[str], scorer: Callable[..., float]) -> Array:
    workers = -1 if len(left) >= THREADED_FROM else 1
    return process.cpdist(left, right, scorer=scorer, workers=workers, dtype=np.float32)


def _present(left: Side, right: Side, column: str) -> Array:
    return (left.values(column) != "") & (right.values(column) != "")  # type: ignore[no-any-return]


def _equal(left: Side, right: Side, column: str, other: str | None = None) -> Array:
    a, b = left.values(column), right.values(other or column)
    return (a == b) & (a != "")  # type: ignore[no-any-return]


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
    """Per pair: a level per comparison (`COMPARED`), whether first and last name were swapped,
    and whether something only one person has differs (a personal email or a mobile)."""

    levels: dict[str, Array]
    swapped: Array
    personal_differs: Array


def _names(left: Side, right: Side) -> tuple[Array, Array, Array]:
    """Levels of first and last name, taken crosswise where the two are swapped."""
    jw = distance.JaroWinkler.normalized_similarity
    lf, ll, rf, rl = left.texts("fn"), left.texts("ln"), right.texts("fn"), right.texts("ln")
    first, last = _similar(lf, rf, jw), _similar(ll, rl, jw)
    cross_first, cross_last = _similar(lf, rl, jw), _similar(ll, rf, jw)
    # Swapped (also when one of the two was then retyped or replaced: files do both).
    swapped = ((np.maximum(cross_first, cross_last) >= NAME_CLOSE)
               & (cross_first + cross_last > first + last + 0.1))
    # Half swapped, the name that crossed over is taken as the surname (what a household shares),
    # the other as the first name.
    first = np.where(swapped, np.minimum(cross_first, cross_last), first)
    last = np.where(swapped, np.maximum(cross_first, cross_last), last)
    present_first = _present(left, right, "fn")
    present_last = _present(left, right, "ln")
    # Swapped, each name was present on both sides exactly when both were.
    present = present_first & present_last
    present_first = np.where(swapped, present, present_first)
    present_last = np.where(swapped, present, present_last)
    levels = [_graded(p, s >= 0.9999, s >= NAME_CLOSE, s >= NAME_FUZZY)
              for p, s in ((present_first, first), (present_last, last))]
    return levels[0], levels[1], swapped


def _email(left: Side, right: Side) -> Array:
    """Exact: one address; close: the same personal local part at another domain, or a typo.
    Addresses that differ only in their numbers are different (providers number the
    addresses of people of one name: anna.meier1@, anna.meier7@)."""
    lev = _similar(left.texts("em"), right.texts("em"), distance.Levenshtein.normalized_similarity)
    roles = left.roles | right.roles
    numbered = _equal(left, right, "emx") & ~_equal(left, right, "em")
    close = ((_equal(left, right, "eml") & ~roles) | (lev >= 0.9)) & ~numbered
    return _graded(_present(left, right, "em"), _equal(left, right, "em"), close)


def _phone(left: Side, right: Side) -> Array:
    """Exact: a number in common (phone or mobile, either way round); close: one digit apart."""
    present = (((left.values("p1") != "") | (left.values("p2") != ""))
               & ((right.values("p1") != "") | (right.values("p2") != "")))
    exact = np.zeros(left.size, dtype=bool)
    close = np.zeros(left.size, dtype=bool)
    for a in ("p1", "p2"):
        for b in ("p1", "p2"):
            exact |= _equal(left, right, a, b)
            both = (left.values(a) != "") & (right.values(b) != "")
            if both.any():
                close |= both & (_similar(left.texts(a), right.texts(b), distance.Hamming.distance) <= 1)
    return _graded(present, exact, close)


def _text(left: Side, right: Side, column: str) -> Array:
    sort = _similar(left.texts(column), right.texts(column), fuzz.token_sort_ratio)
    return _graded(_present(left, right, column), _equal(left, right, column), sort >= TEXT_CLOSE)


def _house_numbers_differ(left: Side, right: Side) -> Array:
    return _present(left, right, "hn") & (left.values("hn") != right.values("hn"))  # type: ignore[no-any-return]


def _address(left: Side, right: Side) -> Array:
    """Street, postcode and city as one comparison (they are not independent evidence):
    exact: the same street in the same postcode or city; close: the street written
    another way there; fuzzy: the same postcode or city only (another street, or none)."""
    street = np.maximum(_text(left, right, "st"), _text(left, right, "sf"))
    # A space typed into or left out of a word ("hadlei gh", "lodersstreet").
    squeezed = _similar(left.texts("sn"), right.texts("sn"), distance.Levenshtein.normalized_similarity)
    street[(street < CLOSE) & _present(left, right, "sn") & (squeezed >= 0.85)] = CLOSE
    street[(street >= CLOSE) & _house_numbers_differ(left, right)] = DIFFERENT
    postcode = _equal(left, right, "pc")
    city = _equal(left, right, "ci")
    has_postcode, has_city = _present(left, right, "pc"), _present(left, right, "ci")
    city_jw = _similar(left.texts("ci"), right.texts("ci"), distance.JaroWinkler.normalized_similarity)
    city_close = city | (has_city & (city_jw >= NAME_CLOSE))
    # One digit retyped or two swapped.
    postcode_near = postcode | (has_postcode & (_similar(left.texts("pc"), right.texts("pc"), distance.OSA.distance) <= 1))
    place = postcode | (~has_postcode & city) | (postcode_near & city_close)
    present = _present(left, right, "st") | has_postcode | has_city
    return _graded(present, (street == EXACT) & place, (street >= CLOSE) & (place | postcode_near | city_close),
                   (place | city_close) & (street <= DIFFERENT))


def compare(left_frame: pl.DataFrame, right_frame: pl.DataFrame) -> Compared:
    """The levels of row i of `left` against row i of `right`, for every i (normalised frames)."""
    left, right = Side(left_frame), Side(right_frame)
    first, last, swapped = _names(left, right)
    vat = _equal(left, right, "vat")
    levels = {"first_name": first, "last_name": last, "email": _email(left, right), "phone": _phone(left, right),
              "vat_id": _graded(_present(left, right, "vat"), vat, vat), "company": _text(left, right, "co"),
              "address": _address(left, right)}
    emails_differ = _present(left, right, "em") & ~_equal(left, right, "em") & ~(left.roles | right.roles)
    mobiles_differ = _present(left, right, "p2") & ~_equal(left, right, "p2")
    return Compared(levels, swapped, emails_differ | mobiles_differ)
