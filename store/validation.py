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


CARD_ERROR = "holds what looks like a card number; card numbers are not stored"
NAME_ERROR = "a name or a company name is required"
REACH_ERROR = "an email or a phone number is required"
CORPORATE_COMPANY_ERROR = "a corporate customer needs a company name"
PRIVATE_COMPANY_ERROR = "a company name is required while private customers are not allowed"


def email_error(value: str) -> str:
    return f"'{value}' is not a valid email address"


def phone_warning(value: str, country: str) -> str:
    return f"'{value}' is not a valid phone number for {country}; kept as typed"


def company_error(kind: str | None, allow_private: bool) -> str | None:
    """The message when this kind of record lacks a company name, or None if it may."""
    if kind == CORPORATE:
        return CORPORATE_COMPANY_ERROR
    if kind is not None and not allow_private:
        return PRIVATE_COMPANY_ERROR
    return None


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


_FORMATTING = re.compile(r"[\s.\-/()\u00a0]")


@lru_cache(maxsize=None)
def _numbering(region: str | None = None, calling_code: int | None = None) -> tuple[int, str | None, frozenset[int]] | None:
    """(calling code, trunk prefix, possible national lengths) from phonenumbers' metadata."""
    if calling_code is not None:
        region = phonenumbers.region_code_for_country_code(calling_code)
    meta = phonenumbers.PhoneMetadata.metadata_for_region((region or "").upper())
    if meta is None:
        return None
    return meta.country_code, meta.national_prefix, frozenset(meta.general_desc.possible_length)


def _plain_e164(value: str, country: str) -> str | None:
    """E.164 for the common shapes (digits with spaces, dots, dashes, slashes or
    brackets; international with + or 00, or national with the trunk prefix),
    decided on phonenumbers' metadata without its 18 µs parse."""
    compact = _FORMATTING.sub("", value.replace("(0)", ""))
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    international = compact.startswith("+")
    digits = compact[1:] if international else compact
    if not (digits.isascii() and digits.isdigit()) or digits.startswith("0") and international:
        return None
    if international:
        for size in (1, 2, 3):
            numbering = _numbering(calling_code=int(digits[:size]))
            if numbering is not None:
                return compact if len(digits) - size in numbering[2] else None
        return None
    numbering = _numbering(country)
    if numbering is None:
        return None
    code, trunk, lengths = numbering
    if trunk and digits.startswith(trunk) and len(digits) - len(trunk) in lengths:
        digits = digits[len(trunk):]
    elif len(digits) not in lengths:
        return None
    return f"+{code}{digits}"


@lru_cache(maxsize=131072)
def normalise_phone(value: str, country: str) -> str | None:
    """E.164 form of a possible phone number for `country`, or None when it does not parse."""
    plain = _plain_e164(value, country)
    if plain is not None:
        return plain
    try:
        parsed = phonenumbers.parse(value, country or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    # E.164 has no room for an extension; keep it rather than lose it.
    return f"{e164} x{parsed.extension}" if parsed.extension else e164


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
                issues.append(FieldIssue(field, value, phone_warning(value, default_country), "warning"))
            cleaned[field] = normal or value
            continue
        if holds_card_number(value):
            issues.append(FieldIssue(field, value, CARD_ERROR, "error"))
        if field == "email":
            value = value.lower()
            if not is_valid_email(value):
                issues.append(FieldIssue(field, value, email_error(value), "error"))
        cleaned[field] = value
    return cleaned, issues


def record_issues(record: Mapping[str, object], *, kind: str | None, allow_private: bool) -> list[FieldIssue]:
    """Whole-record rules: a name, a way to reach it, a company where required."""
    issues: list[FieldIssue] = []
    if not (record.get("first_name") or record.get("last_name") or record.get("company")):
        issues.append(FieldIssue("name", None, NAME_ERROR, "error"))
    if not (record.get("email") or record.get("phone") or record.get("mobile")):
        issues.append(FieldIssue("email", None, REACH_ERROR, "error"))
    missing_company = company_error(kind, allow_private)
    if missing_company and not record.get("company"):
        issues.append(FieldIssue("company", None, missing_company, "error"))
    return issues


def errors_of(issues: Iterable[FieldIssue]) -> list[FieldIssue]:
    return [i for i in issues if i.severity == "error"]
