"""What obfuscation removes from the journal: the undo data holding a customer, the old values
its history keeps, and its text quoted in summaries and sync conflicts (SPEC §2.10: the old
values survive nowhere)."""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from store.domain import edits
from store.domain.journal import holds
from store.engine import Transaction
from store.model import CONTACT_FIELDS, CUSTOMERS, DEPARTMENT_FIELDS, JOURNAL, PERSON_FIELDS, SOURCES

# The fields of a customer's records whose text is removed from the journal's summaries
# and details (a country code would match half the words).
SECRET_FIELDS = frozenset(PERSON_FIELDS + DEPARTMENT_FIELDS + CONTACT_FIELDS) - {"country"}
# Runs of ids up to this many customers are indexed one by one; longer ones (an import of
# 100,000) are looked at for every customer.
SPELLED_OUT = 1000
# The words of a summary, a customer's number among them ("Edited customer C-000001").
_WORD = re.compile(r"[^\s,;:()'\"]+")


class JournalIndex:
    """Which entries name each customer, prospect and number: built once for a transaction
    that forgets many customers (a policy run over 500 in a 5,000-entry journal reads each
    entry once, not once per customer)."""

    def __init__(self, entries: Mapping[int, Mapping[str, Any]]) -> None:
        self.of_customer: dict[int, set[int]] = defaultdict(set)
        self.of_prospect: dict[int, set[int]] = defaultdict(set)
        self.of_word: dict[str, set[int]] = defaultdict(set)
        self.always: set[int] = set()  # bulk entries (runs of ids) and those holding undo data
        for doc_id, entry in entries.items():
            self._records(doc_id, entry)
            self._words(doc_id, entry)
            self._runs(doc_id, entry)
            if entry.get("changes") is not None:
                self.always.add(doc_id)

    def _records(self, doc_id: int, entry: Mapping[str, Any]) -> None:
        for customer_id in entry.get("customer_ids") or ():
            self.of_customer[customer_id].add(doc_id)
        for edit in entry.get("edits") or ():
            if edit["owner"] is not None:
                self.of_customer[edit["owner"]].add(doc_id)
            if edit["table"] == SOURCES:
                self.of_prospect[edit["id"]].add(doc_id)

    def _words(self, doc_id: int, entry: Mapping[str, Any]) -> None:
        for word in _WORD.findall(str(entry.get("summary"))):
            self.of_word[word].add(doc_id)
        for conflict in entry.get("conflicts") or ():
            if isinstance(conflict, dict) and conflict.get("number"):
                self.of_word[str(conflict["number"])].add(doc_id)

    def _runs(self, doc_id: int, entry: Mapping[str, Any]) -> None:
        runs = [*(entry.get("created_runs") or ()), *(entry.get("changed_runs") or ())]
        if sum(stop - first for first, stop in runs) > SPELLED_OUT:
            self.always.add(doc_id)
            return
        for first, stop in runs:
            for customer_id in range(first, stop):
                self.of_customer[customer_id].add(doc_id)

    def candidates(self, customer_id: int, number: str | None, prospects: Iterable[int]) -> set[int]:
        """The entries that may hold something of the customer (each is then looked at)."""
        found = self.of_customer.get(customer_id, set()) | self.always
        if number:
            found |= self.of_word.get(number, set())
        for prospect in prospects:
            found |= self.of_prospect.get(prospect, set())
        return found


def purge_customer(tx: Transaction, customer_id: int, personal: Iterable[Mapping[str, Any]], index: JournalIndex) -> int:
    """Drop every undo payload that holds data of the customer, and every old value of its
    records the history keeps (their text too, where a summary or a sync conflict quotes
    it); `personal`: the customer's documents as they were (its text is what is forgotten).
    Returns how many entries held undo data."""
    purged = 0
    secrets = _secrets(personal)
    number = str((tx.before.get((CUSTOMERS, customer_id)) or {}).get("number", "")) or None
    entries = tx.table(JOURNAL)
    prospects = edits.prospects_of((entries[i] for i in index.of_customer.get(customer_id, ())), customer_id)
    for doc_id in sorted(index.candidates(customer_id, number, prospects)):
        entry = stored = entries[doc_id]
        if entry.get("changes") is not None and holds(entry, customer_id):
            entry = {**entry, "changes": None, "patches": None, "undoable": False, "purged": True}
            purged += 1
        elif not (edits.names(entry, customer_id) or (number and _mentions(entry, number))
                  or any(edits.belongs(edit, customer_id, prospects) for edit in entry.get("edits") or ())):
            continue
        forgotten = edits.forget_values(entry, customer_id, prospects, secrets)
        if forgotten is not None or entry is not stored:
            tx.put(JOURNAL, doc_id, forgotten if forgotten is not None else entry)
    return purged


def purge_prospect(tx: Transaction, source_id: int, personal: Mapping[str, Any]) -> int:
    """A prospect erased as they asked: drop every undo payload holding it as it was (a
    discard, an edit; an import's holds no prospect's values, only which it added) and every
    old value and text of it the journal keeps. Returns how many entries held undo data."""
    purged = 0
    secrets = _secrets([personal])
    for doc_id, stored in list(tx.table(JOURNAL).items()):
        entry = stored
        if entry.get("changes") is not None and any(
                table == SOURCES and where == source_id and before is not None for table, where, before, _ in entry["changes"]):
            entry = {**entry, "changes": None, "patches": None, "undoable": False, "purged": True}
            purged += 1
        forgotten = edits.forget_values(entry, -1, {source_id}, secrets)  # (-1: no customer's records)
        if forgotten is not None or entry is not stored:
            tx.put(JOURNAL, doc_id, forgotten if forgotten is not None else entry)
    return purged


def _mentions(entry: Mapping[str, Any], number: str) -> bool:
    """Whether the entry quotes the customer by number without having changed it (a sync
    run's conflict keeps both values of a field it did not write)."""
    return number in str(entry.get("summary")) or any(
        isinstance(c, dict) and c.get("number") == number for c in entry.get("conflicts") or ())


def _secrets(personal: Iterable[Mapping[str, Any]]) -> set[str]:
    """The text of a customer's documents (its records' too) as they were."""
    found: set[str] = set()
    for doc in personal:
        found.update(str(doc[f]) for f in SECRET_FIELDS & set(doc) if doc[f] not in (None, ""))
        found.update(_texts(doc.get("origin")))  # the raw row, accounting's id and values
    return found


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str) and value:
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from _texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _texts(inner)
