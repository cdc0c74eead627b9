"""The rules every write of a customer, prospect, department or contact goes through:
cleaned, validated, numbered."""
from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from typing import Any

from store.base.errors import FieldIssue, RuleViolation, ValidationFailed
from store.domain import journal
from store.domain.session import Session
from store.engine import Transaction
from store.model import (
    CONTACT_FIELDS,
    CONTACTS,
    CORPORATE,
    CUSTOMER_FIELDS,
    CUSTOMER_NUMBER_PREFIX,
    CUSTOMERS,
    DEPARTMENT_FIELDS,
    DEPARTMENTS,
    KINDS,
    PERSON_FIELDS,
    format_number,
)
from store.rules import consent
from store.rules.keys import normalise_key
from store.rules.validation import clean_person, clean_text, errors_of, number_error, record_issues, row_region


class Records:
    """The cleaning, validating and numbering every aggregate that writes people goes through."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def check_customer(self, kind: str, data: Mapping[str, Any], country: str | None = None,
                       stored: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], list[FieldIssue]]:
        """A customer's cleaned fields and every issue (errors and warnings) saving it would meet;
        phones without a country of their own are read in `country`, else the default country.
        `stored`: the customer as stored, when `data` edits it (`validation.clean_person`)."""
        if kind not in KINDS:
            raise RuleViolation(f"kind must be corporate or private, not '{kind}'")
        settings = self.session.settings_now()
        cleaned, issues = clean_person(data, fields=CUSTOMER_FIELDS, default_country=country or settings["default_country"],
                                       stored=stored)
        issues += record_issues(cleaned, kind=kind, allow_private=settings["allow_private_customers"])
        return cleaned, issues

    def validated_customer(self, kind: str, data: Mapping[str, Any], country: str | None = None,
                           stored: Mapping[str, Any] | None = None) -> dict[str, Any]:
        cleaned, issues = self.check_customer(kind, data, country, stored)
        if errors_of(issues):
            raise ValidationFailed(issues)
        return cleaned

    def take_number(self, tx: Transaction, wanted: object, customer_id: int | None) -> str:
        return self._given_number(wanted, customer_id) or self._next_number(tx)

    def take_numbers(self, tx: Transaction, wanted: Sequence[object]) -> list[str]:
        """`take_number` for many new customers at once (a record's position names it in an error)."""
        if all(want is None for want in wanted):
            return self._next_numbers(tx, len(wanted))
        given: list[str | None] = []
        seen: set[str] = set()
        for position, want in enumerate(wanted, 1):
            try:
                number = self._given_number(want, None)
                key = normalise_key("number", number)
                if key is not None and key in seen:
                    raise RuleViolation(f"customer number {number} is already used by another customer")
            except RuleViolation as err:
                err.args = (f"record {position}: {err}",)
                raise
            if key is not None:
                seen.add(key)
            given.append(number)
        fresh = iter(self._next_numbers(tx, given.count(None), seen))
        return [number or next(fresh) for number in given]

    def _given_number(self, wanted: object, customer_id: int | None) -> str | None:
        """The customer number asked for, checked and free (None: none asked for)."""
        number = clean_text(wanted) if wanted is not None else None
        if not number:
            return None
        number = number.upper()
        refused = number_error(number)
        if refused:
            raise RuleViolation(refused)
        holders = self.session.db.indexes.find(CUSTOMERS, "number", number) - {customer_id}
        if holders:
            raise RuleViolation(f"customer number {number} is already used by another customer")
        return number

    def _next_number(self, tx: Transaction) -> str:
        return self._next_numbers(tx, 1)[0]

    def _next_numbers(self, tx: Transaction, count: int, also_taken: Container[str] = ()) -> list[str]:
        """The counter's next `count` numbers that no customer holds (nor one of `also_taken`, normalised)."""
        numbers: list[str] = []
        while len(numbers) < count:
            formatted = [format_number(CUSTOMER_NUMBER_PREFIX, n) for n in tx.take_counters(CUSTOMERS, count - len(numbers))]
            keys = [n.replace("-", "") for n in formatted]  # (normalise_key of "C-000123" is "C000123")
            taken = self.session.db.indexes.holds(CUSTOMERS, "number", list(keys))
            numbers += [n for n, key, held in zip(formatted, keys, taken, strict=True) if not held and key not in also_taken]
        return numbers

    def form_source(self) -> str:
        """Where an answer typed by this session's user came from, as the consent record keeps it."""
        return f"form by {self.session.user}"

    def new_customer(self, tx: Transaction, kind: str, data: Mapping[str, Any], *, active: bool = True) -> tuple[int, dict[str, Any]]:
        return self.insert_customer(tx, kind, self.validated_customer(kind, data), data, active=active)

    def insert_customer(self, tx: Transaction, kind: str, cleaned: dict[str, Any], data: Mapping[str, Any], *, active: bool,
                         stamp: str | None = None, source: str | None = None) -> tuple[int, dict[str, Any]]:
        """Insert a customer whose fields were already cleaned and validated; a marketing
        answer it brings is stamped with `source` (None: this user's form)."""
        stamp = stamp or journal.now()
        created = data.get("created_at") or stamp
        doc = {
            **cleaned,
            "obfuscate_enabled": cleaned.get("obfuscate_enabled") is not False,
            consent.RECORD: consent.stamped({}, cleaned, at=stamp, source=source or self.form_source()),
            "kind": kind,
            "number": self.take_number(tx, data.get("number"), None),
            "active": active,
            "created_at": created,
            "updated_at": stamp,
            "deactivated_at": None if active else (data.get("deactivated_at") or stamp),
            "obfuscated_at": None,
            "origin": data.get("origin"),
        }
        doc_id = tx.insert(CUSTOMERS, doc)
        return doc_id, doc

    def has_structure(self, customer_id: int) -> bool:
        indexes = self.session.db.indexes
        return bool(indexes.child_ids(customer_id, DEPARTMENTS) or indexes.child_ids(customer_id, CONTACTS))

    def check_source(self, data: Mapping[str, Any], country: str | None = None,
                     stored: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], list[FieldIssue]]:
        """A prospect's cleaned fields and every issue saving it would meet (`stored`: as `check_customer`)."""
        country = country or self.session.settings_now()["default_country"]
        cleaned, issues = clean_person(data, fields=PERSON_FIELDS, default_country=country, stored=stored)
        return cleaned, issues + record_issues(cleaned, kind=None, allow_private=True)

    def clean_source(self, data: Mapping[str, Any], country: str | None = None,
                     stored: Mapping[str, Any] | None = None) -> dict[str, Any]:
        cleaned, issues = self.check_source(data, country, stored)
        if errors_of(issues):
            raise ValidationFailed(issues)
        return cleaned

    def source_doc(self, data: Mapping[str, Any], cleaned: dict[str, Any] | None = None, stamp: str | None = None) -> dict[str, Any]:
        return {**(cleaned if cleaned is not None else self.clean_source(data)),
                "origin": data.get("origin") or {"file": None}, "raw": data.get("raw"),
                "imported_at": stamp or journal.now()}

    def corporate(self, tx: Transaction, customer_id: int, what: str) -> dict[str, Any]:
        doc = self.session.current(tx, customer_id)
        if doc["kind"] != CORPORATE:
            raise RuleViolation(f"customer {doc['number']} is private; only corporate customers have {what}")
        return doc

    def _clean_child(self, customer_id: int, data: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
        # A department's or contact's phones are read in its own country, else its company's.
        owner = self.session.db.tables[CUSTOMERS].get(customer_id) or {}
        fallback = row_region(owner.get("country"), self.session.settings_now()["default_country"])
        cleaned, issues = clean_person(data, fields=fields, default_country=fallback)
        if errors_of(issues):
            raise ValidationFailed(issues)
        return cleaned

    def department_doc(self, customer_id: int, data: Mapping[str, Any], headquarters: bool) -> dict[str, Any]:
        doc = self._clean_child(customer_id, data, DEPARTMENT_FIELDS)
        if not doc["name"]:
            raise ValidationFailed([FieldIssue("name", None, "a department needs a name", "error")])
        return {**doc, "customer_id": customer_id, "headquarters": headquarters}

    def contact_doc(self, customer_id: int, data: Mapping[str, Any], department_id: int | None) -> dict[str, Any]:
        doc = self._clean_child(customer_id, data, CONTACT_FIELDS)
        if not (doc["first_name"] or doc["last_name"]):
            raise ValidationFailed([FieldIssue("name", None, "a contact needs a name", "error")])
        if department_id is not None:
            department = self.session.db.tables[DEPARTMENTS].get(department_id)
            if department is None or department["customer_id"] != customer_id:
                raise RuleViolation(f"department #{department_id} does not belong to this customer")
        return {**doc, "customer_id": customer_id, "department_id": department_id}
