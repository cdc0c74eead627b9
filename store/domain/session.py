"""The session every aggregate shares: the one engine, the user, the settings, the
journal's writing, and the lookups of one record by id."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Self, cast

import polars as pl

from store.base.errors import ConcurrentChange, NotFound
from store.domain import journal
from store.engine import Document, Engine, PageReads, Transaction, open_engine
from store.engine.location import short_name
from store.model import CHILD_TABLES, CUSTOMERS, DEPARTMENTS, SETTINGS, SOURCES, Customer, JournalEntry, Prospect, RelatedRecord, singular
from store.rules import settings as settings_rules
from store.schema import SCHEMA

SETTINGS_ID = 1


def public(doc_id: int, doc: Document) -> Document:
    """A stored document as the verbs hand it out: with its id."""
    return {**doc, "id": doc_id}


# The same, typed by what the document is (the store keeps every kind as a JSON object).
def customer_of(doc_id: int, doc: Document) -> Customer:
    return cast(Customer, public(doc_id, doc))


def prospect_of(doc_id: int, doc: Document) -> Prospect:
    return cast(Prospect, public(doc_id, doc))


def related_of(doc_id: int, doc: Document) -> RelatedRecord:
    return cast(RelatedRecord, public(doc_id, doc))


def entry_of(doc_id: int, doc: Document) -> JournalEntry:
    return cast(JournalEntry, public(doc_id, doc))


def private_fields(data: Mapping[str, Any]) -> Document:
    return {k: v for k, v in data.items() if k not in ("id", "rev", "schema_version")}


def list_numbers(numbers: list[str], shown: int = 5) -> str:
    head = ", ".join(numbers[:shown])
    return head + (f" and {len(numbers) - shown} more" if len(numbers) > shown else "")


class Session:
    """One open store: what every aggregate of `store.domain` is given and shares."""

    def __init__(self, path: str | Path, *, user: str | None = None, lock_timeout: float = 15.0, verify: bool = True,
                 default_country: str | None = None, create: bool = True) -> None:
        """`verify=False` leaves checking the large tables' checksums to `verify()` (or to
        their first read): the app shows its first screen from the columns meanwhile.
        `default_country` (the user's configuration) stands in for the locale's country
        while the store has none saved. `create=False`: no store at `path` is a refusal
        (NoStore), not a new store."""
        self._location = path
        # The aggregates read and write through it (store.engine's contract).
        self.db: Engine = open_engine(path, SCHEMA, lock_timeout=lock_timeout, verify=verify, create=create)
        self._user = user or journal.current_user()
        self._defaults = settings_rules.defaults(default_country)
        self._settings_cache: tuple[Document | None, Document] = (None, self._defaults)

    @property
    def location(self) -> str | Path:
        """The store as given: a file path or a PostgreSQL URL."""
        return self._location

    @property
    def where(self) -> str:
        """The store for people: its file, or its database's URL without the password."""
        return self.db.where

    @property
    def user(self) -> str:
        """Who the journal names for every change made through this session."""
        return self._user

    @contextmanager
    def acting_for(self, user: str) -> Iterator[None]:
        """Changes made meanwhile are journaled in `user`'s name (a person changing their own
        data through a signed link, on the server's one store thread)."""
        kept, self._user = self._user, user
        try:
            yield
        finally:
            self._user = kept

    def close(self) -> None:
        self.db.close()

    def verify(self) -> None:
        """Check the tables not checked yet against their checksums (StoreCorrupt if damaged)."""
        self.db.verify()

    @property
    def title(self) -> str:
        """The store's short name for a title bar: its file's, or its database's."""
        return short_name(self.where)

    def files(self) -> list[Path]:
        """The store's own files: no export, error log or outbox may write over them."""
        return self.db.files()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def refresh(self, wait: float | None = None) -> bool:
        """Catch up with what other processes committed; True when anything changed."""
        return self.db.refresh(wait)

    def reserved(self, wait: float | None = None) -> AbstractContextManager[None]:
        """Hold the store's lock (waiting up to `wait` seconds for other processes; StoreBusy
        after that): verbs run meanwhile by any thread of this process do not wait."""
        return self.db.reserved(wait)

    def take_changes(self, reader: str = "views") -> dict[str, set[int]] | None:
        """Ids of the documents changed since `reader` last asked, by table (None: everything,
        also on a reader's first call)."""
        return self.db.take_changes(reader)

    def watch(self, changed: Callable[[], None]) -> None:
        """Call `changed` (from another thread) as soon as another session commits, where
        the backend tells (PostgreSQL); a file store is looked at (`changed_elsewhere`)."""
        self.db.watch(changed)

    def page_reads(self) -> PageReads | None:
        """Where the customer table is read a page at a time on the server (`store.views.served`);
        None: the store's tables are read from memory."""
        return self.db.page_reads()

    def changed_elsewhere(self) -> bool:
        """A cheap, lock-free look: did another process commit since we last read?"""
        return self.db.changed_on_disk()

    def prepare_lookups(self) -> None:
        """Read the customers' and prospects' documents and build the indexes now
        (else done when first needed): a program that will soon show or change
        customers calls this while the user looks at the screen."""
        self.db.prepare((CUSTOMERS, SOURCES), (CUSTOMERS, SOURCES), CHILD_TABLES)

    @property
    def settings(self) -> dict[str, Any]:
        return {**self.settings_now()}

    def settings_now(self) -> dict[str, Any]:
        """The settings as they are now, shared (read them, never change them: `settings` is a copy)."""
        # Rebuilt only when the settings document changes (it is replaced, never mutated).
        doc = self.db.tables[SETTINGS].get(SETTINGS_ID)
        if self._settings_cache[0] is not doc:
            self._settings_cache = (doc, {**self._defaults, **(doc or {})})
        return self._settings_cache[1]

    def compact(self) -> None:
        """Fold the change log into the store file now (else done once the log is large)."""
        self.db.compact()

    def frame(self, table: str, ids: Iterable[int] | None = None) -> pl.DataFrame:
        """The decoded fields of customers, prospects or a related kind (views, indexes)."""
        return self.db.frame(table, ids)

    def customer(self, customer_id: int) -> Customer:
        doc = self.db.tables[CUSTOMERS].get(customer_id)
        if doc is None:
            raise NotFound(f"customer #{customer_id} does not exist (deleted or merged?)")
        return customer_of(customer_id, doc)

    def customers_of(self, ids: Sequence[int]) -> list[Customer]:
        """These customers in this order, read at once (from a server: one statement); those
        that no longer exist left out."""
        docs = self.db.docs(CUSTOMERS, ids)
        return [customer_of(i, docs[i]) for i in ids if i in docs]

    def has_customer(self, customer_id: int) -> bool:
        return customer_id in self.db.tables[CUSTOMERS]

    def has_source(self, source_id: int) -> bool:
        return source_id in self.db.tables[SOURCES]

    def source(self, source_id: int) -> Prospect:
        doc = self.db.tables[SOURCES].get(source_id)
        if doc is None:
            raise NotFound(f"prospect #{source_id} does not exist (activated or discarded?)")
        return prospect_of(source_id, doc)

    def child(self, table: str, doc_id: int) -> RelatedRecord:
        doc = self.db.tables[table].get(doc_id)
        if doc is None:
            raise NotFound(f"{singular(table)} #{doc_id} does not exist")
        return related_of(doc_id, doc)

    def children(self, customer_id: int, table: str) -> list[RelatedRecord]:
        rows = self.db.tables[table]
        return [related_of(i, rows[i]) for i in sorted(self.db.indexes.child_ids(customer_id, table))]

    def headquarters(self, customer_id: int) -> RelatedRecord | None:
        """The customer's headquarters department, if it has one."""
        return next((d for d in self.children(customer_id, DEPARTMENTS) if d.get("headquarters")), None)

    def current(self, tx: Transaction, customer_id: int, expected_rev: int | None = None) -> dict[str, Any]:
        """The customer's document in `tx`: NotFound if gone, ConcurrentChange if not at `expected_rev`."""
        doc = tx.get(CUSTOMERS, customer_id)
        if doc is None:
            raise NotFound(f"customer #{customer_id} does not exist (deleted or merged by someone else?)")
        if expected_rev is not None and doc["rev"] != expected_rev:
            raise ConcurrentChange(f"customer {doc['number']} was changed by someone else since you opened it; reload and try again")
        return doc

    def existing_child(self, tx: Transaction, table: str, doc_id: int) -> dict[str, Any]:
        """A related record's document in `tx` (NotFound if gone)."""
        doc = tx.get(table, doc_id)
        if doc is None:
            raise NotFound(f"{singular(table)} #{doc_id} does not exist")
        return doc

    def write_entry(self, tx: Transaction, action: str, summary: str, extra: tuple[int, ...] = (),
                    details: Mapping[str, Any] | None = None) -> JournalEntry:
        """The transaction's changes as one journal entry in this session's user's name (a verb's last step)."""
        return journal.write_entry(tx, action, summary, self.user, extra, details)
