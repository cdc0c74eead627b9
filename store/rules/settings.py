"""The store's settings: their defaults and the one check every writer goes through."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from store.base.errors import RuleViolation
from store.model import DEFAULT_SETTINGS
from store.rules.regions import is_region, locale_region


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


def check_settings(changes: Mapping[str, object]) -> dict[str, Any]:
    """The changes as they will be stored, or a refusal naming the first bad one."""
    unknown = set(changes) - set(DEFAULT_SETTINGS)
    if unknown:
        raise RuleViolation(f"unknown setting(s): {', '.join(sorted(unknown))}")
    checked = dict(changes)
    if "default_country" in checked:
        country = str(checked["default_country"] or "").strip().upper() or None
        if country is not None and not is_region(country):
            raise RuleViolation("default country must be an ISO 3166 code of two letters (DE, TR, FR …), "
                                f"not '{checked['default_country']}'")
        checked["default_country"] = country
    if "allow_private_customers" in checked and not isinstance(checked["allow_private_customers"], bool):
        raise RuleViolation("allow_private_customers must be true or false")
    if "obfuscation_retention_days" in checked:
        checked["obfuscation_retention_days"] = whole_days(checked["obfuscation_retention_days"], "obfuscation retention days")
    if "shop_name" in checked:
        name = " ".join(str(checked["shop_name"] or "").split())
        if len(name) > 80:
            raise RuleViolation("the shop name must be 80 characters or fewer")
        checked["shop_name"] = name or None
    if "mail_from" in checked:
        sender = str(checked["mail_from"] or "").strip()
        if "@" not in sender:
            raise RuleViolation(f"mail_from must be an address, not '{sender}'")
        checked["mail_from"] = sender
    return checked
