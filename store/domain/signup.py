"""Customers signing themselves up (seed 001): each sign-up lands in the source list for
staff to review and activate, under the same rules as a customer saved by staff.

A company name is required while the store does not allow private customers (seed
001: "Allow Personal Account Registration" No). Someone who is already a prospect
or a customer (same email, phone or VAT id) is not created twice: the prospect is
marked as signed up again, the customer gets a conversation saying so. Anyone else
becomes a new prospect; the records the duplicate matcher (store.matching) finds
likely the same person are queued for review with the sign-up
(store.domain.review_queue), and so is the holder of a shared key whom the matcher
tells apart from this person (a household's landline), who is then not "known".
What the person is told is the same either way, so the page reveals nobody's address.

The public page asks more than staff's forms do: the person must be reachable, so a phone
the phone rule cannot read for its country is refused there (staff may keep one as typed).
A new prospect keeps what they agreed to (the words, the page, the time) and stays
unconfirmed until they follow the signed link mailed to them (double opt-in, `confirm_sign_up`).
One who asked for news and offers by email is counted as agreeing only once confirmed: the
prospect's `email_marketing` is set then, with the time in its origin (which a customer made
of it keeps).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from store.base.errors import FieldIssue, NotFound, ValidationFailed
from store.domain import journal
from store.domain.matcher import Matcher
from store.domain.records import Records
from store.domain.review_queue import Holders, holders, queued_details
from store.domain.session import Session
from store.engine import Transaction
from store.model import CONVERSATIONS, CORPORATE, CUSTOMERS, PERSON_FIELDS, PRIVATE, SOURCES
from store.rules.validation import errors_of

if TYPE_CHECKING:
    from store.matching.pairs import Pair

SIGN_UP = "sign-up"
CONFIRMER = "the person signing up (confirmation link)"  # the journal's user for a confirmation
CONFIRM_TTL = 3 * 24 * 3600  # seconds a confirmation link is valid
Outcome = Literal["new", "prospect-again", "customer-again"]
QUEUED_PER_SIGN_UP = 3  # the surest of the records a new sign-up likely is, queued for review
Queued = tuple[str, int, str, int, "float | None", tuple[str, ...]]  # what `queued_details` keeps of a pair


class SignUps:
    """Sign-ups through the web form (see the module's docstring)."""

    def __init__(self, session: Session, records: Records, matcher: Matcher) -> None:
        self.session, self.records, self.matcher = session, records, matcher

    def sign_up(self, kind: str, data: Mapping[str, Any], *, consent_text: str | None = None,
                page: str | None = None, wants_news: bool = False) -> tuple[Outcome, int]:
        """A person's own registration: (what it became, the prospect's or customer's id);
        ValidationFailed names each field the store's rules refuse. `consent_text` and `page`:
        the words the person agreed to and the address of the page that showed them;
        `wants_news`: they asked for news and offers by email (agreed once confirmed)."""
        if kind not in (CORPORATE, PRIVATE):
            raise ValidationFailed([FieldIssue("kind", kind, "choose a company or a private account", "error")])
        cleaned, issues = self.records.check_customer(kind, data)
        issues = [_reachable(issue) for issue in issues]
        if not data.get("consent"):
            issues.append(FieldIssue("consent", None, "please agree to the use of your data to go on", "error"))
        if errors_of(issues):
            raise ValidationFailed(errors_of(issues))
        prospect = {k: v for k, v in cleaned.items() if k in PERSON_FIELDS}
        likely = self._likely_same(prospect)  # (before the lock: its first look in a process reads the whole store)
        stamp = journal.now()
        with self.session.db.transaction() as tx:
            held = holders(self.session.db.indexes, cleaned, (SOURCES, CUSTOMERS))
            told_apart = set(held) - {(p.a.table, p.a.id) for p in likely}
            known = next((ref for ref in held if ref not in told_apart), None)
            if known is not None:
                return self._again(tx, *known, stamp), known[1]
            agreed = {"consent_text": consent_text, "consent_page": page, "email_marketing_asked": wants_news}
            origin = {"profile": SIGN_UP, "file": "web form", "kind": kind, "consent_at": stamp,
                      **{k: v for k, v in agreed.items() if v}}
            doc_id = tx.insert(SOURCES, self.records.source_doc({"origin": origin}, prospect, stamp))
            queued = _queued(tx, doc_id, likely, {ref: held[ref] for ref in held if ref in told_apart})
            also = f", {len(queued)} likely duplicate(s) queued for review" if queued else ""
            self.session.write_entry(tx, "sign_up", f"Sign-up of prospect #{doc_id} through the web form{also}",
                          details=queued_details(queued))
        return "new", doc_id

    def confirm_sign_up(self, prospect_id: int) -> bool:
        """The person followed the link mailed to them: the prospect's address is confirmed
        (origin.confirmed_at, journaled in their name). False when it was confirmed before;
        NotFound when the prospect is gone (activated, merged or discarded since)."""
        with self.session.db.transaction() as tx:
            doc = tx.get(SOURCES, prospect_id)
            if doc is None:
                raise NotFound(f"prospect #{prospect_id} does not exist (activated or discarded?)")
            origin = doc.get("origin") or {}
            if origin.get("confirmed_at"):
                return False
            stamp = journal.now()
            news = {"email_marketing": True} if origin.get("email_marketing_asked") else {}
            confirmed = {"confirmed_at": stamp} | ({"email_marketing_at": stamp} if news else {})
            tx.put(SOURCES, prospect_id, {**doc, **news, "origin": {**origin, **confirmed}})
            also = ", agreeing to news and offers by email" if news else ""
            journal.write_entry(tx, "confirm_sign_up", f"Prospect #{prospect_id} confirmed their address "
                                f"through the link mailed to them{also}", CONFIRMER)
        return True

    def prepare_sign_ups(self) -> None:
        """Have the duplicate matcher read the store now (its first look in a process reads the
        whole store, and catches up with the changes made since at the next): a server calls
        this at start and before it takes the store's lock for a sign-up."""
        self._likely_same({})  # (a record of no fields: compared with nobody)

    def _likely_same(self, prospect: Mapping[str, Any]) -> list[Pair]:
        """The stored records the matcher finds likely this person, surest first."""
        return self.matcher.matches_for(SOURCES, prospect)

    def _again(self, tx: Any, table: str, doc_id: int, stamp: str) -> Outcome:
        doc = tx.get(table, doc_id)
        if table == SOURCES:
            origin = {**(doc.get("origin") or {}), "signed_up_again": stamp}
            tx.put(SOURCES, doc_id, {**doc, "origin": origin})
            self.session.write_entry(tx, "sign_up", f"Prospect #{doc_id} signed up again through the web form")
            return "prospect-again"
        tx.insert(CONVERSATIONS, {"customer_id": doc_id, "at": stamp, "channel": "web", "direction": "in",
                                  "subject": "Signed up again through the sign-up page"})
        self.session.write_entry(tx, "sign_up", f"Customer {doc['number']} signed up again through the web form")
        return "customer-again"


def _reachable(issue: FieldIssue) -> FieldIssue:
    """A phone the rule cannot read for its country, refused on the public page (staff may
    keep one as typed): the person must be reachable at what they give."""
    if issue.field != "phone" or issue.severity != "warning":
        return issue
    return FieldIssue("phone", issue.value, f"'{issue.value}' is not a phone number we can reach: write it with "
                      "its country code (+44 20 7946 0000) or give the country", "error")


def _queued(tx: Transaction, doc_id: int, likely: Sequence[Pair], holders: Holders) -> list[Queued]:
    """The new prospect's pairs to review: the matcher's surest, then the holders of a key it
    shares (whom it told apart: no pair of its names them), of those still in the store (the
    matcher looked before the lock)."""
    found: list[Queued] = [(SOURCES, doc_id, p.a.table, p.a.id, p.score, p.reasons) for p in likely]
    found += [(SOURCES, doc_id, table, other, None, tuple(reasons)) for (table, other), reasons in holders.items()]
    kept = [pair for pair in found if tx.get(pair[2], pair[3]) is not None]
    return kept[:QUEUED_PER_SIGN_UP]
