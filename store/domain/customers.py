"""Customers: add, edit, tag, (de)activate; the settings their rules read."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from store.base.errors import RuleViolation
from store.domain import journal
from store.domain.records import Records
from store.domain.session import SETTINGS_ID, Session, list_numbers, private_fields
from store.engine import Transaction
from store.model import CORPORATE, CUSTOMERS, PRIVATE, SETTINGS, Customer, Kind
from store.rules import consent
from store.rules import settings as settings_rules
from store.rules.activity import Switch, switch_of


class Customers:
    """Customers added, edited, tagged, (de)activated; the settings their rules read."""

    def __init__(self, session: Session, records: Records) -> None:
        self.session, self.records = session, records

    def update_settings(self, /, **changes: object) -> dict[str, Any]:
        changes = settings_rules.check_settings(changes)
        with self.session.db.transaction() as tx:
            current = tx.get(SETTINGS, SETTINGS_ID) or {}
            tx.put(SETTINGS, SETTINGS_ID, {**current, **changes})
            self.session.write_entry(tx, "settings", "Changed settings: " + ", ".join(f"{k}={v}" for k, v in changes.items()))
        return self.session.settings

    def add_customer(self, kind: Kind, data: Mapping[str, Any]) -> Customer:
        with self.session.db.transaction() as tx:
            doc_id, doc = self.records.new_customer(tx, kind, data)
            self.session.write_entry(tx, "add", f"Added {kind} customer {doc['number']}")
        return self.session.customer(doc_id)

    def edit_customer(self, customer_id: int, changes: Mapping[str, Any], *, expected_rev: int | None = None) -> Customer:
        """Change fields (and `kind`); `expected_rev` refuses edits of a stale copy."""
        with self.session.db.transaction() as tx:
            doc = self.session.current(tx, customer_id, expected_rev)
            changes = private_fields(changes)
            kind = changes.get("kind", doc["kind"])
            if kind == PRIVATE and doc["kind"] == CORPORATE and self.records.has_structure(customer_id):
                raise RuleViolation(f"customer {doc['number']} has departments or contacts; a private customer cannot keep them")
            cleaned = self.records.validated_customer(kind, {**doc, **changes}, stored=doc)
            number = self.records.take_number(tx, changes.get("number", doc["number"]), customer_id)
            stamp = journal.now()
            answers = consent.stamped(doc, cleaned, at=stamp, source=self.records.form_source())
            tx.put(CUSTOMERS, customer_id, {**doc, **cleaned, consent.RECORD: answers, "kind": kind, "number": number,
                                            "updated_at": stamp})
            self.session.write_entry(tx, "edit", f"Edited customer {number}")
        return self.session.customer(customer_id)

    def set_tags(self, customer_ids: Iterable[int], add: Iterable[str] = (), remove: Iterable[str] = ()) -> int:
        """Add and remove tags on many customers; returns how many changed. Read and changed
        field by field (`Transaction.fields`, `patch`): on a server, none held."""
        add_tags, remove_tags, ids = list(add), set(remove), list(customer_ids)
        with self.session.db.transaction() as tx:
            found = self._found(tx, ids, {"tags": pl.List(pl.String())})
            old = [tags or [] for tags in found["tags"].to_list()]
            new = [[t for t in tags if t not in remove_tags] for tags in old]
            new = [kept + [t for t in add_tags if t not in kept] for kept in new]
            changing = found.select("id", "rev", pl.Series("tags", new, dtype=pl.List(pl.String())),
                                    updated_at=pl.lit(journal.now())).filter(pl.Series([a != b for a, b in zip(old, new, strict=True)]))
            if changing.height:
                tx.patch(CUSTOMERS, changing)
                added, removed = ",".join(add_tags) or "-", ",".join(sorted(remove_tags)) or "-"
                self.session.write_entry(tx, "tag", f"Tagged {changing.height} customer(s): +{added} -{removed}")
        return changing.height

    def _found(self, tx: Transaction, ids: list[int], fields: Mapping[str, pl.DataType]) -> pl.DataFrame:
        """`Transaction.fields` of these customers; NotFound naming the first that is gone."""
        found = tx.fields(CUSTOMERS, ids, fields)
        if found.height < len(set(ids)):
            there = set(found["id"].to_list())
            self.session.current(tx, next(i for i in ids if i not in there))  # (says which is gone)
        return found

    def switch_active(self, customer_ids: Iterable[int]) -> tuple[Switch, int]:
        """The one key for both ways: deactivate the active ones among these customers;
        if none is active, reactivate them all. Returns what was done and to how many."""
        return self._set_active(customer_ids, None)

    def deactivate(self, customer_ids: Iterable[int]) -> int:
        return self._set_active(customer_ids, False)[1]

    def reactivate(self, customer_ids: Iterable[int]) -> int:
        return self._set_active(customer_ids, True)[1]

    def _set_active(self, customer_ids: Iterable[int], wanted: bool | None) -> tuple[Switch, int]:
        """Set customers (in)active; `wanted` None: deactivate if any is active, else reactivate.
        Read and changed field by field (`Transaction.fields`, `patch`): on a server, 90,000
        customers without holding one."""
        ids = list(customer_ids)
        with self.session.db.transaction() as tx:
            found = self._found(tx, ids, {"active": pl.Boolean(), "number": pl.String()})
            active = switch_of(found["active"]) == "reactivate" if wanted is None else wanted
            verb: Switch = "reactivate" if active else "deactivate"
            changing = found.filter(pl.col("active").eq_missing(active).not_())
            if not changing.height:
                raise RuleViolation(f"nothing to {verb}: the customer(s) are already {'active' if active else 'inactive'}")
            stamp = journal.now()
            tx.patch(CUSTOMERS, changing.select("id", "rev", active=pl.lit(active), updated_at=pl.lit(stamp),
                                                deactivated_at=pl.lit(None if active else stamp, dtype=pl.String())))
            self.session.write_entry(tx, verb, f"{verb.capitalize()}d {list_numbers(changing['number'].to_list())}")
        return verb, changing.height
