""""Not a duplicate": a person's word that two records are different people, remembered so
the duplicate review (store.matching) never offers the pair again.

Each word is one journal entry (action "distinct") naming the pair, as each sync run is:
one document per decision, kept with everything else the journal keeps, nothing to
migrate in an older store. Undo takes it back (the entry is marked undone and the pair is
offered again). A merge, delete or activation of either record leaves the entry as it is:
it names a record that no longer exists, so it matches nothing.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from store.domain.core import Core
from store.engine import Transaction
from store.errors import NotFound, RuleViolation
from store.model import CUSTOMERS, JOURNAL, SOURCES, JournalEntry

DISTINCT = "distinct"
# A customer or prospect: (table, id), customers before prospects when sorted.
Ref = tuple[str, int]
COMPARED = (CUSTOMERS, SOURCES)


class Distinct(Core):
    def mark_distinct(self, a: Ref, b: Ref) -> JournalEntry:
        """Remember that `a` and `b` are not the same (journaled; undo forgets it again).
        Refused in one line for a record that does not exist, a record paired with itself,
        or a pair already remembered."""
        pair = sorted((_ref(a), _ref(b)))
        if pair[0] == pair[1]:
            raise RuleViolation(f"{record_name(self._db.tables[pair[0][0]].get(pair[0][1]), pair[0])} "
                                "cannot be marked as not a duplicate of itself")
        with self._db.transaction() as tx:
            first, second = (_existing_name(tx, ref) for ref in pair)
            if frozenset(pair) in self.distinct_pairs():
                raise RuleViolation(f"{first} and {second} are already marked as not duplicates")
            customers = tuple(doc_id for table, doc_id in pair if table == CUSTOMERS)
            return self._journal(tx, DISTINCT, f"Marked {first} and {second} as not duplicates", customers,
                                 details={"pair": [list(ref) for ref in pair]})

    def distinct_pairs(self) -> set[frozenset[Ref]]:
        """Every pair a person has said is not a duplicate (and has not undone)."""
        return set(_remembered(self._db.tables[JOURNAL].values()))


def _remembered(entries: Iterable[Mapping[str, Any]]) -> Iterable[frozenset[Ref]]:
    for entry in entries:
        if entry.get("action") == DISTINCT and not entry.get("undone"):
            yield frozenset((str(table), int(doc_id)) for table, doc_id in entry["pair"])


def _ref(ref: Ref) -> Ref:
    table, doc_id = ref
    if table not in COMPARED:
        raise RuleViolation(f"only customers and prospects are compared for duplicates, not '{table}'")
    return table, doc_id


def _existing_name(tx: Transaction, ref: Ref) -> str:
    doc = tx.get(*ref)
    if doc is None:
        raise NotFound(f"{record_name(None, ref)} does not exist (merged, deleted, activated or discarded?)")
    return record_name(doc, ref)


def record_name(doc: Mapping[str, Any] | None, ref: Ref) -> str:
    """How people name a customer (its number) or a prospect (prospect #ID)."""
    table, doc_id = ref
    if table == CUSTOMERS:
        return str(doc["number"]) if doc else f"customer #{doc_id}"
    return f"prospect #{doc_id}"
