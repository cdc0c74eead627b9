"""Which pairs are worth comparing: records that share a block key.

A sweep compares only records that share an identifying value, a postcode and
the start of a name, the sound of a surname in one city, a company name …,
never all n² pairs. A block larger than BLOCK_CAP (a switchboard number, the
commonest name of a city) says too little to be worth its pairs and is left out.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import jellyfish
import numpy as np
import polars as pl

from store.matching.compare import Array
from store.matching.normalise import ONE_BY_ONE

BLOCK_CAP = 60
# Rules whose blocks grow with the store (a common surname and an initial; a company many
# contacts work for) say less per record: a smaller cap. At 1,000,000 records these two
# made 8 of 10 million candidate pairs; at 100,000 the cap leaves the pairs found alike.
RULE_CAP = {"surname+first initial": 20, "company": 20}


def _cap(rule: pl.Expr) -> pl.Expr:
    return rule.replace_strict(RULE_CAP, default=BLOCK_CAP, return_dtype=pl.Int64)


def _soundex(names: pl.Expr) -> pl.Expr:
    return names.map_elements(jellyfish.soundex, return_dtype=pl.String, skip_nulls=True)


def _prefix(column: str, size: int) -> pl.Expr:
    return pl.col(column).str.slice(0, size)


def _joined(*parts: pl.Expr) -> pl.Expr:
    """The parts as one key; null when any is missing."""
    return pl.concat_str(list(parts), separator="|")


# Rule name -> the key expression over a normalised frame (a list: one key per element).
RULES: dict[str, pl.Expr] = {
    "email": pl.col("em"),
    "phone": pl.concat_list(pl.col("p1"), pl.col("p2")),
    "vat": pl.col("vat"),
    "postcode+surname": _joined(pl.col("pc"), _prefix("ln", 3)),
    "postcode+first name": _joined(pl.col("pc"), _prefix("fn", 3)),
    "surname sound+city": _joined(pl.col("ln_sound"), pl.col("ci")),
    "name": _joined(pl.min_horizontal("fn", "ln"), pl.max_horizontal("fn", "ln")),
    "company": pl.col("co"),
    "email local part": pl.col("eml"),
    "street+postcode": _joined(pl.col("st"), _prefix("pc", 2)),
    "street+surname": _joined(pl.col("st"), _prefix("ln", 1)),
    "street start+city": _joined(_prefix("st", 8), pl.col("ci")),
    "first name+city": _joined(pl.col("fn"), pl.col("ci")),
    "surname+first initial": _joined(pl.col("ln"), _prefix("fn", 1)),
}


def with_sounds(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with the sound of each surname (computed once per distinct surname)."""
    if frame.height <= ONE_BY_ONE:
        sounds = [None if name is None else jellyfish.soundex(name) for name in frame["ln"].to_list()]
        return frame.with_columns(pl.Series("ln_sound", sounds, dtype=pl.String))
    names = frame["ln"].drop_nulls().unique()
    table = dict(zip(names.to_list(), names.to_frame().select(_soundex(pl.col("ln"))).to_series().to_list(),
                     strict=True))
    return frame.with_columns(pl.col("ln").replace_strict(table, default=None, return_dtype=pl.String)
                              .alias("ln_sound"))


def block_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """(rule, key, row) for every block key of every record (rows: positions in `frame`)."""
    keys = frame.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"),
                        *(expr.alias(rule) for rule, expr in RULES.items()))
    lists = [rule for rule, dtype in keys.schema.items() if dtype == pl.List(pl.String)]
    plain = keys.drop(lists).unpivot(index="row", variable_name="rule", value_name="key")
    listed = [keys.select("row", pl.lit(rule).alias("rule"), pl.col(rule).alias("key")).explode("key") for rule in lists]
    return (pl.concat([plain, *listed]).filter(pl.col("key").is_not_null() & (pl.col("key") != ""))
            .unique().select("rule", "key", "row"))


def candidate_pairs(keys: pl.DataFrame) -> pl.DataFrame:
    """(left, right) rows, left < right, of every pair sharing a block of at most its rule's cap
    (RULE_CAP, else BLOCK_CAP) records."""
    small = keys.filter(pl.len().over("rule", "key") <= _cap(pl.col("rule")))
    joined = small.join(small, on=["rule", "key"], suffix="_other").filter(pl.col("row") < pl.col("row_other"))
    # (Sorted: the pairs in one order whatever the join's threads did, so a sweep learns the same from them.)
    return joined.select(left="row", right="row_other").unique().sort("left", "right")


def _hashes(keys: pl.DataFrame) -> Array:
    """One 64-bit number per (rule, key): what the block index is looked up by (two blocks
    sharing one would only compare a few more pairs, and the scores decide those)."""
    return keys.select(pl.concat_str("rule", pl.lit("\x00"), "key").hash(seed=25)).to_series().to_numpy()


@dataclass(frozen=True)
class BlockIndex:
    """The rows of every block, for looking up one record's blocks: the blocks' hashes sorted,
    with the rows beside them (two arrays, searched by bisection: no dict of a million
    blocks), and the blocks of rows added since in `added` (hash -> rows). Never changed:
    `with_rows` gives a new one."""

    hashes: Array
    rows: Array
    added: Mapping[int, tuple[int, ...]] = field(default_factory=dict)

    def sharing(self, keys: pl.DataFrame) -> tuple[Array, Array]:
        """(stored row, row of `keys`) of every pair sharing a block of at most its rule's cap,
        once each: `keys` are the (rule, key, row) of records looked up (`block_keys`)."""
        hashes, of = _hashes(keys), keys["row"].to_numpy().astype(np.int64)
        caps = keys.select(_cap(pl.col("rule"))).to_series().to_numpy()
        start = np.searchsorted(self.hashes, hashes, side="left")
        end = np.searchsorted(self.hashes, hashes, side="right")
        more = [self.added.get(block, ()) for block in hashes.tolist()] if self.added else [()] * len(of)
        small = (end - start) + np.fromiter(map(len, more), dtype=np.int64, count=len(of)) <= caps
        start, end, looked = start[small], end[small], of[small]
        sizes = end - start
        # Every span's positions at once: each span's start, repeated, plus its offsets.
        offsets = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        stored = [self.rows[np.repeat(start, sizes) + offsets]]
        owner = [np.repeat(looked, sizes)]
        for at in np.flatnonzero(small):
            if more[at]:
                stored.append(np.asarray(more[at], dtype=np.int64))
                owner.append(np.full(len(more[at]), of[at], dtype=np.int64))
        pairs = np.unique(np.stack([np.concatenate(owner), np.concatenate(stored)]), axis=1)
        return pairs[1], pairs[0]

    def with_rows(self, keys: pl.DataFrame) -> BlockIndex:
        """The index with the blocks of more rows ((rule, key, row) of `block_keys`)."""
        added = dict(self.added)
        for block, row in zip(_hashes(keys).tolist(), keys["row"].to_list(), strict=True):
            added[block] = (*added.get(block, ()), row)
        return BlockIndex(self.hashes, self.rows, added)


def block_index(keys: pl.DataFrame) -> BlockIndex:
    hashes = _hashes(keys)
    order = np.argsort(hashes, kind="stable")
    return BlockIndex(hashes[order], keys["row"].to_numpy().astype(np.int64)[order])
