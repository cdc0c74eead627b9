"""The product's records: table names, fields, statuses and human numbers (SPEC §1)."""
from __future__ import annotations

SCHEMA_VERSION = 1

CORPORATE = "corporate"
PRIVATE = "private"
KINDS = (CORPORATE, PRIVATE)

# Personal fields shared by customers and source entries (prospects).
PERSON_FIELDS = (
    "first_name", "last_name", "company", "email", "phone", "mobile",
    "street", "postcode", "city", "country", "vat_id", "external_id", "notes",
)
CUSTOMER_FIELDS = (*PERSON_FIELDS, "tags", "obfuscate_enabled")
PHONE_FIELDS = frozenset({"phone", "mobile"})

DEPARTMENT_FIELDS = ("name", "email", "phone", "street", "postcode", "city", "country")
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "role")

CUSTOMERS = "customers"
SOURCES = "sources"
DEPARTMENTS = "departments"
CONTACTS = "contacts"
JOURNAL = "journal"
SETTINGS = "settings"
TEMPLATES = "templates"
META = "_meta"
META_ID = 1  # the one document of META
CAMPAIGNS = "campaigns"

# Related kinds: each document belongs to one customer through `customer_id`.
# Value: (number prefix, statuses that count as open/active, all statuses).
RELATED_KINDS: dict[str, tuple[str, frozenset[str], tuple[str, ...]]] = {
    "orders": ("O", frozenset({"new", "processing", "shipped"}),
               ("new", "processing", "shipped", "completed", "cancelled")),
    "invoices": ("INV", frozenset({"unpaid"}), ("unpaid", "paid", "void")),
    "offers": ("OF", frozenset({"draft", "sent"}), ("draft", "sent", "accepted", "declined", "expired")),
    "contracts": ("CT", frozenset({"active"}), ("active", "ended")),
    "tickets": ("T", frozenset({"open", "pending"}), ("open", "pending", "resolved", "closed")),
    "tasks": ("TA", frozenset({"open"}), ("open", "done")),
    "returns": ("R", frozenset({"requested", "received"}), ("requested", "received", "refunded", "rejected")),
}
CONVERSATIONS = "conversations"
EXPORTS = "exports"
# Kinds an inactive customer may not get (seed 004).
NEEDS_ACTIVE_CUSTOMER = frozenset({"orders", "offers", "contracts", "tickets"})
# Kinds whose open documents block obfuscation (seed 004).
BLOCKS_OBFUSCATION = ("orders", "offers", "tickets")

# Every table whose documents carry a `customer_id` and move with a merge.
CHILD_TABLES = (DEPARTMENTS, CONTACTS, *RELATED_KINDS, CONVERSATIONS, EXPORTS)
ALL_TABLES = (CUSTOMERS, SOURCES, *CHILD_TABLES, TEMPLATES, CAMPAIGNS, SETTINGS, JOURNAL, META)

CUSTOMER_NUMBER_PREFIX = "C"

DEFAULT_SETTINGS = {
    "allow_private_customers": True,
    "default_country": None,  # the region phones without one are read in; settings.defaults() fills it from the locale
    "obfuscation_retention_days": 365,
    "mail_from": "custdesk@localhost",
}


def format_number(prefix: str, n: int) -> str:
    """Human number of the n-th record of a kind, e.g. C-000123."""
    return f"{prefix}-{n:06d}"


def display_name(doc: dict) -> str:
    """A customer's or prospect's name as people say it: company, else person."""
    person = " ".join(p for p in (doc.get("first_name"), doc.get("last_name")) if p)
    return doc.get("company") or person or doc.get("email") or ""


def is_open(kind: str, doc: dict) -> bool:
    """Whether a related document is still open/active (blocks obfuscation)."""
    return doc.get("status") in RELATED_KINDS[kind][1]
