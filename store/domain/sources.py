"""The source list: prospects added, activated into customers, merged into one, discarded."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from store.base.errors import NotFound, RuleViolation
from store.domain import forgetting, journal
from store.domain.distinct import Distinct
from store.domain.matcher import Matcher
from store.domain.records import Records
from store.domain.review_queue import customers_holding
from store.domain.self_service import QUEUE_ID
from store.domain.session import Session, private_fields
from store.domain.signup import SIGN_UP
from store.engine import Transaction
from store.model import CORPORATE, CUSTOMERS, KINDS, PERSON_FIELDS, PRIVATE, SETTINGS, SOURCES, Customer, Kind, Prospect
from store.rules import consent

if TYPE_CHECKING:  # (store.views.duplicates reads the Store this module is part of: imported where used)
    from store.views.duplicates import LikelyCustomer


def activation_kind(source: Mapping[str, Any]) -> Kind:
    """The kind a prospect is activated as unless the user says otherwise: what its
    accounting export said (DATEV's Adressatentyp …), else corporate when it names a
    company, else private."""
    said = (source.get("origin") or {}).get("kind")
    if said in KINDS:
        return cast(Kind, said)
    return CORPORATE if source.get("company") else PRIVATE


class Sources:
    """The source list: prospects added, activated, merged into a customer, discarded."""

    def __init__(self, session: Session, records: Records, distinct: Distinct, matcher: Matcher) -> None:
        self.session, self.records, self.distinct, self.matcher = session, records, distinct, matcher

    def add_source(self, data: Mapping[str, Any]) -> Prospect:
        """Add one prospect; `data` may carry `origin` (file/sheet/row/profile) and `raw`."""
        with self.session.db.transaction() as tx:
            doc_id = tx.insert(SOURCES, self.records.source_doc(data))
            self.session.write_entry(tx, "add_source", f"Added prospect #{doc_id}")
        return self.session.source(doc_id)

    def activate(self, source_id: int, kind: Kind, edits: Mapping[str, Any] | None = None) -> Customer:
        """Turn a prospect into a customer, with the form's edits applied on the way."""
        with self.session.db.transaction() as tx:
            source = tx.get(SOURCES, source_id)
            if source is None:
                raise NotFound(f"prospect #{source_id} does not exist (activated or discarded by someone else?)")
            _refuse_if_erasure_asked(tx, source_id)
            origin = dict((source.get("origin") or {}).items())
            data = {**source, **private_fields(edits or {}), "origin": origin}
            customer_id, doc = self.records.new_customer(tx, kind, data)
            carried = _carried_consent(source, doc)
            if carried:
                tx.put(CUSTOMERS, customer_id, {**doc, consent.RECORD: {**(doc.get(consent.RECORD) or {}), **carried}})
            tx.delete(SOURCES, source_id)
            self.session.write_entry(tx, "activate", f"Activated prospect #{source_id} as {doc['number']}", (customer_id,))
        return self.session.customer(customer_id)

    def customers_like_source(self, source_id: int) -> list[LikelyCustomer]:
        """The customers this prospect likely is, with the reasons: first those holding its
        email, phone (E.164) or VAT id, then the matcher's (store.views.duplicates); none a person
        said is someone else."""
        from store.matching.pairs import RecordRef
        from store.views.duplicates import LikelyCustomer

        source, me = self.session.source(source_id), RecordRef(SOURCES, source_id)
        matched = {likely.customer["id"]: likely for likely in self.matcher.likely_customers(me, source)}
        distinct = self.distinct.distinct_pairs()
        found: list[LikelyCustomer] = []
        for customer_id, reasons in customers_holding(self.session.db.indexes, source).items():
            if frozenset((me, RecordRef(CUSTOMERS, customer_id))) in distinct:
                continue
            scored = matched.pop(customer_id, None)
            if scored is None:
                found.append(LikelyCustomer(self.session.customer(customer_id), None, reasons))
            else:
                found.append(LikelyCustomer(scored.customer, scored.score, tuple(dict.fromkeys(reasons + scored.reasons))))
        return found + list(matched.values())

    def merge_source_into(self, source_id: int, customer_id: int) -> Customer:
        """Instead of activating a prospect that is already a customer: fill the customer's
        empty fields from it, add its notes, and take it off the source list (undoable)."""
        with self.session.db.transaction() as tx:
            source = tx.get(SOURCES, source_id)
            if source is None:
                raise NotFound(f"prospect #{source_id} does not exist (activated or discarded by someone else?)")
            _refuse_if_erasure_asked(tx, source_id)
            doc = self.session.current(tx, customer_id)
            filled = {f: source[f] for f in PERSON_FIELDS if f != "notes" and source.get(f) and not doc.get(f)}
            notes = "\n".join(n for n in dict.fromkeys([doc.get("notes"), source.get("notes")]) if n) or None
            cleaned = self.records.validated_customer(doc["kind"], {**doc, **filled, "notes": notes}, stored=doc)
            tx.put(CUSTOMERS, customer_id, {**doc, **cleaned, "updated_at": journal.now()})
            tx.delete(SOURCES, source_id)
            self.session.write_entry(tx, "merge_source", f"Merged prospect #{source_id} into {doc['number']}")
        return self.session.customer(customer_id)

    def edit_source(self, source_id: int, changes: Mapping[str, Any]) -> Prospect:
        """Correct a prospect's fields under the rules a prospect is kept by (the person's own
        corrections through their self-service link, before staff take them on)."""
        with self.session.db.transaction() as tx:
            source = tx.get(SOURCES, source_id)
            if source is None:
                raise NotFound(f"prospect #{source_id} does not exist (activated or discarded by someone else?)")
            cleaned = self.records.clean_source({**source, **private_fields(changes)}, stored=source)
            tx.put(SOURCES, source_id, {**source, **cleaned})
            self.session.write_entry(tx, "edit_source", f"Edited prospect #{source_id}")
        return self.session.source(source_id)

    def erase_prospect(self, source_id: int) -> None:
        """A prospect's own request to be erased, answered: deleted, and what the journal kept
        of it (undo data, old values, its text in summaries) purged, as obfuscation does for a
        customer. Not undoable: committed as a new store file, so the old values survive nowhere."""
        with self.session.db.reserved(), self.session.db.transaction(rewrite=True) as tx:
            source = tx.get(SOURCES, source_id)
            if source is None:
                raise NotFound(f"prospect #{source_id} does not exist (activated or discarded by someone else?)")
            tx.delete(SOURCES, source_id)
            forgetting.purge_prospect(tx, source_id, source)
            self.session.write_entry(tx, "erase", f"Erased prospect #{source_id} as they asked")

    def discard(self, source_ids: Iterable[int]) -> int:
        ids = list(source_ids)
        with self.session.db.transaction() as tx, tx.reading_ahead(SOURCES, ids):
            for source_id in ids:
                if tx.get(SOURCES, source_id) is None:
                    raise NotFound(f"prospect #{source_id} does not exist (activated or discarded by someone else?)")
                tx.delete(SOURCES, source_id)
            self.session.write_entry(tx, "discard", f"Discarded {len(ids)} prospect(s)")
        return len(ids)


def _carried_consent(source: Mapping[str, Any], customer: Mapping[str, Any]) -> dict[str, Any]:
    """A confirmed sign-up's "news by email" (the only marketing answer a prospect holds), kept
    by the customer it becomes, stamped when and through what the person gave it, not as the
    activating user's own form; an answer changed on the way is that user's."""
    origin = source.get("origin") or {}
    asked_at = origin.get("email_marketing_at") if origin.get("profile") == SIGN_UP else None
    if not asked_at or source.get("email_marketing") is None or customer.get("email_marketing") != source["email_marketing"]:
        return {}
    return {"email": {"at": asked_at, "source": "sign-up page (address confirmed)"}}


def _refuse_if_erasure_asked(tx: Transaction, source_id: int) -> None:
    """A prospect who asked to be erased is not made (or merged into) a customer: their data
    would live on, and the request would read as answered once the prospect is gone."""
    queue = (tx.get(SETTINGS, QUEUE_ID) or {}).get("erasure_requests", [])
    if any((request["table"], request["id"]) == (SOURCES, source_id) for request in queue):
        raise RuleViolation(f"prospect #{source_id} asked to be erased (self-service); answer the request "
                            "(erasure requests, E) instead")
