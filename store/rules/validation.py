"""SPEC §3: the one place where a record's values are cleaned and judged.

The TUI form, the import and the sync all call `clean_person`; the bulk path
(`validation_frame`) reuses the same functions and patterns as polars
expressions so that a whole column is judged exactly as one value is.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from store.base.errors import FieldIssue
from store.base.text import printable
from store.model import CORPORATE, PHONE_FIELDS
from store.rules.emails import check_email
from store.rules.phones import normalise_phone
from store.rules.regions import region_of
from store.rules.vat import clean_vat
from store.rules.vat import compact as vat_compact

# A run of 13-19 digits, one separator (space, dash, dot, underscore, no-break space) allowed between them.
_CARD_SEPARATORS = " \\-._\u00a0"
CARD_RUN_PATTERN = rf"[0-9](?:[{_CARD_SEPARATORS}]?[0-9]){{12,18}}"
_CARD_RUN_RE = re.compile(r"(?<![0-9])" + CARD_RUN_PATTERN + r"(?![0-9])")
_NOT_DIGIT = re.compile(r"[^0-9]")


CARD_ERROR = "holds what looks like a card number; card numbers are not stored"
# Another system's identifier (an accounting id: Zoho's are 13-19 digits, a tenth of them
# Luhn-valid): a long number there is that system's key, not a card number.
CARD_EXEMPT_FIELDS = frozenset({"external_id"})
ACCOUNTING_CARD_ERROR = "the accounting id looks like a card number; card numbers are not stored"
NAME_ERROR = "a name or a company name is required"
REACH_ERROR = "an email or a phone number is required"
CORPORATE_COMPANY_ERROR = "a corporate customer needs a company name"
PRIVATE_COMPANY_ERROR = "a company name is required while private customers are not allowed"


def phone_warning(value: str, region: str | None) -> str:
    if region:
        return f"'{value}' is not a valid phone number for {region}; kept as typed"
    return (f"'{value}' has no +country code and no country is known for it (a Country column, "
            "--country or the default country); kept as typed")


def row_region(country: object, fallback: str | None) -> str | None:
    """The region a record's phones are read in: its own country, else the fallback."""
    return region_of(country if isinstance(country, str) else None) or fallback


def company_error(kind: str | None, allow_private: bool) -> str | None:
    """The message when this kind of record lacks a company name, or None if it may."""
    if kind == CORPORATE:
        return CORPORATE_COMPANY_ERROR
    if kind is not None and not allow_private:
        return PRIVATE_COMPANY_ERROR
    return None


# A customer number is an identifier people type and files carry: letters, digits and a
# few separators, never a path step (`../`), a line break or a terminal control character.
_NUMBER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 ._/-]{0,38}[A-Za-z0-9])?")


def number_error(number: str) -> str | None:
    """Why this customer number cannot be stored, or None."""
    if not _NUMBER.fullmatch(number) or ".." in number or "//" in number:
        return (f"customer number '{number}' may hold only letters, digits, spaces and . / _ - between them "
                "(at most 40 characters)")
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


