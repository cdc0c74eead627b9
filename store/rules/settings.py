"""The store's settings: their defaults and the one check every writer goes through."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from email.utils import getaddresses
from typing import Any
from urllib.parse import urlsplit

from store.base.errors import RuleViolation
from store.model import DEFAULT_SETTINGS
from store.rules.emails import check_email
from store.rules.regions import is_region, locale_region
from store.rules.validation import parse_flag


def defaults(country: str | None = None) -> dict[str, Any]:
    """Settings before anyone saved any: the default country is `country` (the user's
    configuration) or else the locale's (LANG), never a fixed one."""
    return {**DEFAULT_SETTINGS, "default_country": country or locale_region()}


# A hundred years: any more reaches back before the calendar's first day.
MAX_DAYS = 36_500


def whole_days(value: object, what: str) -> int:
    """`value` (a number, or text as typed) as a count of days from 0 to `MAX_DAYS`, or a
    refusal that names it as `what`: the obfuscation policy's days inactive, the retention setting."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and re.fullmatch("-?[0-9]+", text):
        text = int(text)
    if isinstance(text, bool) or not isinstance(text, int):
        raise RuleViolation(f"{what} must be a whole number of days, not '{value}'")
    if text < 0:
        raise RuleViolation(f"{what} must be 0 or more")
    if text > MAX_DAYS:
        raise RuleViolation(f"{what} must be at most {MAX_DAYS:,} (a hundred years)")
    return text


def inactive_days(value: object) -> int:
    """The obfuscation policy's threshold: customers inactive this many days or more are due."""
    return whole_days(value, "the days inactive")


# A display name holding one of these is written in quotes, as RFC 5322 wants it.
_NAME_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')


def mail_address(value: object, what: str) -> str | None:
    """`value` as one sender address with an optional display name, `Engines GmbH <office@engines.de>`,
    as it will be stored (None for nothing); a refusal naming `what` for anything else."""
    text = " ".join(str(value or "").split())
    if not text:
        return None
    pairs = getaddresses([text])
    if len(pairs) != 1 or "@" not in pairs[0][1] or text.count("<") > 1:
        raise RuleViolation(f"{what}: write one address, e.g. 'Engines GmbH <office@engines.de>', not '{text}'")
    name, address = pairs[0]
    stored, error, _ = check_email(address)
    if error:
        raise RuleViolation(f"{what}: {error}")
    if not name:
        return stored
    quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"' if _NAME_SPECIALS.search(name) else name
    return f"{quoted} <{stored}>"


def public_url(value: object) -> str | None:
    """Where the shop's web pages answer, as links in mail will use it: an http(s) address
    without query or fragment and without the trailing /; None for nothing."""
    text = str(value or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname or any(c.isspace() for c in text):
        raise RuleViolation(f"public_url must be an address such as https://shop.example.com, not '{text}'")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise RuleViolation(f"public_url must not have a ?query or #fragment: '{text}'")
    if parts.username or parts.password:
        raise RuleViolation(f"public_url must not hold a user or password: '{text}'")
    return text.rstrip("/")


def default_country(value: object) -> str | None:
    country = str(value or "").strip().upper() or None
    if country is not None and not is_region(country):
        raise RuleViolation(f"default country must be an ISO 3166 code of two letters (DE, TR, FR …), not '{value}'")
    return country


def allow_private_customers(value: object) -> bool:
    try:
        allowed = parse_flag(value)
    except ValueError:
        allowed = None
    if allowed is None:
        raise RuleViolation(f"allow_private_customers must be yes or no, not '{value}'")
    return allowed


def shop_name(value: object) -> str | None:
    name = " ".join(str(value or "").split())
    if len(name) > 80:
        raise RuleViolation("the shop name must be 80 characters or fewer")
    return name or None


def mail_from(value: object) -> str:
    sender = mail_address(value, "mail_from")
    if sender is None:
        raise RuleViolation("mail_from must be the sender's address, e.g. 'Engines GmbH <office@engines.de>'")
    return sender


# Each setting's check: the value as typed (or given) in, the value as stored out, or a refusal.
CHECKS: dict[str, Callable[[object], object]] = {
    "allow_private_customers": allow_private_customers,
    "default_country": default_country,
    "obfuscation_retention_days": lambda value: whole_days(value, "obfuscation retention days"),
    "mail_from": mail_from,
    "reply_to": lambda value: mail_address(value, "reply_to"),
    "shop_name": shop_name,
    "public_url": public_url,
}


def check_settings(changes: Mapping[str, object]) -> dict[str, Any]:
    """The changes as they will be stored, or a refusal naming the first bad one."""
    unknown = set(changes) - set(DEFAULT_SETTINGS)
    if unknown:
        raise RuleViolation(f"unknown setting(s): {', '.join(sorted(unknown))} (the settings are {', '.join(DEFAULT_SETTINGS)})")
    return {key: CHECKS[key](value) for key, value in changes.items()}
