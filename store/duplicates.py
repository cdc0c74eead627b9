"""Likely duplicates of one customer, for the merge picker: the matcher's answer (store.matching)."""
from __future__ import annotations

from store.matching import RecordRef, matches_for
from store.model import CUSTOMERS, Customer
from store.store import Store
from store.view import RecordView


def likely_duplicates(store: Store, view: RecordView, customer_id: int, limit: int = 10) -> list[Customer]:
    """Customers that are probably the same as this one, surest first. (`view` is the
    picker's table; the matcher reads the store through an index of its own.)"""
    del view
    me = RecordRef(CUSTOMERS, customer_id)
    pairs = matches_for(store, CUSTOMERS, store.customer(customer_id), exclude=me, limit=limit * 2)
    return [store.customer(p.a.id) for p in pairs if p.a.table == CUSTOMERS][:limit]
