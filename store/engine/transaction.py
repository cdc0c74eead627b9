"""One commit's changes: applied to the tables at once, remembered so that a failure
(or a savepoint's) puts every document back, and counted (`Schema.tallies`) as they go."""
from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from store.engine import tallies as tally
from store.engine.schema import META, META_ID

if TYPE_CHECKING:
    from store.engine.database import Database


class Transaction:
    """The changes of one verb; applied to memory at once, undone on failure."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.before: dict[tuple[str, int], dict[str, Any] | None] = {}
        self._meta: dict[str, Any] | None = None
        self._tallied = db.schema.tallies
        self._tallies: dict[str, tally.Tally] | None = None  # this transaction's, once touched
        self._savepoints: list[dict[tuple[str, int], dict[str, Any] | None]] = []

    def get(self, table: str, doc_id: int) -> dict[str, Any] | None:
        return self.db.tables[table].get(doc_id)

    def table(self, name: str) -> Mapping[int, dict[str, Any]]:
        """The table as this transaction sees it (its own writes included)."""
        return self.db.tables[name]

    @property
    def meta(self) -> dict[str, Any]:
        if self._meta is None:
            current = self.db.meta
            self._meta = {**current, "next_ids": dict(current["next_ids"]), "counters": dict(current["counters"])}
            if "tallies" in current:
                self._meta["tallies"] = copy.deepcopy(current["tallies"])
        return self._meta

    def _count(self, table: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        # Runs for every write (100k times in an import): the lookups are kept at hand.
        fields = self._tallied.get(table)
        if fields is None:
            return
        if self._tallies is None:
            self._tallies = self.meta.setdefault("tallies", {})
            # A store written before tallies: count every table once, before this change.
            for missing in self._tallied.keys() - self._tallies.keys():
                self._tallies[missing] = self.db.count_table(missing)
        tally.adjust(self._tallies[table], fields, old, new)


    def next_id(self, table: str) -> int:
        doc_id: int = self.meta["next_ids"].get(table, 1)
        self.meta["next_ids"][table] = doc_id + 1
        return doc_id

    def next_counter(self, name: str) -> int:
        n: int = self.meta["counters"].get(name, 0) + 1
        self.meta["counters"][name] = n
        return n

    def _remember(self, table: str, doc_id: int) -> dict[str, Any] | None:
        current = self.db.tables[table].get(doc_id)
        self.before.setdefault((table, doc_id), current)
        for marks in self._savepoints:
            marks.setdefault((table, doc_id), current)
        return current

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Part of a transaction that is undone alone if it fails (the rest stays)."""
        marks: dict[tuple[str, int], dict[str, Any] | None] = {}
        self._savepoints.append(marks)
        try:
            yield
        except BaseException:
            for (table, doc_id), doc in reversed(marks.items()):
                self.db.set_in_memory(table, doc_id, doc)
            for table in {t for t, _ in marks} & set(self.db.schema.tallies):
                if table in self.meta.get("tallies", {}):  # counted again, the documents being back
                    self.meta["tallies"][table] = self.db.count_table(table)
            raise
        finally:
            self._savepoints.remove(marks)

    def insert(self, table: str, doc: dict[str, Any]) -> int:
        doc_id = self.next_id(table)
        self.put(table, doc_id, doc)
        return doc_id

    def put(self, table: str, doc_id: int, doc: dict[str, Any]) -> dict[str, Any]:
        """Store a new version of a document (never mutate a stored one in place)."""
        current = self._remember(table, doc_id)
        rev = (current or {}).get("rev", 0) + 1
        # Empty fields are left out: readers use .get(); the store stays small.
        stored = {k: v for k, v in doc.items() if v is not None}
        stored["rev"] = rev
        stored["schema_version"] = self.db.schema.version
        self._count(table, current, stored)
        self.db.set_in_memory(table, doc_id, stored)
        return stored

    def delete(self, table: str, doc_id: int) -> None:
        self._count(table, self._remember(table, doc_id), None)
        self.db.set_in_memory(table, doc_id, None)

    def restore(self, table: str, doc_id: int, doc: dict[str, Any] | None) -> None:
        """Put back a document exactly as it was (undo)."""
        self._count(table, self._remember(table, doc_id), doc)
        self.db.set_in_memory(table, doc_id, doc)

    def changes(self) -> list[list[Any]]:
        if self._meta is not None and self._meta != self.db.meta:
            self.put(META, META_ID, self._meta)
        tables = self.db.tables
        return [[t, i, tables[t].get(i)] for (t, i), old in self.before.items() if tables[t].get(i) is not old]

    def rollback(self) -> None:
        for (table, doc_id), doc in reversed(self.before.items()):
            self.db.set_in_memory(table, doc_id, doc)
