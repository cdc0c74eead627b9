"""Likely duplicates of a customer: the same email, phone or VAT id, or a similar name."""
from __future__ import annotations

import polars as pl
from rapidfuzz import fuzz, process

from store.model import CUSTOMERS, Customer, display_name
from store.rules.validation import identity_keys
from store.store import Store
from store.view import RecordView

SIMILAR_NAME = 88


def likely_duplicates(store: Store, view: RecordView, customer_id: int, limit: int = 10) -> list[Customer]:
    """Customers that are probably the same as this one, surest first."""
    customer = store.customer(customer_id)
    found: dict[int, None] = {}
    for key, value in identity_keys(customer):
        for other in store.find(CUSTOMERS, key, value):
            found.setdefault(other["id"], None)
    name = display_name(customer).lower()
    if name:
        # The same name a person reads: the company, else the person's name.
        names = view.frame.select(pl.when(pl.col("company") != "").then(pl.col("company")).otherwise(pl.col("name"))
                                  .str.to_lowercase()).to_series().to_list()
        for _match, _score, index in process.extract(name, names, scorer=fuzz.token_sort_ratio,
                                                      score_cutoff=SIMILAR_NAME, limit=limit + 1):
            found.setdefault(view.frame["id"][index], None)
    found.pop(customer_id, None)
    return [store.customer(i) for i in list(found)[:limit]]
