"""Sync conflicts settled: which conflicts are still open, and a resolution that takes the
accounting value or keeps ours, as one journaled, undoable entry (`sync_resolve`).

A run reports a conflict for a field edited here and changed in accounting too
(`store.domain.sync.three_way`), and marks it on the record's origin (`conflicts`:
field → the accounting value). It is open while that mark names the same value and
the record holds neither it here nor as the value last synced. A resolution makes the
accounting value the one last synced (so the next run, meeting it again, leaves the
field alone; a value accounting changes again is a conflict again), drops the mark
and, taking accounting's side, writes the value under the rules of an edit. Undoing
it puts the record back as it was: the conflict is open again.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Literal, TypedDict, get_args

from store.base.errors import NotFound, RuleViolation, ValidationFailed
from store.domain import journal
from store.domain.records import Records
from store.domain.session import Session
from store.engine import Document, Transaction
from store.model import CUSTOMERS, JOURNAL, JournalEntry, display_name

Side = Literal["accounting", "here"]
SIDES: tuple[Side, ...] = get_args(Side)
RESOLVE = "sync_resolve"


class SyncConflict(TypedDict):
    """One open conflict, as `custdesk sync conflicts` lists it: the customer (with its
    revision, for a resolution that must find it unchanged), the field, both values,
    and the latest run that reported it."""

    customer_id: int
    rev: int
    number: str
    name: str
    field: str
    here: Any
    accounting: Any
    profile: str
    account_id: str
    run: int
    file: str
    at: str


# The prospect or customer an accounting record (profile, id) became: (table, id, document).
SyncedDoc = Callable[[str, str], tuple[str, int, Document] | None]


def marked(conflicts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The mark a run leaves on a record's origin for its conflicts: field → accounting value."""
    return {conflict["field"]: conflict["there"] for conflict in conflicts}


def with_mark(origin: Mapping[str, Any], mark: Mapping[str, Any]) -> dict[str, Any]:
    """`origin` marked with `mark`; an origin never marked and still without conflicts stays
    as it was (a record's first run under this rule is not a change of every record)."""
    if not mark and "conflicts" not in origin:
        return dict(origin)
    return {**origin, "conflicts": dict(mark)}


def is_open(doc: Mapping[str, Any], field: str, accounting: Any) -> bool:
    """Whether the conflict on `field` with accounting's value is still open on this record."""
    origin = doc.get("origin") or {}
    if doc.get(field) == accounting or (origin.get("synced") or {}).get(field) == accounting:
        return False
    mark = origin.get("conflicts")
    # (an origin with no mark at all was synced before runs marked their conflicts)
    return mark is None or (field in mark and mark[field] == accounting)


