"""History read from a store file without opening it: the journal's bytes, and a customer
found by its number in the snapshot's text; no large table parsed, no index built, no polars
(`custdesk log` and `custdesk history` on a 100,000-customer store in a fraction of the
open's time)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from store.domain.history import History
from store.engine import Document, Peeked, peek_document, peek_tables, peek_where
from store.model import CUSTOMERS, JOURNAL


class FileJournal:
    """The journal and the customers' numbers, as the store file holds them now."""

    def __init__(self, peeked: Peeked) -> None:
        self.peeked = peeked

    def entries(self) -> Mapping[int, Document]:
        return self.peeked.tables[JOURNAL]

    def ids_numbered(self, number: str) -> set[int]:
        return peek_where(self.peeked, CUSTOMERS, "number", number)

    def number_of(self, customer_id: int) -> str | None:
        doc = peek_document(self.peeked, CUSTOMERS, customer_id)
        return None if doc is None else str(doc.get("number"))


def quick_history(location: str | Path) -> History | None:
    """History over the store's files read without opening it; None when they cannot
    answer so (a PostgreSQL store, a file TinyDB wrote): the caller opens the store."""
    peeked = peek_tables(location, (JOURNAL,))
    return None if peeked is None else History(FileJournal(peeked))
