"""Customers signing themselves up (seed 001): each sign-up lands in the source list for
staff to review and activate, under the same rules as a customer saved by staff.

A company name is required while the store does not allow private customers (seed
001: "Allow Personal Account Registration" No). Someone who is already a prospect
or a customer (same email, phone or VAT id) is not created twice: the prospect is
marked as signed up again, the customer gets a conversation saying so. What the
person is told is the same either way, so the page reveals nobody's address.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from store.domain import journal
from store.domain.records import Records
from store.errors import FieldIssue, ValidationFailed
from store.model import CONVERSATIONS, CORPORATE, CUSTOMERS, PERSON_FIELDS, PRIVATE, SOURCES
from store.rules.validation import errors_of, identity_keys

SIGN_UP = "sign-up"
Outcome = Literal["new", "prospect-again", "customer-again"]


class SignUps(Records):
    def sign_up(self, kind: str, data: Mapping[str, Any]) -> tuple[Outcome, int]:
        """A person's own registration: (what it became, the prospect's or customer's id);
        ValidationFailed names each field the store's rules refuse."""
        if kind not in (CORPORATE, PRIVATE):
            raise ValidationFailed([FieldIssue("kind", kind, "choose a company or a private account", "error")])
        cleaned, issues = self._clean_customer(kind, data)
        if not data.get("consent"):
            issues.append(FieldIssue("consent", None, "please agree to the use of your data to go on", "error"))
        if errors_of(issues):
            raise ValidationFailed(errors_of(issues))
        stamp = journal.now()
        with self._db.transaction() as tx:
            known = self._known(cleaned)
            if known is not None:
                return self._again(tx, *known, stamp), known[1]
            origin = {"profile": SIGN_UP, "file": "web form", "kind": kind, "consent_at": stamp}
            prospect = {k: v for k, v in cleaned.items() if k in PERSON_FIELDS}
            doc_id = tx.insert(SOURCES, self._source_doc({"origin": origin}, prospect, stamp))
            self._journal(tx, "sign_up", f"Sign-up of prospect #{doc_id} through the web form")
        return "new", doc_id

    def _known(self, cleaned: Mapping[str, Any]) -> tuple[str, int] | None:
        """The prospect, else the customer, holding one of this person's email, phones or VAT id."""
        return next(((table, doc_id) for table in (SOURCES, CUSTOMERS) for field, value in identity_keys(cleaned)
                     for doc_id in sorted(self._db.indexes.find(table, field, value))), None)

    def _again(self, tx: Any, table: str, doc_id: int, stamp: str) -> Outcome:
        doc = tx.get(table, doc_id)
        if table == SOURCES:
            origin = {**(doc.get("origin") or {}), "signed_up_again": stamp}
            tx.put(SOURCES, doc_id, {**doc, "origin": origin})
            self._journal(tx, "sign_up", f"Prospect #{doc_id} signed up again through the web form")
            return "prospect-again"
        tx.insert(CONVERSATIONS, {"customer_id": doc_id, "at": stamp, "channel": "web", "direction": "in",
                                  "subject": "Signed up again through the sign-up page"})
        self._journal(tx, "sign_up", f"Customer {doc['number']} signed up again through the web form")
        return "customer-again"