class Settling:
    """The open conflicts and their resolutions, over the Sync aggregate's runs and records."""

    def __init__(self, session: Session, records: Records, synced_doc: SyncedDoc, run_action: str) -> None:
        """`run_action`: the journal action of a sync run."""
        self.session, self.records, self.synced_doc, self.run_action = session, records, synced_doc, run_action

    def runs(self) -> Iterator[tuple[int, Document]]:
        """The sync runs in force that reported conflicts, newest first: (entry id, entry)."""
        return journal.newest(self.session.db.tables[JOURNAL], lambda entry: (
            entry.get("action") == self.run_action and not entry.get("undone") and bool(entry.get("conflicts"))))

    def open_conflicts(self, run: int | None = None) -> list[SyncConflict]:
        """Every open conflict, the latest report of each (record, field), newest run first;
        or those sync run `run` reported that are still open (none for a run undone)."""
        if run is not None:
            entry = self.session.db.tables[JOURNAL].get(run) or {}
            live = entry.get("action") == self.run_action and not entry.get("undone")
            return self._of_run(run, entry) if live else []
        latest: dict[tuple[str, str, str], SyncConflict | None] = {}
        for run_id, entry in self.runs():
            for reported in entry.get("conflicts") or ():
                key = (entry["profile"], reported["id"], reported["field"])
                if key not in latest:
                    latest[key] = self._still_open(run_id, entry, reported)
        return [conflict for conflict in latest.values() if conflict is not None]

    def resolve(self, number: str, field: str, side: Side, expected_rev: int | None) -> JournalEntry:
        """Settle the customer's open conflict on `field` (see the module's docstring)."""
        side = side_of(side)
        with self.session.db.transaction() as tx:
            doc = self.session.current(tx, self._numbered(number), expected_rev)
            open_here = self._open_of(doc)
            conflict = next((c for c in open_here if c["field"] == field), None)
            if conflict is None:
                fields = ", ".join(c["field"] for c in open_here)
                raise RuleViolation(f"customer {doc['number']} has no open sync conflict on {field}"
                                    + (f" (open: {fields})" if fields else ""))
            self._settle(tx, conflict, side)
            return self.session.write_entry(tx, RESOLVE, _summary(conflict, side), details={
                "resolved": [_resolved(conflict, side)]})

    def resolve_run(self, entry_id: int, side: Side, expected_revs: Mapping[int, int] | None) -> JournalEntry:
        """Settle every open conflict of one run the same way, in one entry; `expected_revs`
        (customer id → revision, as shown) refuses if one of them changed meanwhile."""
        side = side_of(side)
        with self.session.db.transaction() as tx:
            run = dict(self.session.db.tables[JOURNAL].get(entry_id) or {})
            if run.get("action") != self.run_action:
                raise NotFound(f"no sync run #{entry_id} (custdesk sync conflicts lists the runs of open conflicts)")
            if run.get("undone"):
                raise RuleViolation(f"sync run #{entry_id} was undone: its conflicts went with it")
            conflicts = self._of_run(entry_id, run)
            if not conflicts:
                raise RuleViolation(f"sync run #{entry_id} has no open conflicts")
            for conflict in conflicts:
                expected = (expected_revs or {}).get(conflict["customer_id"])
                self.session.current(tx, conflict["customer_id"], expected)
            for conflict in conflicts:
                self._settle(tx, conflict, side)
            took = "took accounting's values" if side == "accounting" else "kept ours"
            return self.session.write_entry(
                tx, RESOLVE, f"Settled {len(conflicts)} conflict(s) of sync run #{entry_id} ({run.get('file')}): {took}",
                details={"run": entry_id, "resolved": [_resolved(c, side) for c in conflicts]})

    def _of_run(self, run_id: int, run: Mapping[str, Any]) -> list[SyncConflict]:
        return [c for reported in run.get("conflicts") or () if (c := self._still_open(run_id, run, reported))]

    def _numbered(self, number: str) -> int:
        found = sorted(self.session.db.indexes.find(CUSTOMERS, "number", number.strip().upper()))
        if not found:
            raise NotFound(f"no customer numbered {number}")
        return found[0]

    def _open_of(self, doc: Mapping[str, Any]) -> list[SyncConflict]:
        """The customer's open conflicts (the latest report of each of its fields)."""
        origin = doc.get("origin") or {}
        profile, account_id = origin.get("profile"), origin.get("id")
        if profile is None or account_id is None:
            return []
        return [c for c in self.open_conflicts() if (c["profile"], c["account_id"]) == (profile, account_id)]

    def _still_open(self, run_id: int, run: Mapping[str, Any], reported: Mapping[str, Any]) -> SyncConflict | None:
        """The conflict a run reported, as it stands now, if it is still open on a customer
        (a prospect is never edited here, so it never holds one)."""
        found = self.synced_doc(run["profile"], reported["id"])
        if found is None or found[0] != CUSTOMERS:
            return None
        _, doc_id, doc = found
        field, accounting = reported["field"], reported["there"]
        if not is_open(doc, field, accounting):
            return None
        return SyncConflict(customer_id=doc_id, rev=doc["rev"], number=doc["number"], name=display_name(doc), field=field,
                            here=doc.get(field), accounting=accounting, profile=run["profile"], account_id=reported["id"],
                            run=run_id, file=run.get("file") or "", at=run["at"])

    def _settle(self, tx: Transaction, conflict: SyncConflict, side: Side) -> None:
        """The accounting value made the one last synced, the mark dropped, and (accounting's
        side) the value written as an edit writes it: cleaned and judged by the rules."""
        doc = self.session.current(tx, conflict["customer_id"])
        field, accounting = conflict["field"], conflict["accounting"]
        origin = doc.get("origin") or {}
        mark = {k: v for k, v in (origin.get("conflicts") or {}).items() if k != field}
        settled = {**doc, "origin": with_mark({**origin, "synced": {**(origin.get("synced") or {}), field: accounting}}, mark)}
        if side == "accounting":
            try:
                cleaned = self.records.validated_customer(doc["kind"], {**doc, field: accounting}, stored=doc)
            except ValidationFailed as err:
                raise RuleViolation(f"customer {doc['number']}: accounting's {field} cannot be taken ({err})") from None
            settled = {**settled, **cleaned, "updated_at": journal.now()}
        tx.put(CUSTOMERS, conflict["customer_id"], settled)


def side_of(value: str) -> Side:
    """`value` as the side a conflict is settled by, or the one refusal."""
    for side in SIDES:
        if value == side:
            return side
    raise RuleViolation(f"a conflict is settled by 'accounting' or 'here', not '{value}'")


def _resolved(conflict: SyncConflict, side: Side) -> dict[str, Any]:
    """What the resolution's journal entry keeps of each conflict it settled."""
    return {"number": conflict["number"], "field": conflict["field"], "here": conflict["here"],
            "accounting": conflict["accounting"], "side": side, "run": conflict["run"], "profile": conflict["profile"],
            "id": conflict["account_id"]}


def _summary(conflict: SyncConflict, side: Side) -> str:
    here, accounting = shown_value(conflict["here"]), shown_value(conflict["accounting"])
    if side == "accounting":
        return f"Took accounting's {conflict['field']} for {conflict['number']}: {accounting} (was {here})"
    return f"Kept {conflict['field']} of {conflict['number']}: {here} (accounting has {accounting})"


def shown_value(value: Any) -> str:
    """A field's value in a line of text: an empty one said so."""
    return "(empty)" if value in (None, "") else str(value)
