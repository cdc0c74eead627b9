"""Fake replacements for a customer's personal data (seed 004, SPEC §2.10)."""
from __future__ import annotations

import secrets
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faker import Faker


@lru_cache(maxsize=1)
def _faker() -> Faker:
    from faker import Faker  # loaded when first needed: opening a store never is

    # Seeded from the OS: fake values must not be predictable from the real ones.
    fake = Faker("en_US")
    fake.seed_instance(secrets.randbits(64))
    return fake


def _fake_phone() -> str:
    # +1 555 01xx numbers are reserved for fiction: never a real person's.
    return f"+1555010{secrets.randbelow(10)}{secrets.randbelow(10)}{secrets.randbelow(10)}"


def fake_person(tag: str) -> dict[str, Any]:
    """Fake name, email and phone; `tag` keeps fake emails unique."""
    fake = _faker()
    first, last = fake.first_name(), fake.last_name()
    return {
        "first_name": first,
        "last_name": last,
        "email": f"{first}.{last}.{tag}@example.com".lower(),
        "phone": _fake_phone(),
    }


def fake_customer(doc: dict[str, Any], tag: str) -> dict[str, Any]:
    """The customer's personal fields replaced; kind, number, tags, dates kept."""
    fake = _faker()
    person = fake_person(tag)
    return {
        **doc,
        **person,
        "company": fake.company() if doc.get("company") else None,
        "mobile": _fake_phone() if doc.get("mobile") else None,
        "street": fake.street_address(),
        "postcode": fake.postcode(),
        "city": fake.city(),
        "vat_id": None,
        # The accounting system's id names the real person: an upsert on it would write them back.
        "external_id": None,
        "notes": None,
        "picture": None,  # (its file is deleted once nothing names it: Pictures.sweep_pictures)
        # The raw row, and a sync's accounting id, last synced values and conflicting ones, are the person's data.
        "origin": {k: v for k, v in (doc.get("origin") or {}).items() if k not in ("raw", "id", "synced", "conflicts")} or None,
    }


SCRUBBED = "(removed: the customer was obfuscated)"


def scrub_campaign(campaign: dict[str, Any], number: str) -> dict[str, Any] | None:
    """The campaign with the reasons given for this customer (a refusing server quotes its
    address) removed; None when it names the customer nowhere."""
    summary = campaign.get("summary") or {}
    lists = {name: [{**entry, "reason": SCRUBBED} if entry.get("number") == number else entry for entry in entries]
             for name, entries in summary.items() if isinstance(entries, list)}
    if lists == {name: summary[name] for name in lists}:
        return None
    return {**campaign, "summary": {**summary, **lists}}


def fake_department(doc: dict[str, Any], tag: str) -> dict[str, Any]:
    fake = _faker()
    person = fake_person(tag)
    return {**doc, "email": person["email"], "phone": person["phone"],
            "street": fake.street_address(), "postcode": fake.postcode(), "city": fake.city()}


def fake_contact(doc: dict[str, Any], tag: str) -> dict[str, Any]:
    return {**doc, **fake_person(tag)}
