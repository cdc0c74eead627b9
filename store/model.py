"""The product's records: table names, fields, statuses and human numbers (SPEC §1)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, NamedTuple, TypedDict

SCHEMA_VERSION = 1

Kind = Literal["corporate", "private"]
# Where an import (a batch) writes: the source list, or customers of one kind.
ImportTarget = Literal["sources", "corporate", "private"]
Channel = Literal["email", "sms"]
CampaignStatus = Literal["sending", "done", "interrupted"]
Severity = Literal["error", "warning"]

CORPORATE: Final = "corporate"
PRIVATE: Final = "private"
KINDS: tuple[Kind, ...] = (CORPORATE, PRIVATE)

# Personal fields shared by customers and source entries (prospects).
PERSON_FIELDS = (
    "first_name", "last_name", "company", "email", "phone", "mobile",
    "street", "postcode", "city", "country", "vat_id", "external_id", "notes",
)
CUSTOMER_FIELDS = (*PERSON_FIELDS, "tags", "obfuscate_enabled", "email_marketing", "sms_marketing")
PHONE_FIELDS = frozenset({"phone", "mobile"})

DEPARTMENT_FIELDS = ("name", "email", "phone", "street", "postcode", "city", "country")
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "role")

CUSTOMERS = "customers"
PICTURES = "pictures"  # the blobs the store keeps (`Schema.blobs`)
SOURCES = "sources"
DEPARTMENTS = "departments"
CONTACTS = "contacts"
JOURNAL = "journal"
SETTINGS = "settings"
TEMPLATES = "templates"
META = "_meta"
META_ID = 1  # the one document of META
CAMPAIGNS = "campaigns"
# What the engine counts with every commit (`Schema.tallies`), read back by store.views.counts.
# Each status, each kind, both together (a filter of both: `store.engine.tallies`), each tag.
KIND_ACTIVE_COUNTS, TAG_COUNTS = "kind|active", "tags[]"
LATER_COUNTS = (KIND_ACTIVE_COUNTS, TAG_COUNTS)  # (kept since 2026-12-06: an older custdesk's writes leave them stale)
TALLIED = {CUSTOMERS: ("active", "kind", KIND_ACTIVE_COUNTS, TAG_COUNTS), SOURCES: ()}



class RelatedKind(NamedTuple):
    """A kind of related record: how its documents are numbered and which statuses they take."""

    prefix: str                    # of its numbers: O-000001
    open_statuses: frozenset[str]  # the statuses that count as open/active
    statuses: tuple[str, ...]      # every status it takes; a new one's is the first


# Related kinds: each document belongs to one customer through `customer_id`.
RELATED_KINDS: dict[str, RelatedKind] = {
    "orders": RelatedKind("O", frozenset({"new", "processing", "shipped"}),
                          ("new", "processing", "shipped", "completed", "cancelled")),
    "invoices": RelatedKind("INV", frozenset({"unpaid"}), ("unpaid", "paid", "void")),
    "offers": RelatedKind("OF", frozenset({"draft", "sent"}), ("draft", "sent", "accepted", "declined", "expired")),
    "contracts": RelatedKind("CT", frozenset({"active"}), ("active", "ended")),
    "tickets": RelatedKind("T", frozenset({"open", "pending"}), ("open", "pending", "resolved", "closed")),
    "tasks": RelatedKind("TA", frozenset({"open"}), ("open", "done")),
    "returns": RelatedKind("R", frozenset({"requested", "received"}), ("requested", "received", "refunded", "rejected")),
}
CONVERSATIONS = "conversations"
EXPORTS = "exports"
# A child document shared by several customers (an export run) names them all in this field.
SHARED_OWNERS = "customer_ids"
# Kinds an inactive customer may not get (seed 004).
NEEDS_ACTIVE_CUSTOMER = frozenset({"orders", "offers", "contracts", "tickets"})
# Kinds whose open documents block obfuscation (seed 004).
BLOCKS_OBFUSCATION = ("orders", "offers", "tickets")

# Every table whose documents carry a `customer_id` and move with a merge.
CHILD_TABLES = (DEPARTMENTS, CONTACTS, *RELATED_KINDS, CONVERSATIONS, EXPORTS)
ALL_TABLES = (CUSTOMERS, SOURCES, *CHILD_TABLES, TEMPLATES, CAMPAIGNS, SETTINGS, JOURNAL, META)
# What one document of each table is called in messages and journal actions: a table's
# name less its "s" would say "source" for a prospect and "journa" for a journal entry.
SINGULAR: Mapping[str, str] = {
    CUSTOMERS: "customer", SOURCES: "prospect", DEPARTMENTS: "department", CONTACTS: "contact",
    "orders": "order", "invoices": "invoice", "offers": "offer", "contracts": "contract", "tickets": "ticket",
    "tasks": "task", "returns": "return", CONVERSATIONS: "conversation", EXPORTS: "export",
    TEMPLATES: "template", CAMPAIGNS: "campaign", SETTINGS: "setting", JOURNAL: "journal entry", META: "store record",
}

CUSTOMER_NUMBER_PREFIX = "C"

DEFAULT_SETTINGS = {
    "allow_private_customers": True,
    "default_country": None,  # the region phones without one are read in; settings.defaults() fills it from the locale
    "obfuscation_retention_days": 365,
    # RFC 2606's example.com passes the sender check: a demo's outbox mail reads like real mail.
    "mail_from": "custdesk <custdesk@example.com>",
    "reply_to": None,  # where replies and mailed unsubscribes go (None: mail_from)
    "shop_name": None,  # the sign-up page's heading (None: custdesk)
    "public_url": None,  # where `serve` is reached from outside: links in mail (None: no web links)
}


class Origin(TypedDict, total=False):
    """Where a prospect (or the customer it became) came from."""

    file: str | None
    sheet: str | None
    row: int | None
    profile: str | None


class Person(TypedDict, total=False):
    """The personal fields customers and prospects share (`PERSON_FIELDS`); empty ones are left out."""

    first_name: str
    last_name: str
    company: str
    email: str
    phone: str
    mobile: str
    street: str
    postcode: str
    city: str
    country: str
    vat_id: str
    external_id: str
    notes: str


class ConsentStamp(TypedDict):
    """When a customer's answer to marketing on one channel was set, and through what."""

    at: str
    source: str


