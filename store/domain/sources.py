"""The source list: prospects added, activated into customers, merged into one, discarded."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from store.domain import journal
from store.domain.core import private_fields
from store.domain.records import Records
from store.errors import NotFound
from store.model import CUSTOMERS, PERSON_FIELDS, SOURCES, Customer, Kind, Prospect
from store.rules.validation import identity_keys


class Sources(Records):
    def add_source(self, data: Mapping[str, Any]) -> Prospect:
        """Add one prospect; `data` may carry `origin` (file/sheet/row/profile) and `raw`."""
        with self._db.transaction() as tx:
            doc_id = tx.insert(SOURCES, self._source_doc(data))
            self._journal(tx, "add_source", f"Added prospect #{doc_id}")
        return self.source(doc_id)

    def activate(self, source_id: int, kind: Kind, edits: Mapping[str, Any] | None = None) -> Customer:
        """Turn a prospect into a customer, with the form's edits applied on the way."""
        with self._db.transaction() as tx:
            source = tx.get(SOURCES, source_id)
            if source is None:
                raise NotFound(f"prospect #{source_id} does not exist (activated or discarded by someone else?)")
            origin = dict((source.get("origin") or {}).items())
            data = {**source, **private_fields(edits or {}), "origin": origin}
            customer_id, doc = self._new_customer(tx, kind, data)
            tx.delete(SOURCES, source_id)
            self._journal(tx, "activate", f"Activated prospect #{source_id} as {doc['number']}", (customer_id,))
        return self.customer(customer_id)

    def customers_like_source(self, source_id: int) -> list[Customer]:
        """Customers that already hold this prospect's email, phone (E.164) or VAT id."""
        source = self.source(source_id)
        found: dict[int, None] = {}
        for field, value in identity_keys(source):
            for other in self._db.indexes.find(CUSTOMERS, field, value):
                found.setdefault(other, None)
        return [self.customer(i) for i in found]

    def merge_source_into(self, source_id: int, customer_id: int) -> Customer:
        """Instead of activating a prospect that is already a customer: fill the customer's
        empty fields from it, add its notes, and take it off the source list (undoable)."""
        with self._db.transaction() as tx:
            source = tx.get(SOURCES, source_id)
            if source is None:
                raise NotFound(f"prospect #{source_id} does not exist (activated or discarded by someone else?)")
            doc = self._current(tx, customer_id)
            filled = {f: source[f] for f in PERSON_FIELDS if f != "notes" and source.get(f) and not doc.get(f)}
            notes = "\n".join(n for n in dict.fromkeys([doc.get("notes"), source.get("notes")]) if n) or None
            cleaned = self._validated_customer(doc["kind"], {**doc, **filled, "notes": notes})
            tx.put(CUSTOMERS, customer_id, {**doc, **cleaned, "updated_at": journal.now()})
            tx.delete(SOURCES, source_id)
            self._journal(tx, "merge_source", f"Merged prospect #{source_id} into {doc['number']}")
        return self.customer(customer_id)

    def discard(self, source_ids: Iterable[int]) -> int:
        ids = list(source_ids)
        with self._db.transaction() as tx:
            for source_id in ids:
                if tx.get(SOURCES, source_id) is None:
                    raise NotFound(f"prospect #{source_id} does not exist (activated or discarded by someone else?)")
                tx.delete(SOURCES, source_id)
            self._journal(tx, "discard", f"Discarded {len(ids)} prospect(s)")
        return len(ids)
