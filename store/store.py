"""`Store`: the product's verbs over one store file, each atomic and journaled."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

import polars as pl

from . import journal, messages, obfuscation
from . import settings as settings_rules
from .database import Database, Transaction
from .errors import (
    ConcurrentChange, FieldIssue, NotFound, NothingToUndo, RuleViolation, ValidationFailed,
)
from .indexes import KEY_FIELDS
from .model import (
    BLOCKS_OBFUSCATION, CAMPAIGNS, CHILD_TABLES, CONTACT_FIELDS, CONTACTS, CONVERSATIONS, CORPORATE,
    CUSTOMER_FIELDS, CUSTOMER_NUMBER_PREFIX, CUSTOMERS, DEPARTMENT_FIELDS,
    DEPARTMENTS, EXPORTS, JOURNAL, KINDS, NEEDS_ACTIVE_CUSTOMER, PERSON_FIELDS, PRIVATE,
    RELATED_KINDS, SETTINGS, SOURCES, TEMPLATES, format_number, is_open,
)
from .validation import clean_person, clean_text, errors_of, identity_keys, number_error, record_issues, row_region
from .validation_frame import clean_frame, frame_from_records

SETTINGS_ID = 1
PROGRESS_EVERY = 2000
BATCH_TARGETS = (SOURCES, CORPORATE, PRIVATE)


@dataclass
class Batch:
    """Many creates/updates committed in one atomic write (the import's commit).

    `target` is "sources", "corporate" or "private". A create is a record of
    field values; it may carry `origin` and `raw` (source entries), `active`,
    and `children`: {table: [docs]} created with it (departments, contacts,
    orders …). An update is (document id, changed fields).
    """

    target: str
    creates: list[dict] = field(default_factory=list)
    updates: list[tuple[int, dict]] = field(default_factory=list)
    summary: str = ""
    action: str = "import"
    # The region phones without a country of their own are read in (`import
    # --country`); None: the store's default country.
    country: str | None = None
    # The field that makes a record the same as a stored one (the import's key):
    # a create whose value is held by the time of the commit refuses the batch.
    unique_key: str | None = None
    # Set only for creates that `validation_frame.clean_frame` cleaned without
    # errors, to the `rule_settings` it ran under; spares a second check.
    checked_with: tuple | None = None


def _public(doc_id: int, doc: dict) -> dict:
    return {**doc, "id": doc_id}


def _private_fields(data: Mapping) -> dict:
    return {k: v for k, v in data.items() if k not in ("id", "rev", "schema_version")}


class Store:
    """One store file opened for reading and writing.

    Reads are served from memory; `refresh()` catches up with other processes.
    Every write verb takes the store lock, works on the freshest data and is
    committed whole or not at all.
    """

    def __init__(self, path: str | Path, *, user: str | None = None, lock_timeout: float = 15.0) -> None:
        self.path = Path(path)
        self.db = Database(self.path, lock_timeout=lock_timeout)
        self.user = user or journal.current_user()
        self._settings_cache: tuple[dict | None, dict] = (None, settings_rules.defaults())

    def close(self) -> None:
        self.db.close()

    def files(self) -> list[Path]:
        """The store's own files: no export, error log or outbox may write over them."""
        main = self.db.path
        return [main, *(main.with_name(main.name + suffix) for suffix in (".log", ".lock", ".columns"))]

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def refresh(self, wait: float | None = None) -> bool:
        """Catch up with what other processes committed; True when anything changed."""
        return self.db.refresh(wait)

    def take_changes(self) -> dict[str, set[int]] | None:
        """Ids of the documents changed since the last call, by table (None: everything)."""
        return self.db.take_changes()

    def changed_elsewhere(self) -> bool:
        """A cheap, lock-free look: did another process commit since we last read?"""
        return self.db.changed_on_disk()

    def prepare_lookups(self) -> None:
        """Read the customers' and prospects' documents and build the indexes now
        (else done when first needed): a program that will soon show or change
        customers calls this while the user looks at the screen."""
        self.db.prepare((CUSTOMERS, SOURCES), (CUSTOMERS, SOURCES), CHILD_TABLES)

    # -- reads ------------------------------------------------------------
    @property
    def settings(self) -> dict:
        return {**self._settings_now()}

    def _settings_now(self) -> dict:
        # Rebuilt only when the settings document changes (it is replaced, never mutated).
        doc = self.db.tables[SETTINGS].get(SETTINGS_ID)
        if self._settings_cache[0] is not doc:
            self._settings_cache = (doc, {**settings_rules.defaults(), **(doc or {})})
        return self._settings_cache[1]

    def customer(self, customer_id: int) -> dict:
        doc = self.db.tables[CUSTOMERS].get(customer_id)
        if doc is None:
            raise NotFound(f"customer #{customer_id} does not exist (deleted or merged?)")
        return _public(customer_id, doc)

    def has_customer(self, customer_id: int) -> bool:
        return customer_id in self.db.tables[CUSTOMERS]

    def has_source(self, source_id: int) -> bool:
        return source_id in self.db.tables[SOURCES]

    def customers(self) -> Iterator[dict]:
        for doc_id, doc in self.db.tables[CUSTOMERS].items():
            yield _public(doc_id, doc)

    def customer_count(self) -> int:
        return len(self.db.tables[CUSTOMERS])

    def source(self, source_id: int) -> dict:
        doc = self.db.tables[SOURCES].get(source_id)
        if doc is None:
            raise NotFound(f"prospect #{source_id} does not exist (activated or discarded?)")
        return _public(source_id, doc)

    def sources(self) -> Iterator[dict]:
        for doc_id, doc in self.db.tables[SOURCES].items():
            yield _public(doc_id, doc)

    def children(self, customer_id: int, table: str) -> list[dict]:
        rows = self.db.tables[table]
        return [_public(i, rows[i]) for i in sorted(self.db.indexes.child_ids(customer_id, table))]

    def child(self, table: str, doc_id: int) -> dict:
        doc = self.db.tables[table].get(doc_id)
        if doc is None:
            raise NotFound(f"{table[:-1]} #{doc_id} does not exist")
        return _public(doc_id, doc)

    def find(self, table: str, key: str, value: object) -> list[dict]:
        """Customers or prospects whose identifying field `key` equals `value`."""
        if key not in KEY_FIELDS:
            raise RuleViolation(f"'{key}' is not an identifying field; use one of {', '.join(KEY_FIELDS)}")
        rows = self.db.tables[table]
        return [_public(i, rows[i]) for i in sorted(self.db.indexes.find(table, key, value))]

    def lookup(self, table: str, key: str, values: list[str | None]) -> list[list[int]]:
        """For each value, the ids of the customers or prospects whose `key` equals it."""
        index = self.db.indexes.key_map(table, key)
        if not len(index):
            return [[] for _ in values]
        return [sorted(index.ids(v)) if v is not None else [] for v in values]

    def first_holders(self, table: str, key: str, values: list[str | None]) -> list[int | None]:
        """For each (normalised) value, the lowest id of the customers or prospects holding it."""
        index = self.db.indexes.key_map(table, key)
        if not len(index):
            return [None] * len(values)
        first = index.first
        return [None if v is None else first(v) for v in values]

    def record(self, table: str, doc_id: int) -> dict:
        """A customer or prospect by id."""
        return self.customer(doc_id) if table == CUSTOMERS else self.source(doc_id)

    def journal(self, limit: int | None = None) -> list[dict]:
        rows = self.db.tables[JOURNAL]
        ids = sorted(rows, reverse=True)[:limit]
        return [_public(i, rows[i]) for i in ids]

    def next_undo(self) -> dict | None:
        """The entry `undo()` would undo now, or None."""
        found = journal.latest_undoable(self.db.tables[JOURNAL])
        return _public(*found) if found else None

    def stats(self) -> dict:
        customers = self.db.tables[CUSTOMERS].values()
        counts = {"customers": 0, "active": 0, "inactive": 0, CORPORATE: 0, PRIVATE: 0}
        for doc in customers:
            counts["customers"] += 1
            counts["active" if doc.get("active") else "inactive"] += 1
            counts[doc["kind"]] += 1
        counts["sources"] = len(self.db.tables[SOURCES])
        return counts

    def check_customer(self, kind: str, data: Mapping, country: str | None = None) -> tuple[dict, list[FieldIssue]]:
        """A customer's cleaned fields and every issue (errors and warnings) saving it would meet;
        phones without a country of their own are read in `country`, else the default country."""
        return self._clean_customer(kind, data, country)

    # -- settings ---------------------------------------------------------
    def update_settings(self, **changes: object) -> dict:
        changes = settings_rules.check_settings(changes)
        with self.db.transaction() as tx:
            current = tx.get(SETTINGS, SETTINGS_ID) or {}
            tx.put(SETTINGS, SETTINGS_ID, {**current, **changes})
            self._journal(tx, "settings", "Changed settings: " + ", ".join(f"{k}={v}" for k, v in changes.items()))
        return self.settings

    # -- customers --------------------------------------------------------
    def _clean_customer(self, kind: str, data: Mapping, country: str | None = None) -> tuple[dict, list[FieldIssue]]:
        if kind not in KINDS:
            raise RuleViolation(f"kind must be corporate or private, not '{kind}'")
        settings = self._settings_now()
        cleaned, issues = clean_person(data, fields=CUSTOMER_FIELDS, default_country=country or settings["default_country"])
        issues += record_issues(cleaned, kind=kind, allow_private=settings["allow_private_customers"])
        return cleaned, issues

    def _validated_customer(self, kind: str, data: Mapping, country: str | None = None) -> dict:
        cleaned, issues = self._clean_customer(kind, data, country)
        if errors_of(issues):
            raise ValidationFailed(issues)
        return cleaned

    def _take_number(self, tx: Transaction, wanted: object, customer_id: int | None) -> str:
        number = clean_text(wanted) if wanted is not None else None
        if number:
            number = number.upper()
            refused = number_error(number)
            if refused:
                raise RuleViolation(refused)
            holders = self.db.indexes.find(CUSTOMERS, "number", number) - {customer_id}
            if holders:
                raise RuleViolation(f"customer number {number} is already used by another customer")
            return number
        taken = self.db.indexes.key_map(CUSTOMERS, "number")
        while True:
            n = tx.next_counter(CUSTOMERS)
            # normalise_key of "C-000123" is "C000123": built directly, this runs once per new customer.
            if f"{CUSTOMER_NUMBER_PREFIX}{n:06d}" not in taken:
                return format_number(CUSTOMER_NUMBER_PREFIX, n)

    def _new_customer(self, tx: Transaction, kind: str, data: Mapping, *, active: bool = True) -> tuple[int, dict]:
        return self._insert_customer(tx, kind, self._validated_customer(kind, data), data, active=active)

    def _insert_customer(self, tx: Transaction, kind: str, cleaned: dict, data: Mapping, *, active: bool,
                         stamp: str | None = None) -> tuple[int, dict]:
        """Insert a customer whose fields were already cleaned and validated."""
        stamp = stamp or journal.now()
        created = data.get("created_at") or stamp
        doc = {
            **cleaned,
            "obfuscate_enabled": cleaned.get("obfuscate_enabled") is not False,
            "kind": kind,
            "number": self._take_number(tx, data.get("number"), None),
            "active": active,
            "created_at": created,
            "updated_at": stamp,
            "deactivated_at": None if active else (data.get("deactivated_at") or stamp),
            "obfuscated_at": None,
            "origin": data.get("origin"),
        }
        doc_id = tx.insert(CUSTOMERS, doc)
        return doc_id, doc

    def add_customer(self, kind: str, data: Mapping) -> dict:
        with self.db.transaction() as tx:
            doc_id, doc = self._new_customer(tx, kind, data)
            self._journal(tx, "add", f"Added {kind} customer {doc['number']}")
        return self.customer(doc_id)

    def _current(self, tx: Transaction, customer_id: int, expected_rev: int | None = None) -> dict:
        doc = tx.get(CUSTOMERS, customer_id)
        if doc is None:
            raise NotFound(f"customer #{customer_id} does not exist (deleted or merged by someone else?)")
        if expected_rev is not None and doc["rev"] != expected_rev:
            raise ConcurrentChange(f"customer {doc['number']} was changed by someone else since you opened it; reload and try again")
        return doc

    def edit_customer(self, customer_id: int, changes: Mapping, *, expected_rev: int | None = None) -> dict:
        """Change fields (and `kind`); `expected_rev` refuses edits of a stale copy."""
        with self.db.transaction() as tx:
            doc = self._current(tx, customer_id, expected_rev)
            changes = _private_fields(changes)
            kind = changes.get("kind", doc["kind"])
            if kind == PRIVATE and doc["kind"] == CORPORATE and self._has_structure(customer_id):
                raise RuleViolation(f"customer {doc['number']} has departments or contacts; a private customer cannot keep them")
            cleaned = self._validated_customer(kind, {**doc, **changes})
            number = self._take_number(tx, changes.get("number", doc["number"]), customer_id)
            tx.put(CUSTOMERS, customer_id, {**doc, **cleaned, "kind": kind, "number": number, "updated_at": journal.now()})
            self._journal(tx, "edit", f"Edited customer {number}")
        return self.customer(customer_id)

    def _has_structure(self, customer_id: int) -> bool:
        return bool(self.db.indexes.child_ids(customer_id, DEPARTMENTS) or self.db.indexes.child_ids(customer_id, CONTACTS))

    def set_tags(self, customer_ids: Iterable[int], add: Iterable[str] = (), remove: Iterable[str] = ()) -> int:
        """Add and remove tags on many customers; returns how many changed."""
        add_tags, remove_tags = list(add), set(remove)
        changed = 0
        with self.db.transaction() as tx:
            for customer_id in customer_ids:
                doc = self._current(tx, customer_id)
                tags = [t for t in doc.get("tags") or [] if t not in remove_tags]
                tags += [t for t in add_tags if t not in tags]
                if tags != (doc.get("tags") or []):
                    tx.put(CUSTOMERS, customer_id, {**doc, "tags": tags, "updated_at": journal.now()})
                    changed += 1
            if changed:
                self._journal(tx, "tag", f"Tagged {changed} customer(s): +{','.join(add_tags) or '-'} -{','.join(sorted(remove_tags)) or '-'}")
        return changed

    # -- activation -------------------------------------------------------
    def deactivate(self, customer_ids: Iterable[int]) -> int:
        return self._set_active(customer_ids, False)

    def reactivate(self, customer_ids: Iterable[int]) -> int:
        return self._set_active(customer_ids, True)

    def _set_active(self, customer_ids: Iterable[int], active: bool) -> int:
        verb = "reactivate" if active else "deactivate"
        numbers = []
        with self.db.transaction() as tx:
            for customer_id in customer_ids:
                doc = self._current(tx, customer_id)
                if doc["active"] == active:
                    continue
                stamp = journal.now()
                tx.put(CUSTOMERS, customer_id, {**doc, "active": active, "updated_at": stamp,
                                                "deactivated_at": None if active else stamp})
                numbers.append(doc["number"])
            if not numbers:
                raise RuleViolation(f"nothing to {verb}: the customer(s) are already {'active' if active else 'inactive'}")
            self._journal(tx, verb, f"{verb.capitalize()}d {_list_numbers(numbers)}")
        return len(numbers)

    # -- source list ------------------------------------------------------
    def check_source(self, data: Mapping, country: str | None = None) -> tuple[dict, list[FieldIssue]]:
        """A prospect's cleaned fields and every issue saving it would meet."""
        cleaned, issues = clean_person(data, fields=PERSON_FIELDS, default_country=country or self._settings_now()["default_country"])
        return cleaned, issues + record_issues(cleaned, kind=None, allow_private=True)

    def _clean_source(self, data: Mapping, country: str | None = None) -> dict:
        cleaned, issues = self.check_source(data, country)
        if errors_of(issues):
            raise ValidationFailed(issues)
        return cleaned

    def _source_doc(self, data: Mapping, cleaned: dict | None = None, stamp: str | None = None) -> dict:
        return {**(cleaned if cleaned is not None else self._clean_source(data)),
                "origin": data.get("origin") or {"file": None}, "raw": data.get("raw"),
                "imported_at": stamp or journal.now()}

    def add_source(self, data: Mapping) -> dict:
        """Add one prospect; `data` may carry `origin` (file/sheet/row/profile) and `raw`."""
        with self.db.transaction() as tx:
            doc_id = tx.insert(SOURCES, self._source_doc(data))
            self._journal(tx, "add_source", f"Added prospect #{doc_id}")
        return self.source(doc_id)

    def activate(self, source_id: int, kind: str, edits: Mapping | None = None) -> dict:
        """Turn a prospect into a customer, with the form's edits applied on the way."""
        with self.db.transaction() as tx:
            source = tx.get(SOURCES, source_id)
            if source is None:
                raise NotFound(f"prospect #{source_id} does not exist (activated or discarded by someone else?)")
            origin = {k: v for k, v in (source.get("origin") or {}).items()}
            data = {**source, **_private_fields(edits or {}), "origin": origin}
            customer_id, doc = self._new_customer(tx, kind, data)
            tx.delete(SOURCES, source_id)
            self._journal(tx, "activate", f"Activated prospect #{source_id} as {doc['number']}", (customer_id,))
        return self.customer(customer_id)

    def customers_like_source(self, source_id: int) -> list[dict]:
        """Customers that already hold this prospect's email, phone (E.164) or VAT id."""
        source = self.source(source_id)
        found: dict[int, None] = {}
        for field, value in identity_keys(source):
            for other in self.find(CUSTOMERS, field, value):
                found.setdefault(other["id"], None)
        return [self.customer(i) for i in found]

    def merge_source_into(self, source_id: int, customer_id: int) -> dict:
        """Instead of activating a prospect that is already a customer: fill the customer's
        empty fields from it, add its notes, and take it off the source list (undoable)."""
        with self.db.transaction() as tx:
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
        with self.db.transaction() as tx:
            for source_id in ids:
                if tx.get(SOURCES, source_id) is None:
                    raise NotFound(f"prospect #{source_id} does not exist (activated or discarded by someone else?)")
                tx.delete(SOURCES, source_id)
            self._journal(tx, "discard", f"Discarded {len(ids)} prospect(s)")
        return len(ids)

    # -- departments and contacts ------------------------------------------
    def _corporate(self, tx: Transaction, customer_id: int, what: str) -> dict:
        doc = self._current(tx, customer_id)
        if doc["kind"] != CORPORATE:
            raise RuleViolation(f"customer {doc['number']} is private; only corporate customers have {what}")
        return doc

    def _clean_child(self, customer_id: int, data: Mapping, fields: tuple[str, ...]) -> dict:
        # A department's or contact's phones are read in its own country, else its company's.
        owner = self.db.tables[CUSTOMERS].get(customer_id) or {}
        fallback = row_region(owner.get("country"), self._settings_now()["default_country"])
        cleaned, issues = clean_person(data, fields=fields, default_country=fallback)
        if errors_of(issues):
            raise ValidationFailed(issues)
        return cleaned

    def add_department(self, customer_id: int, data: Mapping, *, headquarters: bool = False) -> dict:
        with self.db.transaction() as tx:
            owner = self._corporate(tx, customer_id, "departments")
            doc = self._department_doc(customer_id, data, headquarters)
            if headquarters and self.headquarters(customer_id) is not None:
                raise RuleViolation(f"customer {owner['number']} already has a headquarters")
            doc_id = tx.insert(DEPARTMENTS, doc)
            self._journal(tx, "add_department", f"Added department '{doc['name']}' to {owner['number']}")
        return self.child(DEPARTMENTS, doc_id)

    def _department_doc(self, customer_id: int, data: Mapping, headquarters: bool) -> dict:
        doc = self._clean_child(customer_id, data, DEPARTMENT_FIELDS)
        if not doc["name"]:
            raise ValidationFailed([FieldIssue("name", None, "a department needs a name", "error")])
        return {**doc, "customer_id": customer_id, "headquarters": headquarters}

    def set_headquarters(self, department_id: int) -> dict:
        """Make this department its customer's headquarters (the one there was is one no more)."""
        with self.db.transaction() as tx:
            department = self._existing_child(tx, DEPARTMENTS, department_id)
            owner = self._current(tx, department["customer_id"])
            for other_id in self.db.indexes.child_ids(department["customer_id"], DEPARTMENTS) - {department_id}:
                other = tx.get(DEPARTMENTS, other_id)
                if other.get("headquarters"):
                    tx.put(DEPARTMENTS, other_id, {**other, "headquarters": False})
            tx.put(DEPARTMENTS, department_id, {**department, "headquarters": True})
            self._journal(tx, "headquarters", f"'{department['name']}' is now the headquarters of {owner['number']}")
        return self.child(DEPARTMENTS, department_id)

    def all_headquarters(self) -> list[dict]:
        """Every customer's headquarters department."""
        return [_public(i, d) for i, d in self.db.tables[DEPARTMENTS].items() if d.get("headquarters")]

    def headquarters(self, customer_id: int) -> dict | None:
        """The customer's headquarters department, if it has one."""
        return next((d for d in self.children(customer_id, DEPARTMENTS) if d.get("headquarters")), None)

    def edit_department(self, department_id: int, changes: Mapping) -> dict:
        with self.db.transaction() as tx:
            current = self._existing_child(tx, DEPARTMENTS, department_id)
            doc = self._department_doc(current["customer_id"], {**current, **_private_fields(changes)}, current["headquarters"])
            tx.put(DEPARTMENTS, department_id, {**current, **doc})
            self._journal(tx, "edit_department", f"Edited department '{doc['name']}'")
        return self.child(DEPARTMENTS, department_id)

    def add_contact(self, customer_id: int, data: Mapping, *, department_id: int | None = None) -> dict:
        with self.db.transaction() as tx:
            owner = self._corporate(tx, customer_id, "contacts")
            doc = self._contact_doc(customer_id, data, department_id)
            doc_id = tx.insert(CONTACTS, doc)
            self._journal(tx, "add_contact", f"Added a contact to {owner['number']}")
        return self.child(CONTACTS, doc_id)

    def _contact_doc(self, customer_id: int, data: Mapping, department_id: int | None) -> dict:
        doc = self._clean_child(customer_id, data, CONTACT_FIELDS)
        if not (doc["first_name"] or doc["last_name"]):
            raise ValidationFailed([FieldIssue("name", None, "a contact needs a name", "error")])
        if department_id is not None:
            department = self.db.tables[DEPARTMENTS].get(department_id)
            if department is None or department["customer_id"] != customer_id:
                raise RuleViolation(f"department #{department_id} does not belong to this customer")
        return {**doc, "customer_id": customer_id, "department_id": department_id}

    def edit_contact(self, contact_id: int, changes: Mapping) -> dict:
        with self.db.transaction() as tx:
            current = self._existing_child(tx, CONTACTS, contact_id)
            changes = _private_fields(changes)
            department_id = changes.pop("department_id", current.get("department_id"))
            doc = self._contact_doc(current["customer_id"], {**current, **changes}, department_id)
            tx.put(CONTACTS, contact_id, {**current, **doc})
            self._journal(tx, "edit_contact", f"Edited contact #{contact_id}")
        return self.child(CONTACTS, contact_id)

    def _existing_child(self, tx: Transaction, table: str, doc_id: int) -> dict:
        doc = tx.get(table, doc_id)
        if doc is None:
            raise NotFound(f"{table[:-1]} #{doc_id} does not exist")
        return doc

    # -- related records ----------------------------------------------------
    def add_related(self, kind: str, customer_id: int, data: Mapping) -> dict:
        """Create an order, invoice, offer, contract, ticket, task or return."""
        if kind not in RELATED_KINDS:
            raise RuleViolation(f"'{kind}' is not a related record kind")
        prefix, _open, statuses = RELATED_KINDS[kind]
        with self.db.transaction() as tx:
            owner = self._current(tx, customer_id)
            if kind in NEEDS_ACTIVE_CUSTOMER and not owner["active"]:
                raise RuleViolation(f"customer {owner['number']} is inactive: it cannot get a new {kind[:-1]}; reactivate it first")
            status = data.get("status") or statuses[0]
            if status not in statuses:
                raise RuleViolation(f"{kind[:-1]} status must be one of {', '.join(statuses)}, not '{status}'")
            doc = {
                "customer_id": customer_id,
                "number": format_number(prefix, tx.next_counter(kind)),
                "date": data.get("date") or journal.now()[:10],
                "status": status,
                "title": clean_text(data.get("title")),
                "amount": data.get("amount"),
            }
            doc_id = tx.insert(kind, doc)
            self._journal(tx, "add_" + kind[:-1], f"Created {kind[:-1]} {doc['number']} for {owner['number']}")
        return self.child(kind, doc_id)

    def set_status(self, kind: str, doc_id: int, status: str) -> dict:
        statuses = RELATED_KINDS[kind][2]
        if status not in statuses:
            raise RuleViolation(f"{kind[:-1]} status must be one of {', '.join(statuses)}, not '{status}'")
        with self.db.transaction() as tx:
            doc = self._existing_child(tx, kind, doc_id)
            tx.put(kind, doc_id, {**doc, "status": status})
            self._journal(tx, "status", f"{doc['number']} is now {status}")
        return self.child(kind, doc_id)

    def complete_task(self, task_id: int) -> dict:
        return self.set_status("tasks", task_id, "done")

    def log_conversation(self, customer_id: int, data: Mapping) -> dict:
        """Record an email, call, chat or SMS with the customer."""
        with self.db.transaction() as tx:
            owner = self._current(tx, customer_id)
            doc = {"customer_id": customer_id, "at": data.get("at") or journal.now(),
                   **{k: data.get(k) for k in ("channel", "direction", "subject", "body", "template", "campaign")}}
            doc_id = tx.insert(CONVERSATIONS, doc)
            self._journal(tx, "conversation", f"Logged a {doc['channel'] or 'conversation'} with {owner['number']}")
        return self.child(CONVERSATIONS, doc_id)

    def log_export(self, customer_ids: Iterable[int], fmt: str, target: str) -> int:
        """Note on each exported customer that it went out, where and when."""
        stamp = journal.now()
        count = 0
        with self.db.transaction() as tx:
            for customer_id in customer_ids:
                tx.insert(EXPORTS, {"customer_id": customer_id, "at": stamp, "format": fmt,
                                    "target": target, "user": self.user})
                count += 1
            self._journal(tx, "export", f"Exported {count} customer(s) as {fmt} to {target}")
        return count

    # -- delete, merge, obfuscate ---------------------------------------------
    def delete(self, customer_id: int) -> None:
        """Delete a customer and everything it owns; refused while it has orders."""
        with self.db.transaction() as tx:
            doc = self._current(tx, customer_id)
            orders = self.db.indexes.child_ids(customer_id, "orders")
            if orders:
                raise RuleViolation(f"customer {doc['number']} has {len(orders)} order(s): customers linked to orders cannot be deleted; deactivate it instead")
            for table in CHILD_TABLES:
                for child_id in self.db.indexes.child_ids(customer_id, table):
                    tx.delete(table, child_id)
            tx.delete(CUSTOMERS, customer_id)
            self._journal(tx, "delete", f"Deleted customer {doc['number']}")

    def related_counts(self, customer_id: int) -> dict[str, int]:
        """How many documents of each child kind the customer owns."""
        return {t: len(self.db.indexes.child_ids(customer_id, t)) for t in CHILD_TABLES}

    def merge_into(self, keep_id: int, other_id: int, choices: Mapping[str, str] | None = None) -> dict:
        """Merge customer `other_id` into `keep_id`; `choices` maps a field to "keep" or "other"
        (tags also "both").

        Unchosen fields keep the kept customer's value, or the other's where the
        kept one is empty; tags are united. Every related record moves over.
        """
        if keep_id == other_id:
            raise RuleViolation("a customer cannot be merged with itself")
        choices = dict(choices or {})
        with self.db.transaction() as tx:
            keep, other = self._current(tx, keep_id), self._current(tx, other_id)
            merged = _merged_fields(keep, other, choices)
            if merged["kind"] == PRIVATE and (self._has_structure(keep_id) or self._has_structure(other_id)):
                raise RuleViolation("the merged customer would be private but has departments or contacts; keep the corporate kind")
            cleaned = self._validated_customer(merged["kind"], merged)
            tx.put(CUSTOMERS, keep_id, {**keep, **cleaned, "kind": merged["kind"], "updated_at": journal.now()})
            moved = self._move_children(tx, other_id, keep_id)
            tx.delete(CUSTOMERS, other_id)
            self._journal(tx, "merge", f"Merged {other['number']} into {keep['number']} ({moved} related record(s) moved)")
        return self.customer(keep_id)

    def _move_children(self, tx: Transaction, from_id: int, to_id: int) -> int:
        keeps_hq = self.headquarters(to_id) is not None
        moved = 0
        for table in CHILD_TABLES:
            for child_id in sorted(self.db.indexes.child_ids(from_id, table)):
                doc = {**tx.get(table, child_id), "customer_id": to_id}
                if table == DEPARTMENTS and doc.get("headquarters") and keeps_hq:
                    doc["headquarters"] = False  # one headquarters: the kept customer's
                tx.put(table, child_id, doc)
                moved += 1
        return moved

    def obfuscate(self, customer_id: int) -> dict:
        """Replace personal data with fakes, delete conversations, purge old values.

        Irreversible: the journal's undo data holding the customer is dropped and
        the store files are rewritten so the old values survive nowhere.
        """
        # Committed as a new store file, not a log line: if that write fails, nothing
        # changed (and no old value was left behind while an error was reported).
        with self.db.transaction(rewrite=True) as tx:
            number = self._obfuscate(tx, customer_id)
            self._journal(tx, "obfuscate", f"Obfuscated customer {number}")
        return self.customer(customer_id)

    def _obfuscate(self, tx: Transaction, customer_id: int) -> str:
        doc = self._current(tx, customer_id)
        blocking = [tx.get(kind, i)["number"] for kind in BLOCKS_OBFUSCATION
                    for i in sorted(self.db.indexes.child_ids(customer_id, kind)) if is_open(kind, tx.get(kind, i))]
        if blocking:
            raise RuleViolation(f"customer {doc['number']} has open orders, offers or tickets ({_list_numbers(blocking)}); close them before obfuscating")
        if doc.get("obfuscated_at"):
            raise RuleViolation(f"customer {doc['number']} is already obfuscated")
        tag, stamp = str(customer_id), journal.now()
        tx.put(CUSTOMERS, customer_id, {**obfuscation.fake_customer(doc, tag), "obfuscated_at": stamp, "updated_at": stamp})
        for table, fake in ((DEPARTMENTS, obfuscation.fake_department), (CONTACTS, obfuscation.fake_contact)):
            for child_id in self.db.indexes.child_ids(customer_id, table):
                tx.put(table, child_id, fake(tx.get(table, child_id), f"{tag}-{child_id}"))
        for conversation_id in self.db.indexes.child_ids(customer_id, CONVERSATIONS):
            tx.delete(CONVERSATIONS, conversation_id)
        for campaign_id, campaign in list(self.db.tables[CAMPAIGNS].items()):
            scrubbed = obfuscation.scrub_campaign(campaign, doc["number"])
            if scrubbed is not None:
                tx.put(CAMPAIGNS, campaign_id, scrubbed)
        journal.purge_customer(tx, customer_id)
        return doc["number"]

    def obfuscation_due(self, days: int, *, opted_out: bool = False) -> list[dict]:
        """Customers inactive for `days` days or more, not yet obfuscated, whose obfuscation is
        enabled (or, with `opted_out`, those the policy passes over because it is not)."""
        cutoff = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")
        return [_public(i, d) for i, d in sorted(self.db.tables[CUSTOMERS].items())
                if not d.get("active") and d.get("obfuscate_enabled", True) is not opted_out and not d.get("obfuscated_at")
                and (d.get("deactivated_at") or "") <= cutoff]

    def obfuscate_inactive(self, days: int, *, dry_run: bool = False) -> dict:
        """The policy run: obfuscate every customer due; report who was and who was refused, and why."""
        if days < 0:
            raise RuleViolation("--inactive-days must be 0 or more")
        report: dict = {"obfuscated": [], "refused": [], "opted_out": len(self.obfuscation_due(days, opted_out=True))}
        try:
            with self.db.transaction(rewrite=True) as tx:
                for customer in self.obfuscation_due(days):
                    try:
                        with tx.savepoint():
                            report["obfuscated"].append(self._obfuscate(tx, customer["id"]))
                    except RuleViolation as err:
                        report["refused"].append({"number": customer["number"], "reason": str(err)})
                if dry_run:
                    raise _DryRun()  # the very same checks, then everything rolled back
                if report["obfuscated"]:
                    self._journal(tx, "obfuscate", f"Obfuscation policy ({days} days inactive): {len(report['obfuscated'])} customer(s)")
        except _DryRun:
            return report
        return report

    # -- undo -------------------------------------------------------------------
    def undo(self, entry_id: int | None = None) -> dict:
        """Undo the latest undoable action, or the given journal entry (revert an import)."""
        with self.db.transaction() as tx:
            entries = self.db.tables[JOURNAL]
            if entry_id is None:
                found = journal.latest_undoable(entries)
                if found is None:
                    raise NothingToUndo("nothing to undo")
                entry_id, entry = found
            else:
                entry = entries.get(entry_id)
                if entry is None or not entry.get("undoable") or entry.get("changes") is None:
                    raise NothingToUndo(f"journal entry #{entry_id} cannot be undone")
                if entry.get("undone"):
                    raise NothingToUndo(f"'{entry['summary']}' was already undone")
            changed = journal.conflicts(tx, entry)
            if changed:
                table, doc_id = changed[0]
                raise ConcurrentChange(f"cannot undo '{entry['summary']}': {len(changed)} record(s) changed since, e.g. {table[:-1]} #{doc_id}")
            for table, doc_id, before, _after_rev in reversed(entry["changes"]):
                tx.restore(table, doc_id, before)
            tx.put(JOURNAL, entry_id, {**entry, "undone": True, "changes": None, "undone_at": journal.now()})
            self._journal(tx, "undo", f"Undid '{entry['summary']}'")
        return _public(entry_id, entry)

    # -- batch ------------------------------------------------------------------
    def apply_batch(self, batch: Batch, progress: Callable[[int, int], None] | None = None) -> dict:
        """Commit many creates and updates in one atomic write and one journal entry.

        Every record obeys the same rules as a single add/edit; one bad record
        refuses the whole batch. Returns the journal entry (undo it to revert).
        `progress(done, total)` is called every PROGRESS_EVERY records.
        """
        if batch.target not in BATCH_TARGETS:
            raise RuleViolation(f"import target must be one of {', '.join(BATCH_TARGETS)}, not '{batch.target}'")
        table = SOURCES if batch.target == SOURCES else CUSTOMERS
        cleaned = self._clean_batch(batch)
        stamp = journal.now()
        with self.db.transaction() as tx:
            self._refuse_taken_keys(table, batch)
            position = 0
            try:
                total = len(batch.creates) + len(batch.updates)
                for position, (record, values) in enumerate(zip(batch.creates, cleaned), 1):
                    self._batch_create(tx, batch.target, record, values, stamp)
                    if progress and position % PROGRESS_EVERY == 0:
                        progress(position, total)
                for position, (doc_id, changes) in enumerate(batch.updates, len(batch.creates) + 1):
                    self._batch_update(tx, table, doc_id, changes, batch.country)
                    if progress and position % PROGRESS_EVERY == 0:
                        progress(position, total)
            except (ValidationFailed, RuleViolation, NotFound) as err:
                # Name the record, so the user can find it among thousands.
                err.args = (f"record {position}: {err}",)
                raise
            entry = self._journal(tx, batch.action, batch.summary or f"{batch.action.capitalize()}ed {len(batch.creates)} new and {len(batch.updates)} updated record(s) into {batch.target}")
        return entry

    def _refuse_taken_keys(self, table: str, batch: Batch) -> None:
        """Under the lock: records the plan found new must still be new (two imports of
        one file at once would otherwise both create every record)."""
        key = batch.unique_key
        if key is None:
            return
        taken = sum(1 for record in batch.creates if record.get(key) and self.db.indexes.find(table, key, record[key]))
        if taken:
            raise ConcurrentChange(f"{taken:,} of the records to create now exist by {key} (imported meanwhile by "
                                   "someone else?); nothing was imported: check the file again")

    def rule_settings(self, country: str | None = None) -> tuple:
        """The settings the validation rules depend on (see Batch.checked_with),
        with `country` for phones without one (None: the default country)."""
        settings = self._settings_now()
        return settings["allow_private_customers"], country or settings["default_country"]

    def _clean_batch(self, batch: Batch) -> list[dict]:
        """Every create's fields cleaned and judged at once (polars); the first error refuses all."""
        sources = batch.target == SOURCES
        fields = PERSON_FIELDS if sources else CUSTOMER_FIELDS
        allow_private, country = self.rule_settings(batch.country)
        if batch.checked_with is not None and batch.checked_with == (allow_private, country):
            wanted = frozenset(fields)
            return [{k: v for k, v in r.items() if k in wanted} for r in batch.creates]
        frame, issues = clean_frame(frame_from_records(batch.creates, fields), kind=None if sources else batch.target,
                                    allow_private=allow_private, default_country=country)
        errors = issues.filter(pl.col("severity") == "error")
        if errors.height:
            first = errors.row(0, named=True)
            failed = ValidationFailed([FieldIssue(first["field"], first["value"], first["message"], "error")])
            failed.args = (f"record {first['index'] + 1}: {failed}",)
            raise failed
        return frame.to_dicts()

    def _batch_create(self, tx: Transaction, target: str, record: dict, values: dict, stamp: str) -> None:
        if target == SOURCES:
            tx.insert(SOURCES, self._source_doc(record, values, stamp))
            return
        customer_id, _doc = self._insert_customer(tx, target, values, record, active=record.get("active", True), stamp=stamp)
        for table, docs in (record.get("children") or {}).items():
            if table not in CHILD_TABLES:
                raise RuleViolation(f"'{table}' is not a kind of related record")
            for doc in docs:
                tx.insert(table, self._batch_child(tx, table, customer_id, doc))

    def _batch_child(self, tx: Transaction, table: str, customer_id: int, doc: Mapping) -> dict:
        if table == DEPARTMENTS:
            return self._department_doc(customer_id, doc, bool(doc.get("headquarters")))
        if table == CONTACTS:
            return self._contact_doc(customer_id, doc, None)
        child = {**doc, "customer_id": customer_id}
        if table in RELATED_KINDS:
            child["number"] = format_number(RELATED_KINDS[table][0], tx.next_counter(table))
        return child

    def _batch_update(self, tx: Transaction, table: str, doc_id: int, changes: Mapping, country: str | None) -> None:
        current = tx.get(table, doc_id)
        if current is None:
            raise NotFound(f"{table[:-1]} #{doc_id} was deleted meanwhile")
        changes = _private_fields(changes)
        if table == SOURCES:
            tx.put(SOURCES, doc_id, {**current, **self._clean_source({**current, **changes}, country)})
            return
        cleaned = self._validated_customer(current["kind"], {**current, **changes}, country)
        number = self._take_number(tx, changes.get("number", current["number"]), doc_id)
        tx.put(CUSTOMERS, doc_id, {**current, **cleaned, "number": number, "updated_at": journal.now()})

    # -- templates and campaigns ------------------------------------------------------
    def templates(self) -> list[dict]:
        return sorted((_public(i, d) for i, d in self.db.tables[TEMPLATES].items()), key=lambda t: t["name"].lower())

    def template(self, name: str) -> dict:
        for template in self.templates():
            if template["name"] == name:
                return template
        raise NotFound(f"no template named '{name}'")

    def save_template(self, name: str, channel: str, subject: str | None, body: str, html: str | None = None) -> dict:
        """Add a template, or replace the one of that name; refused if a part does not render."""
        doc = messages.check_template(name, channel, subject, body, html)
        with self.db.transaction() as tx:
            existing = [i for i, t in self.db.tables[TEMPLATES].items() if t["name"] == doc["name"]]
            if existing:
                tx.put(TEMPLATES, existing[0], doc)
            else:
                tx.insert(TEMPLATES, doc)
            self._journal(tx, "template", f"Saved {channel} template '{doc['name']}'")
        return self.template(doc["name"])

    def remove_template(self, name: str) -> None:
        template = self.template(name)
        with self.db.transaction() as tx:
            tx.delete(TEMPLATES, template["id"])
            self._journal(tx, "template", f"Removed template '{name}'")

    def start_campaign(self, template_name: str, customer_ids: Iterable[int]) -> dict:
        """A named send of one template to these customers, resumable by its id."""
        template = self.template(template_name)
        with self.db.transaction() as tx:
            doc = {"template": template["name"], "channel": template["channel"], "recipients": list(customer_ids),
                   "created_at": journal.now(), "user": self.user, "status": "sending"}
            campaign_id = tx.insert(CAMPAIGNS, doc)
            self._journal(tx, "campaign", f"Started campaign #{campaign_id}: '{template['name']}' to {len(doc['recipients'])} customer(s)")
        return self.campaign(campaign_id)

    def campaign(self, campaign_id: int) -> dict:
        doc = self.db.tables[CAMPAIGNS].get(campaign_id)
        if doc is None:
            raise NotFound(f"no campaign #{campaign_id}")
        return _public(campaign_id, doc)

    def delivered(self, campaign_id: int) -> set[int]:
        """The customers the campaign has reached: those with a conversation from it."""
        return {c["customer_id"] for c in self.db.tables[CONVERSATIONS].values() if c.get("campaign") == campaign_id}

    def record_sent(self, campaign_id: int, customer_id: int, subject: str | None, body: str) -> None:
        """Log one delivered message in the customer's conversations, durably, at once."""
        campaign = self.campaign(campaign_id)
        with self.db.transaction() as tx:
            tx.insert(CONVERSATIONS, {"customer_id": customer_id, "at": journal.now(), "channel": campaign["channel"],
                                      "direction": "out", "subject": subject, "body": body,
                                      "template": campaign["template"], "campaign": campaign_id})

    def finish_campaign(self, campaign_id: int, summary: dict) -> dict:
        campaign = self.campaign(campaign_id)
        done = not summary.get("stopped") and not summary.get("failed")
        with self.db.transaction() as tx:
            tx.put(CAMPAIGNS, campaign_id, {**_private_fields(campaign), "status": "done" if done else "interrupted",
                                            "summary": summary, "finished_at": journal.now()})
            self._journal(tx, "campaign", f"Campaign #{campaign_id}: {summary.get('sent', 0)} sent, "
                                          f"{len(summary.get('skipped', []))} skipped, {len(summary.get('failed', []))} failed"
                                          + (f", stopped: {summary['stopped']}" if summary.get("stopped") else ""))
        return self.campaign(campaign_id)

    # -- journal ------------------------------------------------------------------
    def _journal(self, tx: Transaction, action: str, summary: str, extra: tuple[int, ...] = ()) -> dict:
        return journal.write_entry(tx, action, summary, self.user, extra)


class _DryRun(Exception):
    """Rolls a transaction back on purpose."""


def _merged_fields(keep: dict, other: dict, choices: Mapping[str, str]) -> dict:
    merged = {}
    for name in (*CUSTOMER_FIELDS, "kind"):
        choice = choices.get(name)
        allowed = ("keep", "other", "both") if name == "tags" else ("keep", "other")
        if choice is not None and choice not in allowed:
            raise RuleViolation(f"merge choice for {name} must be {' or '.join(repr(a) for a in allowed)}, not '{choice}'")
        if name == "tags" and choice in (None, "both"):
            merged[name] = list(dict.fromkeys([*(keep.get("tags") or []), *(other.get("tags") or [])]))
        elif choice == "other" or (choice is None and keep.get(name) in (None, "", []) and name != "obfuscate_enabled"):
            merged[name] = other.get(name)
        else:
            merged[name] = keep.get(name)
    return merged


def _list_numbers(numbers: list[str], shown: int = 5) -> str:
    head = ", ".join(numbers[:shown])
    return head + (f" and {len(numbers) - shown} more" if len(numbers) > shown else "")
