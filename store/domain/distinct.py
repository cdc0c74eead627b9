""""Not a duplicate": a person's word that two records are different people, remembered so
the duplicate review (store.matching) never offers the pair again.

Each word is one journal entry (action "distinct") naming the pair, as each sync run is:
one document per decision, kept with everything else the journal keeps, nothing to
migrate in an older store. Undo takes it back (the entry is marked undone and the pair is
offered again). A merge, delete or activation of either record leaves the entry as it is:
it names a record that no longer exists, so it matches nothing.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from store.base.errors import NotFound, RuleViolation
from store.domain.session import Session
from store.engine import Transaction
from store.model import CUSTOMERS, JOURNAL, SOURCES, JournalEntry

if TYPE_CHECKING:
    from store.matching.pairs import RecordRef

DISTINCT = "distinct"
COMPARED = (CUSTOMERS, SOURCES)
PROSPECT_NAME = "prospect #{}"  # how people name a prospect (it has no number): by its id


class Distinct:
    """The pairs people said are not duplicates (see the module's docstring)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def mark_distinct(self, a: RecordRef, b: RecordRef) -> JournalEntry:
        """Remember that `a` and `b` are not the same (journaled; undo forgets it again).
        Refused in one line for a record that does not exist, a record paired with itself,
        or a pair already remembered."""
        first, second = sorted((_compared(a), _compared(b)))
        if first == second:
            raise RuleViolation(f"{self.record_name(first)} cannot be marked as not a duplicate of itself")
        with self.session.db.transaction() as tx:
            names = [_existing_name(tx, ref) for ref in (first, second)]
            if frozenset((first, second)) in self.distinct_pairs():
                raise RuleViolation(f"{names[0]} and {names[1]} are already marked as not duplicates")
            customers = tuple(ref.id for ref in (first, second) if ref.table == CUSTOMERS)
            return self.session.write_entry(tx, DISTINCT, f"Marked {names[0]} and {names[1]} as not duplicates", customers,
                                 details={"pair": [[ref.table, ref.id] for ref in (first, second)]})

    def distinct_pairs(self) -> set[frozenset[RecordRef]]:
        """Every pair a person has said is not a duplicate (and has not undone). Safe from a
        worker thread (the app's sweep): the entries are copied at once, before they are read."""
        return set(_remembered(list(self.session.db.tables[JOURNAL].values())))

    def record_name(self, ref: RecordRef) -> str:
        """How people name a customer (its number) or a prospect ("prospect #ID"), also one gone."""
        return _name(self.session.db.tables[ref.table].get(ref.id), ref)

    def record_names(self, refs: Sequence[RecordRef]) -> list[str]:
        """`record_name` of many records at once (the customers' numbers read column-wise, not
        document by document: a sweep at 1M records names a million)."""
        wanted = {ref.id for ref in refs if ref.table == CUSTOMERS}
        numbers = dict(self.session.db.frame(CUSTOMERS, wanted).select("id", "number").iter_rows()) if wanted else {}
        return [numbers.get(ref.id) or f"customer #{ref.id}" if ref.table == CUSTOMERS else PROSPECT_NAME.format(ref.id)
                for ref in refs]


def _remembered(entries: Iterable[Mapping[str, Any]]) -> Iterable[frozenset[RecordRef]]:
    from store.matching.pairs import RecordRef

    for entry in entries:
        if entry.get("action") == DISTINCT and not entry.get("undone"):
            yield frozenset(RecordRef(str(table), int(doc_id)) for table, doc_id in entry["pair"])


def _compared(ref: RecordRef) -> RecordRef:
    if ref.table not in COMPARED:
        raise RuleViolation(f"only customers and prospects are compared for duplicates, not '{ref.table}'")
    return ref


def _existing_name(tx: Transaction, ref: RecordRef) -> str:
    doc = tx.get(ref.table, ref.id)
    if doc is None:
        raise NotFound(f"{_name(None, ref)} does not exist (merged, deleted, activated or discarded?)")
    return _name(doc, ref)


def _name(doc: Mapping[str, Any] | None, ref: RecordRef) -> str:
    if ref.table == CUSTOMERS:
        return str(doc["number"]) if doc else f"customer #{ref.id}"
    return PROSPECT_NAME.format(ref.id)
