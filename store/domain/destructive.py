"""Delete, merge, obfuscate and undo: the actions that take data away."""
from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import polars as pl

from store.base.errors import ConcurrentChange, NothingToUndo, RuleViolation
from store.domain import forgetting, journal
from store.domain.pictures import Pictures
from store.domain.records import Records
from store.domain.session import Session, customer_of, entry_of, list_numbers
from store.engine import Transaction
from store.model import (
    BLOCKS_OBFUSCATION,
    CAMPAIGNS,
    CHILD_TABLES,
    CONTACTS,
    CONVERSATIONS,
    CUSTOMERS,
    DEPARTMENTS,
    JOURNAL,
    PRIVATE,
    SHARED_OWNERS,
    Customer,
    JournalEntry,
    is_open,
    singular,
)
from store.rules import consent, obfuscation
from store.rules.merging import merge_outcome
from store.rules.settings import inactive_days


class Destructive:
    """Delete, merge, obfuscate and undo."""

    def __init__(self, session: Session, records: Records, pictures: Pictures) -> None:
        self.session, self.records, self.pictures = session, records, pictures

    def delete(self, customer_id: int) -> None:
        """Delete a customer and everything it owns; refused while it has orders."""
        with self.session.db.transaction() as tx:
            doc = self.session.current(tx, customer_id)
            orders = self.session.db.indexes.child_ids(customer_id, "orders")
            if orders:
                raise RuleViolation(f"customer {doc['number']} has {len(orders)} order(s): customers linked to orders "
                                    "cannot be deleted; deactivate it instead")
            for table in CHILD_TABLES:
                for child_id in self.session.db.indexes.child_ids(customer_id, table):
                    self._let_go(tx, table, child_id, customer_id, None)
            tx.delete(CUSTOMERS, customer_id)
            self.session.write_entry(tx, "delete", f"Deleted customer {doc['number']}")

    def merge_into(self, keep_id: int, other_id: int, choices: Mapping[str, str] | None = None) -> Customer:
        """Merge customer `other_id` into `keep_id`; `choices` maps a field to "keep" or "other"
        (tags also "both").

        Unchosen fields follow `rules.merging.default_choice`: the kept value, or the other's where the
        kept one is empty; tags are united. Every related record moves over. An email or phone not
        chosen becomes a contact or a line of the notes (`rules.merging.SetAside`).
        """
        if keep_id == other_id:
            raise RuleViolation("a customer cannot be merged with itself")
        choices = dict(choices or {})
        with self.session.db.transaction() as tx:
            keep, other = self.session.current(tx, keep_id), self.session.current(tx, other_id)
            merged, asides = merge_outcome(keep, other, choices)
            if merged["kind"] == PRIVATE and (self.records.has_structure(keep_id) or self.records.has_structure(other_id)):
                raise RuleViolation("the merged customer would be private but has departments or contacts; keep the corporate kind")
            cleaned = self.records.validated_customer(merged["kind"], merged, stored=keep)
            # The kept customer's picture, or else the other's.
            picture = keep.get("picture") or other.get("picture")
            tx.put(CUSTOMERS, keep_id, {**keep, **cleaned, "kind": merged["kind"], "picture": picture, "updated_at": journal.now(),
                                        consent.RECORD: merged[consent.RECORD]})
            moved = self._move_children(tx, other_id, keep_id)
            for aside in asides:
                if aside.into == "contact":
                    tx.insert(CONTACTS, self.records.contact_doc(keep_id, aside.contact(), None))
            tx.delete(CUSTOMERS, other_id)
            kept = "".join(f"; {aside.line()}" for aside in asides)
            self.session.write_entry(tx, "merge", f"Merged {other['number']} into {keep['number']} ({moved} related record(s) moved{kept})")
        return self.session.customer(keep_id)

    def _move_children(self, tx: Transaction, from_id: int, to_id: int) -> int:
        keeps_hq = self.session.headquarters(to_id) is not None
        moved = 0
        for table in CHILD_TABLES:
            for child_id in sorted(self.session.db.indexes.child_ids(from_id, table)):
                doc = tx.table(table)[child_id]
                if SHARED_OWNERS in doc:  # shared with other customers (an export): it names the kept one instead
                    self._let_go(tx, table, child_id, from_id, to_id)
                    moved += 1
                    continue
                doc = {**doc, "customer_id": to_id}
                if table == DEPARTMENTS and doc.get("headquarters") and keeps_hq:
                    doc["headquarters"] = False  # one headquarters: the kept customer's
                tx.put(table, child_id, doc)
                moved += 1
        return moved

    @staticmethod
    def _let_go(tx: Transaction, table: str, child_id: int, owner: int, heir: int | None) -> None:
        """A child document no longer belongs to `owner` (deleted, or merged into `heir`):
        one it owns alone goes (or moves); one shared with other customers drops or swaps its id."""
        doc = tx.table(table)[child_id]
        if SHARED_OWNERS not in doc:
            tx.delete(table, child_id)
            return
        owners = {i for i in doc[SHARED_OWNERS] if i != owner} | ({heir} if heir is not None else set())
        if owners:
            tx.put(table, child_id, {**doc, SHARED_OWNERS: sorted(owners), "count": len(owners)})
        else:
            tx.delete(table, child_id)

    def obfuscate(self, customer_id: int) -> Customer:
        """Replace personal data with fakes, delete conversations, purge old values.

        Irreversible: the journal's undo data holding the customer is dropped and
        the store files are rewritten so the old values survive nowhere.
        """
        # Committed as a new store file, not a log line: if that write fails, nothing
        # changed (and no old value was left behind while an error was reported).
        with self.session.db.reserved():
            with self.session.db.transaction(rewrite=True) as tx:
                number = self._obfuscate(tx, customer_id, forgetting.JournalIndex(tx.table(JOURNAL)))
                self.session.write_entry(tx, "obfuscate", f"Obfuscated customer {number}")
            self.pictures.sweep_pictures()  # its picture's file, now named by nothing
        return self.session.customer(customer_id)

    def _obfuscate(self, tx: Transaction, customer_id: int, index: forgetting.JournalIndex) -> str:
        doc = self.session.current(tx, customer_id)
        blocking = [str(tx.table(kind)[i]["number"]) for kind in BLOCKS_OBFUSCATION
                    for i in sorted(self.session.db.indexes.child_ids(customer_id, kind)) if is_open(kind, tx.table(kind)[i])]
        if blocking:
            raise RuleViolation(f"customer {doc['number']} has open orders, offers or tickets ({list_numbers(blocking)}); "
                                "close them before obfuscating")
        if doc.get("obfuscated_at"):
            raise RuleViolation(f"customer {doc['number']} is already obfuscated")
        tag, stamp = str(customer_id), journal.now()
        personal = [doc]  # (what it held before: the journal forgets every text of it)
        tx.put(CUSTOMERS, customer_id, {**obfuscation.fake_customer(doc, tag), "obfuscated_at": stamp, "updated_at": stamp})
        for table, fake in ((DEPARTMENTS, obfuscation.fake_department), (CONTACTS, obfuscation.fake_contact)):
            for child_id in self.session.db.indexes.child_ids(customer_id, table):
                personal.append(tx.table(table)[child_id])
                tx.put(table, child_id, fake(personal[-1], f"{tag}-{child_id}"))
        for conversation_id in self.session.db.indexes.child_ids(customer_id, CONVERSATIONS):
            personal.append(tx.table(CONVERSATIONS)[conversation_id])
            tx.delete(CONVERSATIONS, conversation_id)
        for campaign_id, campaign in list(self.session.db.tables[CAMPAIGNS].items()):
            scrubbed = obfuscation.scrub_campaign(campaign, doc["number"])
            if scrubbed is not None:
                tx.put(CAMPAIGNS, campaign_id, scrubbed)
        forgetting.purge_customer(tx, customer_id, personal, index)
        return str(doc["number"])

    def obfuscation_due(self, days: int, *, opted_out: bool = False) -> list[Customer]:
        """Customers inactive for `days` days or more, not yet obfuscated, whose obfuscation is
        enabled (or, with `opted_out`, those the policy passes over because it is not)."""
        cutoff = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
        return [customer_of(i, d) for i, d in sorted(self.session.db.tables[CUSTOMERS].items())
                if not d.get("active") and d.get("obfuscate_enabled", True) is not opted_out and not d.get("obfuscated_at")
                and (d.get("deactivated_at") or "") <= cutoff]

    def obfuscate_inactive(self, inactive: int | str, *, dry_run: bool = False) -> dict[str, Any]:
        """The policy run: obfuscate every customer inactive for `inactive` days (a number, or
        text as typed) or more; report who was and who was refused, and why."""
        days = inactive_days(inactive)
        report: dict[str, Any] = {"obfuscated": [], "refused": [], "opted_out": len(self.obfuscation_due(days, opted_out=True))}
        try:
            with self.session.db.reserved(), self.session.db.transaction(rewrite=True) as tx:
                index = forgetting.JournalIndex(tx.table(JOURNAL))
                for customer in self.obfuscation_due(days):
                    try:
                        with tx.savepoint():
                            report["obfuscated"].append(self._obfuscate(tx, customer["id"], index))
                    except RuleViolation as err:
                        report["refused"].append({"number": customer["number"], "reason": str(err)})
                if dry_run:
                    raise _DryRun()  # the very same checks, then everything rolled back
                if report["obfuscated"]:
                    self.session.write_entry(tx, "obfuscate", f"Obfuscation policy ({days} days inactive): "
                                                              f"{len(report['obfuscated'])} customer(s)")
        except _DryRun:
            return report
        if report["obfuscated"]:
            with self.session.db.reserved():
                self.pictures.sweep_pictures()
        return report

    def undo(self, entry_id: int | None = None) -> JournalEntry:
        """Undo the latest undoable action, or the given journal entry (revert an import)."""
        with self.session.db.transaction() as tx, contextlib.ExitStack() as reading:
            entries = self.session.db.tables[JOURNAL]
            if entry_id is None:
                found = journal.latest_undoable(entries)
                if found is None:
                    raise NothingToUndo("nothing to undo")
                entry_id, entry = found
            else:
                asked = entries.get(entry_id)
                if asked is None or not asked.get("undoable") or asked.get("changes") is None:
                    raise NothingToUndo(f"journal entry #{entry_id} cannot be undone")
                entry = asked
                if entry.get("undone"):
                    raise NothingToUndo(f"'{entry['summary']}' was already undone")
            runs, rest = journal.bulk_runs(entry)
            changed: list[tuple[str, int]] = []
            for table, first, stop, rev in runs:
                gone = tx.delete_run(table, first, stop, rev)
                if gone is None:  # (one by one: not a server's table)
                    rest["changes"].append([table, [first, stop], None, rev])
                changed += [(table, doc_id) for doc_id in gone or ()]
            for table, ids in journal.changed_ids(rest).items():
                reading.enter_context(tx.reading_ahead(table, ids))
            patches = list(journal.patches_of(entry))
            changed = journal.conflicts(tx, rest) + changed + [
                (table, doc_id) for table, after, _values in patches for doc_id in tx.not_at(table, after)]
            if changed:
                table, doc_id = changed[0]
                raise ConcurrentChange(f"cannot undo '{entry['summary']}': {len(changed)} record(s) changed since, "
                                       f"e.g. {singular(table)} #{doc_id}")
            for table, doc_id, before, _after_rev in reversed(list(journal.changes_of(rest))):
                tx.restore(table, doc_id, before)
            for table, after, before in patches:
                tx.patch(table, _as_before(after, before), back=True)
            tx.put(JOURNAL, entry_id, {**entry, "undone": True, "changes": None, "patches": None,
                                       "undone_at": journal.now()})
            self.session.write_entry(tx, "undo", f"Undid '{entry['summary']}'")
        return entry_of(entry_id, entry)


def _as_before(after: pl.DataFrame, before: Mapping[str, list[Any]]) -> pl.DataFrame:
    """The changes that put patched documents back (`Transaction.patch`, back): their id
    and rev now, and each field's value before. A field whose values are not of one type
    (a document written by hand) is put back value for value, as a JSON value each: a
    column of them would have made a text of a flag."""
    return after.with_columns([_exactly(field, values) for field, values in before.items()])


def _exactly(field: str, values: list[Any]) -> pl.Series:
    """A column of these values if it holds each as it is (polars makes [1, True] [1, 1],
    and a struct of the first object's keys); else an `Object` column of them."""
    try:
        column = pl.Series(field, values, strict=True)
    except (TypeError, pl.exceptions.PolarsError):
        column = None
    if column is not None and orjson.dumps(column.to_list()) == orjson.dumps(values):
        return column
    return pl.Series(field, values, dtype=pl.Object)


class _DryRun(Exception):
    """Rolls a transaction back on purpose."""
