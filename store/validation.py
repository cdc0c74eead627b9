"""SPEC §3: the one place where a record's values are cleaned and judged.

The TUI form, the import and the sync all call `clean_person`; the importer
reuses the same patterns (`EMAIL_PATTERN`, `CARD_RUN_PATTERN`) as polars
expressions so that a whole column is judged exactly as one value is.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Mapping

import phonenumbers

from .errors import FieldIssue
from .model import CORPORATE, PHONE_FIELDS

# An address as a mail client accepts it: a dot-atom local part, a domain of
# labels, and an alphabetic top-level domain.
EMAIL_PATTERN = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_EMAIL_RE = re.compile(EMAIL_PATTERN)
# A run of 13-19 digits, single spaces or dashes allowed between them.
CARD_RUN_PATTERN = r"\d(?:[ -]?\d){12,18}"
_CARD_RUN_RE = re.compile(r"(?<![\d-])" + CARD_RUN_PATTERN + r"(?![\d])")
_E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def holds_card_number(value: str) -> bool:
    """True when the text holds a Luhn-valid run of 13-19 digits."""
    if len(value) < 13 or _CARD_RUN_RE.search(value) is None:
        return False
    for match in _CARD_RUN_RE.finditer(value):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False


def is_valid_email(value: str) -> bool:
    return bool(_EMAIL_RE.match(value))


@lru_cache(maxsize=65536)
def normalise_phone(value: str, country: str) -> str | None:
    """E.164 form of a phone number, or None when it does not parse as valid."""
    if _E164_RE.match(value):
        return value
    try:
        parsed = phonenumbers.parse(value, country or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def clean_text(value: object) -> str | None:
    """Trimmed text, or None for nothing."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def clean_tags(value: object) -> list[str]:
    """Tags from a list or a comma/semicolon separated string, trimmed, unique, in order."""
    if value is None:
        return []
    parts: Iterable[object] = value if isinstance(value, (list, tuple)) else re.split(r"[,;]", str(value))
    seen: dict[str, None] = {}
    for part in parts:
        tag = clean_text(part)
        if tag:
            seen.setdefault(tag, None)
    return list(seen)


def clean_person(
    data: Mapping[str, object],
    *,
    fields: Iterable[str],
    default_country: str,
) -> tuple[dict, list[FieldIssue]]:
    """Clean the given text fields of a record and list what is wrong with them.

    Returns the cleaned values (only `fields`, None for empty) and the issues:
    an invalid email or a card number is an error, an unparsable phone a warning.
    """
    cleaned: dict = {}
    issues: list[FieldIssue] = []
    for field in fields:
        raw = data.get(field)
        if field == "tags":
            cleaned[field] = clean_tags(raw)
            continue
        if field == "obfuscate_enabled":
            cleaned[field] = True if raw is None else bool(raw)
            continue
        value = clean_text(raw)
        if value is None:
            cleaned[field] = None
            continue
        if field in PHONE_FIELDS:
            normal = normalise_phone(value, default_country)
            if normal is None:
                issues.append(FieldIssue(field, value, f"'{value}' is not a valid phone number for {default_country}; kept as typed", "warning"))
            cleaned[field] = normal or value
            continue
        if holds_card_number(value):
            issues.append(FieldIssue(field, value, "holds what looks like a card number; card numbers are not stored", "error"))
        if field == "email":
            value = value.lower()
            if not is_valid_email(value):
                issues.append(FieldIssue(field, value, f"'{value}' is not a valid email address", "error"))
        cleaned[field] = value
    return cleaned, issues


def record_issues(record: Mapping[str, object], *, kind: str | None, allow_private: bool) -> list[FieldIssue]:
    """Whole-record rules: a name, a way to reach it, a company where required."""
    issues: list[FieldIssue] = []
    has_person = record.get("first_name") or record.get("last_name")
    if not (has_person or record.get("company")):
        issues.append(FieldIssue("name", None, "a name or a company name is required", "error"))
    if not (record.get("email") or record.get("phone") or record.get("mobile")):
        issues.append(FieldIssue("email", None, "an email or a phone number is required", "error"))
    if not record.get("company"):
        if kind == CORPORATE:
            issues.append(FieldIssue("company", None, "a corporate customer needs a company name", "error"))
        elif kind is not None and not allow_private:
            issues.append(FieldIssue("company", None, "a company name is required while private customers are not allowed", "error"))
    return issues


def errors_of(issues: Iterable[FieldIssue]) -> list[FieldIssue]:
    return [i for i in issues if i.severity == "error"]
