"""A customer's departments, contacts, related records, conversations and exports."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from store.base.errors import RuleViolation
from store.base.text import path_text
from store.domain import journal
from store.domain.records import Records
from store.domain.session import Session, private_fields
from store.model import (
    CONTACTS,
    CONVERSATIONS,
    DEPARTMENTS,
    EXPORTS,
    NEEDS_ACTIVE_CUSTOMER,
    RELATED_KINDS,
    SHARED_OWNERS,
    RelatedRecord,
    format_number,
    singular,
)
from store.rules.validation import clean_text

# Customers one export record names at most: a whole store's export is logged in parts.
EXPORT_PART = 10_000


class Related:
    """A customer's departments, contacts, related records, conversations and exports."""

    def __init__(self, session: Session, records: Records) -> None:
        self.session, self.records = session, records

    def add_department(self, customer_id: int, data: Mapping[str, Any], *, headquarters: bool = False) -> RelatedRecord:
        with self.session.db.transaction() as tx:
            owner = self.records.corporate(tx, customer_id, "departments")
            doc = self.records.department_doc(customer_id, data, headquarters)
            if headquarters and self.session.headquarters(customer_id) is not None:
                raise RuleViolation(f"customer {owner['number']} already has a headquarters")
            doc_id = tx.insert(DEPARTMENTS, doc)
            self.session.write_entry(tx, "add_department", f"Added department '{doc['name']}' to {owner['number']}")
        return self.session.child(DEPARTMENTS, doc_id)

    def set_headquarters(self, department_id: int) -> RelatedRecord:
        """Make this department its customer's headquarters (the one there was is one no more)."""
        with self.session.db.transaction() as tx:
            department = self.session.existing_child(tx, DEPARTMENTS, department_id)
            owner = self.session.current(tx, department["customer_id"])
            for other_id in self.session.db.indexes.child_ids(department["customer_id"], DEPARTMENTS) - {department_id}:
                other = tx.table(DEPARTMENTS)[other_id]
                if other.get("headquarters"):
                    tx.put(DEPARTMENTS, other_id, {**other, "headquarters": False})
            tx.put(DEPARTMENTS, department_id, {**department, "headquarters": True})
            self.session.write_entry(tx, "headquarters", f"'{department['name']}' is now the headquarters of {owner['number']}")
        return self.session.child(DEPARTMENTS, department_id)

    def edit_department(self, department_id: int, changes: Mapping[str, Any]) -> RelatedRecord:
        with self.session.db.transaction() as tx:
            current = self.session.existing_child(tx, DEPARTMENTS, department_id)
            doc = self.records.department_doc(current["customer_id"], {**current, **private_fields(changes)}, current["headquarters"])
            tx.put(DEPARTMENTS, department_id, {**current, **doc})
            self.session.write_entry(tx, "edit_department", f"Edited department '{doc['name']}'")
        return self.session.child(DEPARTMENTS, department_id)

    def add_contact(self, customer_id: int, data: Mapping[str, Any], *, department_id: int | None = None) -> RelatedRecord:
        with self.session.db.transaction() as tx:
            owner = self.records.corporate(tx, customer_id, "contacts")
            doc = self.records.contact_doc(customer_id, data, department_id)
            doc_id = tx.insert(CONTACTS, doc)
            self.session.write_entry(tx, "add_contact", f"Added a contact to {owner['number']}")
        return self.session.child(CONTACTS, doc_id)

    def edit_contact(self, contact_id: int, changes: Mapping[str, Any]) -> RelatedRecord:
        with self.session.db.transaction() as tx:
            current = self.session.existing_child(tx, CONTACTS, contact_id)
            changes = private_fields(changes)
            department_id = changes.pop("department_id", current.get("department_id"))
            doc = self.records.contact_doc(current["customer_id"], {**current, **changes}, department_id)
            tx.put(CONTACTS, contact_id, {**current, **doc})
            self.session.write_entry(tx, "edit_contact", f"Edited contact #{contact_id}")
        return self.session.child(CONTACTS, contact_id)

    def add_related(self, kind: str, customer_id: int, data: Mapping[str, Any]) -> RelatedRecord:
        """Create an order, invoice, offer, contract, ticket, task or return."""
        if kind not in RELATED_KINDS:
            raise RuleViolation(f"'{kind}' is not a related record kind")
        related = RELATED_KINDS[kind]
        with self.session.db.transaction() as tx:
            owner = self.session.current(tx, customer_id)
            if kind in NEEDS_ACTIVE_CUSTOMER and not owner["active"]:
                raise RuleViolation(f"customer {owner['number']} is inactive: it cannot get a new {singular(kind)}; reactivate it first")
            status = data.get("status") or related.statuses[0]
            if status not in related.statuses:
                raise RuleViolation(f"{singular(kind)} status must be one of {', '.join(related.statuses)}, not '{status}'")
            doc = {
                "customer_id": customer_id,
                "number": format_number(related.prefix, tx.next_counter(kind)),
                "date": data.get("date") or journal.now()[:10],
                "status": status,
                "title": clean_text(data.get("title")),
                "amount": data.get("amount"),
            }
            doc_id = tx.insert(kind, doc)
            self.session.write_entry(tx, "add_" + singular(kind), f"Created {singular(kind)} {doc['number']} for {owner['number']}")
        return self.session.child(kind, doc_id)

    def set_status(self, kind: str, doc_id: int, status: str) -> RelatedRecord:
        statuses = RELATED_KINDS[kind].statuses
        if status not in statuses:
            raise RuleViolation(f"{singular(kind)} status must be one of {', '.join(statuses)}, not '{status}'")
        with self.session.db.transaction() as tx:
            doc = self.session.existing_child(tx, kind, doc_id)
            tx.put(kind, doc_id, {**doc, "status": status})
            self.session.write_entry(tx, "status", f"{doc['number']} is now {status}")
        return self.session.child(kind, doc_id)

    def complete_task(self, task_id: int) -> RelatedRecord:
        return self.set_status("tasks", task_id, "done")

    def log_conversation(self, customer_id: int, data: Mapping[str, Any]) -> RelatedRecord:
        """Record an email, call, chat or SMS with the customer."""
        with self.session.db.transaction() as tx:
            owner = self.session.current(tx, customer_id)
            doc = {"customer_id": customer_id, "at": data.get("at") or journal.now(),
                   **{k: data.get(k) for k in ("channel", "direction", "subject", "body", "template", "campaign")}}
            doc_id = tx.insert(CONVERSATIONS, doc)
            self.session.write_entry(tx, "conversation", f"Logged a {doc['channel'] or 'conversation'} with {owner['number']}")
        return self.session.child(CONVERSATIONS, doc_id)

    def log_export(self, customer_ids: Sequence[int], fmt: str, target: str) -> int:
        """Note that these customers went out, where and when: records naming them (each
        customer's Export log finds its own), one for every `EXPORT_PART` of them, so that
        a later change of one (a delete, a merge) rewrites a part, not a list of millions."""
        ids = pl.Series(values=customer_ids, dtype=pl.Int64).unique().sort()
        parts = pl.Series(SHARED_OWNERS, [ids.slice(start, EXPORT_PART) for start in range(0, len(ids), EXPORT_PART)],
                          dtype=pl.List(pl.Int64))
        target = path_text(target)
        # Column-wise, as an import's rows: ten million ids as Python numbers would take 400 MB.
        rows = pl.DataFrame([parts]).with_columns(at=pl.lit(journal.now()), format=pl.lit(fmt), target=pl.lit(target),
                                                  user=pl.lit(self.session.user), count=parts.list.len())
        with self.session.db.transaction() as tx:
            tx.insert_rows(EXPORTS, rows)
            self.session.write_entry(tx, "export", f"Exported {len(ids)} customer(s) as {fmt} to {target}")
        return len(ids)
