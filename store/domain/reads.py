"""Reads that list, count and look up customers, prospects and the journal."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import cast

import polars as pl

from store.base.errors import RuleViolation
from store.base.sorting import text_order
from store.domain import journal
from store.domain.session import Session, customer_of, entry_of, prospect_of, public
from store.engine import Document
from store.engine.keyed import Keys
from store.model import CHILD_TABLES, CUSTOMERS, DEPARTMENTS, JOURNAL, SOURCES, Customer, JournalEntry, Prospect
from store.rules.keys import KEY_FIELDS
from store.views.counts import stats_from


class Reads:
    """Lists, counts and lookups of customers, prospects and the journal."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def customers(self) -> Iterator[Customer]:
        for doc_id, doc in self.session.db.tables[CUSTOMERS].items():
            yield customer_of(doc_id, doc)

    def customer_count(self) -> int:
        return len(self.session.db.tables[CUSTOMERS])

    def sources(self) -> Iterator[Prospect]:
        for doc_id, doc in self.session.db.tables[SOURCES].items():
            yield prospect_of(doc_id, doc)

    def find(self, table: str, key: str, value: object) -> list[Document]:
        """Customers or prospects whose identifying field `key` equals `value`."""
        if key not in KEY_FIELDS:
            raise RuleViolation(f"'{key}' is not an identifying field; use one of {', '.join(KEY_FIELDS)}")
        rows = self.session.db.tables[table]
        return [public(i, rows[i]) for i in sorted(self.session.db.indexes.find(table, key, value))]

    def lookup(self, table: str, key: str, values: list[str | None]) -> list[list[int]]:
        """For each value, the ids of the customers or prospects whose `key` equals it."""
        return [sorted(ids) if ids else [] for ids in self.session.db.indexes.holders(table, key, values)]

    def lookup_held(self, table: str, key: str, values: Keys) -> dict[int, list[int]]:
        """`lookup` of the values some customer or prospect holds, by their position in
        `values` (an import's million keys, most held by none: no list each)."""
        return {at: sorted(ids) for at, ids in enumerate(self.session.db.indexes.holders(table, key, values)) if ids}

    def shared_keys(self, tables: Sequence[str], names: Sequence[str], most: int) -> list[tuple[str, str, list[tuple[str, int]]]]:
        """(key name, key, its holders as (table, id)) of each key of `names` (email, phone …)
        that two to `most` records of `tables` hold."""
        return self.session.db.indexes.shared(list(tables), list(names), most)

    def first_holders(self, table: str, key: str, values: Keys) -> list[int | None]:
        """For each (normalised) value, the lowest id of the customers or prospects holding it."""
        return self.session.db.indexes.first_holders(table, key, values)

    def record(self, table: str, doc_id: int) -> Document:
        """A customer or prospect by id, as a plain document (for code that handles both)."""
        return cast(Document, self.session.customer(doc_id) if table == CUSTOMERS else self.session.source(doc_id))

    def journal(self, limit: int | None = None) -> list[JournalEntry]:
        rows = self.session.db.tables[JOURNAL]
        ids = sorted(rows, reverse=True)[:limit]
        return [entry_of(i, rows[i]) for i in ids]

    def next_undo(self, customer_id: int | None = None) -> JournalEntry | None:
        """The entry `undo()` would undo now, or None; with `customer_id`, the newest undoable
        entry that changed that customer or its related records (undo it by its id)."""
        found = journal.latest_undoable(self.session.db.tables[JOURNAL], customer_id)
        return entry_of(*found) if found else None

    def stats(self) -> dict[str, int]:
        """Customers (active, inactive, corporate, private) and prospects, from the counts
        the engine keeps with every commit."""
        counts = stats_from(self.session.db.tallies())
        assert counts is not None, "the engine counts every tallied table"
        return counts

    def customer_order(self, ids: Iterable[int] | None = None) -> pl.Series:
        """The ids of these customers (None: every one) that exist, by customer number, then
        id; of every one on a server, sorted there (ten million ids, not their documents)."""
        if ids is None:
            return self.session.db.ids_by(CUSTOMERS, "number")
        return self.session.frame(CUSTOMERS, ids).sort(text_order("number"), "id")["id"]

    def headquarters_of(self, customer_ids: Iterable[int]) -> dict[int, str]:
        """The name of each of these customers' headquarters department, where it has one."""
        docs = self.session.db.docs(DEPARTMENTS, self.session.db.ids_holding(DEPARTMENTS, "customer_id", list(customer_ids)))
        return {doc["customer_id"]: doc.get("name") or "" for _, doc in sorted(docs.items()) if doc.get("headquarters")}

    def related_counts(self, customer_id: int) -> dict[str, int]:
        """How many documents of each child kind the customer owns."""
        return {t: len(self.session.db.indexes.child_ids(customer_id, t)) for t in CHILD_TABLES}


class SessionJournal:
    """The journal and the customers of an open store."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def entries(self) -> Mapping[int, Document]:
        return self.session.db.tables[JOURNAL]

    def ids_numbered(self, number: str) -> set[int]:
        """The customers numbered exactly `number`: found by its key (a server's index: every
        customer's number read took seconds at 10,000,000; in memory one pass over the
        column), each checked as written."""
        customers = self.session.db.tables[CUSTOMERS]
        return {i for i in self.session.db.indexes.find(CUSTOMERS, "number", number)
                if (doc := customers.get(i)) is not None and doc.get("number") == number}

    def number_of(self, customer_id: int) -> str | None:
        doc = self.session.db.tables[CUSTOMERS].get(customer_id)
        return None if doc is None else str(doc["number"])
