"""Polars columns into Python values a slice at a time.

Converting a million values in one call holds the interpreter for 0.1-0.3 s. The app
builds its indexes on a thread while the person types, and each key waited behind such a
call (a `j` took 0.47 s at 1,000,000 customers); a slice holds it a few milliseconds.
"""
from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from typing import Any

import polars as pl

SLICE = 65_536


def lists(series: pl.Series) -> Iterator[list[Any]]:
    """The column's values, a slice's list at a time."""
    for start in range(0, series.len(), SLICE):
        yield series.slice(start, SLICE).to_list()


def int64_series(name: str, parts: Iterable[list[int]]) -> pl.Series:
    """A column of 64-bit integers from lists, each made a Series of its own (making one from
    a million Python values is one call too)."""
    return pl.concat([pl.Series(name, [], dtype=pl.Int64), *(pl.Series(name, part, dtype=pl.Int64) for part in parts)])


def int64_array(series: pl.Series) -> array[int]:
    """An integer column as a plain array of 64-bit values."""
    out = array("q")
    for part in lists(series):
        out.extend(part)
    return out
