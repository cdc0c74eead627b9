"""A customer's or prospect's own say over their data, through a signed link mailed to their
address (no password is kept): who holds an address, what the store keeps of them as data
they can take away, and their requests to be erased, queued for staff.

Staff answer a request with the existing obfuscation (a customer: refused while orders,
offers or tickets are open) or by deleting the prospect; the queue tells a request done
by what became of its record, so no verb of staff has to remember it. The queue is kept
as the settings table's third document: ids, a number and times only, never personal
data, so obfuscating a customer (which purges their texts everywhere) leaves it whole.
"""
from __future__ import annotations

from typing import Any

from store.base.errors import NotFound, RuleViolation
from store.domain import journal
from store.domain.session import Session
from store.model import CHILD_TABLES, CUSTOMERS, PERSON_FIELDS, SETTINGS, SOURCES

QUEUE_ID = 3  # the settings table's third document (the first: settings; the second: the link secret)
SELF_SERVICE = "customer (self-service)"  # the journal's user for what a person does through their link
TABLES = (CUSTOMERS, SOURCES)


class SelfService:
    """What a person's own link lets them do (see the module's docstring)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def account_holder(self, email: str) -> tuple[str, int] | None:
        """The customer (first) or prospect holding `email`, as (table, id); None if nobody."""
        for table in TABLES:
            found = sorted(self.session.db.indexes.find(table, "email", email))
            if found:
                return table, found[0]
        return None

    def own_data(self, table: str, doc_id: int) -> dict[str, Any]:
        """What the store keeps of one customer or prospect, as they may take it away: the
        record, and for a customer their departments, contacts, orders and conversations."""
        record = self._record(table, doc_id)
        data: dict[str, Any] = {"kind": "customer" if table == CUSTOMERS else "prospect", "record": record}
        if table == CUSTOMERS:
            data |= {kind: self.session.children(doc_id, kind) for kind in CHILD_TABLES}
        return data

    def request_erasure(self, table: str, doc_id: int) -> dict[str, Any]:
        """Queue the person's request to be erased for staff; the same request again is not
        queued twice (the open one is returned)."""
        record = self._record(table, doc_id)
        with self.session.db.transaction() as tx:
            queue = list((tx.get(SETTINGS, QUEUE_ID) or {}).get("erasure_requests", []))
            open_one = next((r for r in queue if (r["table"], r["id"]) == (table, doc_id)
                             and not self._done(r)), None)
            if open_one is not None:
                return dict(open_one)
            label = record.get("number") or f"prospect #{doc_id}"
            request = {"table": table, "id": doc_id, "label": label, "at": journal.now()}
            tx.put(SETTINGS, QUEUE_ID, {"erasure_requests": [*queue, request]})
            journal.write_entry(tx, "erasure_request", f"{_capital(label)} asked to be erased (self-service); "
                                "staff obfuscate a customer or delete a prospect", SELF_SERVICE)
        return request

    def erasure_requests(self, *, open_only: bool = False) -> list[dict[str, Any]]:
        """The requests, oldest first, each with `done`: the customer is obfuscated, or the
        prospect is no longer in the store (deleted, discarded, merged or activated)."""
        queue = (self.session.db.tables[SETTINGS].get(QUEUE_ID) or {}).get("erasure_requests", [])
        listed = [{**r, "done": self._done(r)} for r in queue]
        return [r for r in listed if not (open_only and r["done"])]

    def _done(self, request: dict[str, Any]) -> bool:
        doc = self.session.db.tables[request["table"]].get(request["id"])
        return doc is None or bool(doc.get("obfuscated_at"))

    def _record(self, table: str, doc_id: int) -> dict[str, Any]:
        if table not in TABLES:
            raise RuleViolation(f"'{table}' is neither customers nor prospects")
        doc = self.session.db.tables[table].get(doc_id)
        if doc is None or doc.get("obfuscated_at"):
            raise NotFound(f"{'customer' if table == CUSTOMERS else 'prospect'} #{doc_id} is no longer in the store")
        return {k: v for k, v in doc.items() if k in PERSON_FIELDS or k in ("number", "kind", "tags", "created_at",
                                                                            "email_marketing", "sms_marketing",
                                                                            "marketing_consent", "origin")}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