def _card_runs(value: str) -> list[re.Match[str]]:
    """The Luhn-valid runs of 13-19 digits in the text (any of the separators between digits)."""
    if len(value) < 13:
        return []
    runs = []
    for match in _CARD_RUN_RE.finditer(value):
        digits = _NOT_DIGIT.sub("", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            runs.append(match)
    return runs


def holds_card_number(value: str) -> bool:
    """True when the text holds a Luhn-valid run of 13-19 digits."""
    return bool(_card_runs(value))


def mask_cards(value: str) -> str:
    """The text with each card number's digits but the first and last four shown as •:
    `4111 1111 1111 1111` → `4111 •••• •••• 1111`. A refused value is echoed only so."""
    out, last = [], 0
    for match in _card_runs(value):
        run = match.group()
        positions = [i for i, ch in enumerate(run) if ch.isdigit()]
        hidden = set(positions[4:-4])
        out += [value[last:match.start()], "".join("•" if i in hidden else ch for i, ch in enumerate(run))]
        last = match.end()
    return "".join(out) + value[last:]


def accounting_id_error(account_id: str, *, issued: bool) -> str | None:
    """Why a sync may not keep this accounting id, or None. An id the accounting system
    issues itself (Zoho's 13-19 digits) is its key, never a card number; an id people
    type (Xero's account number, Sage's reference) that holds one is a card number
    typed in the wrong box: kept, it would be printed and journaled in full."""
    if not issued and holds_card_number(account_id):
        return ACCOUNTING_CARD_ERROR
    return None


# Yes and no as files write them, in the languages of the files we meet (English, German,
# Turkish, French, Spanish, Dutch).
_YES = frozenset({"yes", "y", "true", "1", "x", "on", "ja", "j", "evet", "e", "oui", "si", "sí", "wahr", "vrai",
                  "verdadero", "waar", "doğru", "dogru"})
_NO = frozenset({"no", "n", "false", "0", "off", "nein", "hayir", "hayır", "non", "nee", "falsch", "-", "faux", "falso",
                 "onwaar", "yanlış", "yanlis"})
FLAG_ERROR = "must be yes or no"
# The yes/no fields of a customer and what an empty one stores: the obfuscation opt-out
# defaults to yes; a marketing answer nobody gave stays None ("not asked").
FLAG_DEFAULTS: dict[str, bool | None] = {"obfuscate_enabled": True, "email_marketing": None, "sms_marketing": None}


def parse_flag(value: object) -> bool | None:
    """True/False from a bool or yes/no text; None for nothing; ValueError for anything else."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"'{printable(str(value))}' {FLAG_ERROR}")


# Every character str.strip() removes: the column-wise path strips these too (polars' own
# whitespace leaves out \x1c-\x1f, so a name of one \x1f would pass there and fail here).
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def clean_text(value: object) -> str | None:
    """Trimmed text, or None for nothing."""
    if value is None:
        return None
    text = str(value).strip(WHITESPACE)
    return text or None


def clean_tags(value: object) -> list[str]:
    """Tags from a list or a comma/semicolon separated string, trimmed, unique, in order. A
    comma or semicolon separates tags inside a list's items too: files write tags so, and
    a tag holding one would come back from an export and import as two."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    parts = [part for item in items for part in re.split(r"[,;]", str(item))]
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
    default_country: str | None,
    stored: Mapping[str, object] | None = None,
) -> tuple[dict[str, Any], list[FieldIssue]]:
    """Clean the given text fields of a record and list what is wrong with them.

    Returns the cleaned values (only `fields`, None for empty) and the issues:
    an invalid email, VAT id or a card number is an error; a phone that is not valid
    for the record's region, or an address that needs SMTPUTF8, a warning.
    Phones and VAT ids without a prefix are read in the record's own country, else
    `default_country`. `stored` is the record as it is stored when this is an edit of it.
    """
    region = row_region(data.get("country"), default_country)
    cleaned: dict[str, Any] = {}
    issues: list[FieldIssue] = []
    for field in fields:
        raw = data.get(field)
        if field == "tags":
            cleaned[field] = clean_tags(raw)
            joined = ", ".join(cleaned[field])
            if holds_card_number(joined):
                issues.append(FieldIssue(field, mask_cards(joined), CARD_ERROR, "error"))
            continue
        if field in FLAG_DEFAULTS:
            try:
                flag = parse_flag(raw)
            except ValueError as err:
                issues.append(FieldIssue(field, raw, str(err), "error"))
                flag = None
            cleaned[field] = FLAG_DEFAULTS[field] if flag is None else flag
            continue
        value = clean_text(raw)
        if value is None:
            cleaned[field] = None
            continue
        if field in PHONE_FIELDS:
            normal = normalise_phone(value, region)
            if normal is None and holds_card_number(value):  # a valid phone number is a phone number
                issues.append(FieldIssue(field, mask_cards(value), CARD_ERROR, "error"))
            elif normal is None:
                issues.append(FieldIssue(field, value, phone_warning(value, region), "warning"))
            cleaned[field] = normal or value
            continue
        cleaned[field] = _text_field(field, value, region, stored, issues)
    return cleaned, issues


def _text_field(field: str, value: str, region: str | None, stored: Mapping[str, object] | None,
                issues: list[FieldIssue]) -> str:
    """A text field's value to store (`clean_person`), its issues added to `issues`."""
    if field not in CARD_EXEMPT_FIELDS and holds_card_number(value):
        issues.append(FieldIssue(field, mask_cards(value), CARD_ERROR, "error"))
    elif field == "vat_id":
        value = _vat(value, region, stored, issues)
    if field == "email":
        value, error, warning = check_email(value)
        if error or warning:
            issues.append(FieldIssue(field, value, error or warning or "", "error" if error else "warning"))
    return value


def _vat(value: str, region: str | None, stored: Mapping[str, object] | None, issues: list[FieldIssue]) -> str:
    """The VAT id to store. One stored before VAT ids were checked is judged only when it
    changes: kept unchanged it is left as it was, with a warning, so that it does not
    stop an edit of the record's other fields."""
    verdict = clean_vat(value, region)
    if verdict.problem is None or verdict.severity is None:
        return verdict.value
    old = stored.get("vat_id") if stored is not None else None
    if verdict.severity == "error" and isinstance(old, str) and vat_compact(old) == vat_compact(value):
        issues.append(FieldIssue("vat_id", old, f"{verdict.problem}; kept as stored until it is changed", "warning"))
        return old
    issues.append(FieldIssue("vat_id", verdict.value, verdict.problem, verdict.severity))
    return verdict.value


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


# The fields that name one person or company alone → the index each is found in
# (a mobile number is found as a phone).
IDENTITY_FIELDS = {"email": "email", "phone": "phone", "mobile": "phone", "vat_id": "vat_id"}


def identity_keys(record: Mapping[str, object]) -> list[tuple[str, str]]:
    """(index field, value) of what names this person or company alone: its email, its
    phones in E.164 and its VAT id. A phone kept as typed ("0", "n/a") names nobody."""
    keys = []
    for field, index in IDENTITY_FIELDS.items():
        value = record.get(field)
        if isinstance(value, str) and value and (index != "phone" or value.startswith("+")):
            keys.append((index, value))
    return keys


def errors_of(issues: Iterable[FieldIssue]) -> list[FieldIssue]:
    return [i for i in issues if i.severity == "error"]
