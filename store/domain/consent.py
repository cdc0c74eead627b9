"""Marketing consent: a customer's answer per channel set by one verb, journaled with its
source (the one-click unsubscribe, the sign-up form), the time and source kept beside it."""
from __future__ import annotations

from store.base.errors import RuleViolation
from store.domain import journal
from store.domain.session import Session
from store.model import CUSTOMERS, Channel, Customer
from store.rules import consent


class Consent:
    """Customers' answers to marketing by email and by SMS."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def set_marketing(self, customer_id: int, channel: Channel, allowed: bool, *, source: str) -> Customer:
        """Record that the customer agreed to (`allowed`) or opted out of marketing on
        `channel`, said through `source`. The same answer again changes and journals
        nothing (an unsubscribe link followed twice)."""
        channel = consent.channel_of(channel)
        if not isinstance(allowed, bool):
            raise RuleViolation(f"a marketing answer is yes or no (True or False), not {allowed!r}")
        source = consent.checked_source(source)
        field = consent.FIELDS[channel]
        with self.session.db.transaction() as tx:
            doc = self.session.current(tx, customer_id)
            if doc.get(field) is allowed:
                return self.session.customer(customer_id)
            stamp = journal.now()
            changed = {**doc, field: allowed}
            changed[consent.RECORD] = consent.stamped(doc, changed, at=stamp, source=source)
            tx.put(CUSTOMERS, customer_id, {**changed, "updated_at": stamp})
            self.session.write_entry(tx, "consent", consent.change_summary(doc["number"], channel, allowed, source))
        return self.session.customer(customer_id)
