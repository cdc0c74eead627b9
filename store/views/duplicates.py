"""Customers a record likely is, with the matcher's score and reasons (store.matching): the
merge picker's suggestions, and the customers activation offers to merge a prospect into."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from store.matching import RecordRef, matches_for
from store.model import CUSTOMERS, Customer
from store.store import Store


@dataclass(frozen=True)
class LikelyCustomer:
    customer: Customer
    score: float | None  # the matcher's match probability; None when only a shared email, phone or VAT id named it
    reasons: tuple[str, ...]  # people's words, strongest first: "same phone", "names close: Mueller/Müller"


def likely_customers(store: Store, ref: RecordRef, record: Mapping[str, Any], limit: int = 10) -> list[LikelyCustomer]:
    """The customers the matcher finds the stored `record` (a customer or a prospect, `ref`)
    likely is, surest first; not itself, nor those a person said are someone else."""
    # Twice the limit asked of the matcher: the prospects it finds are left out here.
    pairs = matches_for(store, ref.table, record, exclude=ref, limit=limit * 2)
    return [LikelyCustomer(store.customer(p.a.id), p.score, p.reasons) for p in pairs if p.a.table == CUSTOMERS][:limit]


def likely_duplicates(store: Store, customer_id: int, limit: int = 10) -> list[LikelyCustomer]:
    """Customers that are probably the same as this one, surest first (the merge picker's)."""
    return likely_customers(store, RecordRef(CUSTOMERS, customer_id), store.customer(customer_id), limit)