class Customer(Person, total=False):
    id: int
    rev: int
    schema_version: int
    kind: Kind
    number: str
    active: bool
    tags: list[str]
    obfuscate_enabled: bool
    # Marketing by email and by SMS: agreed (True), opted out (False), never asked (None);
    # when and through what each was last set (store.rules.consent).
    email_marketing: bool | None
    sms_marketing: bool | None
    marketing_consent: dict[str, ConsentStamp] | None
    created_at: str
    updated_at: str
    deactivated_at: str | None
    obfuscated_at: str | None
    origin: Origin | None


class Prospect(Person, total=False):
    """An entry of the source list."""

    id: int
    rev: int
    schema_version: int
    origin: Origin
    raw: dict[str, Any] | None
    imported_at: str


class RelatedRecord(TypedDict, total=False):
    """A document a customer owns: a department, contact, order … conversation or export."""

    id: int
    rev: int
    schema_version: int
    customer_id: int
    number: str
    status: str
    date: str
    title: str | None
    amount: float | None
    name: str
    headquarters: bool
    department_id: int | None
    role: str
    first_name: str
    last_name: str
    email: str
    phone: str
    at: str
    channel: str | None
    direction: str | None
    subject: str | None
    body: str | None
    template: str | None
    campaign: int | None
    format: str
    target: str
    user: str


class JournalEntry(TypedDict, total=False):
    """Who did what and when; undoable entries keep what undo puts back."""

    id: int
    rev: int
    at: str
    user: str
    action: str
    summary: str
    customer_ids: list[int] | None
    undoable: bool
    undone: bool
    undone_at: str
    changes: list[list[Any]] | None
    expired: bool
    purged: bool



def format_number(prefix: str, n: int) -> str:
    """Human number of the n-th record of a kind, e.g. C-000123."""
    return f"{prefix}-{n:06d}"


def singular(table: str) -> str:
    """One document of `table` as messages name it: "orders" → "order", "sources" → "prospect"."""
    return SINGULAR[table]


def display_name(doc: Mapping[str, Any]) -> str:
    """A customer's or prospect's name as people say it: company, else person."""
    person = " ".join(p for p in (doc.get("first_name"), doc.get("last_name")) if p)
    return doc.get("company") or person or doc.get("email") or ""


def prospect_name(doc: Mapping[str, Any]) -> str:
    """A prospect as people know it (it has no number): its name and where it came from,
    "prospect Ada Lovelace (leads.csv, row 12)", "prospect Müller GmbH (sync datev, EXTF_Debitoren.csv, row 4)"."""
    origin = doc.get("origin") or {}
    synced = origin.get("profile") and origin.get("file") != "web form"  # (a sign-up's profile is the form)
    parts = [synced and f"sync {origin['profile']}", origin.get("file"), origin.get("sheet") and f"sheet {origin['sheet']}",
             origin.get("row") and f"row {origin['row']}"]
    where = ", ".join(str(part) for part in parts if part) or "added by hand"
    return f"prospect {display_name(doc) or '(no name)'} ({where})"


def is_open(kind: str, doc: Mapping[str, Any]) -> bool:
    """Whether a related document is still open/active (blocks obfuscation)."""
    return doc.get("status") in RELATED_KINDS[kind].open_statuses
