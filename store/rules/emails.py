"""Email addresses by RFC 5321/6531, as email-validator judges them (no DNS).

Stored lower-cased with the domain in Unicode (what a person reads); matched
on the domain's IDNA form, so `info@müller.de` and `INFO@xn--mller-kva.de` are
one address. Plain ASCII addresses, nearly all of a real file, are judged by
`ASCII_FAST_PATTERN` in polars; anything that pattern does not accept goes
through the library, so it alone decides every address it could refuse.
"""
from __future__ import annotations

import re
from functools import lru_cache

# An ASCII address the library accepts: dot-atom local part of at most 64
# characters, LDH labels, an alphabetic top-level domain. Length of the whole
# and special-use domains (`.test`, `.local` …) are checked beside it.
ASCII_FAST_PATTERN = (
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
MAX_LENGTH = 254
# What the fast path leaves to the library: special-use domains (`.test`, `.local` …) and
# a `--` in the domain (`ab--cd` labels are reserved for IDNA unless `xn--`). The domains are
# email-validator's SPECIAL_USE_DOMAIN_NAMES, copied so that a store opens and a small import
# judges its addresses without importing the library (~20 ms); tests/test_validation.py holds
# the copy to the library's list.
SPECIAL_USE_DOMAINS = ("arpa", "invalid", "local", "localhost", "onion", "test")
LIBRARY_ONLY_PATTERN = r"(?:^|[.@])(?:" + "|".join(map(re.escape, SPECIAL_USE_DOMAINS)) + r")$|@.*--"


def email_error(value: str, reason: str) -> str:
    return f"'{value}' is not a valid email address: {reason[:1].lower()}{reason[1:]}"


def smtputf8_warning(value: str) -> str:
    return f"'{value}' has a non-ASCII local part: delivery needs a mail server that speaks SMTPUTF8"


_ASCII_FAST = re.compile(ASCII_FAST_PATTERN)


_LIBRARY_ONLY = re.compile(LIBRARY_ONLY_PATTERN)


def _plainly_valid(lowered: str) -> bool:
    """The fast path of the column check, for one address (no library call)."""
    return (len(lowered) <= MAX_LENGTH and _ASCII_FAST.match(lowered) is not None
            and _LIBRARY_ONLY.search(lowered) is None)


@lru_cache(maxsize=65536)
def check_email(value: str) -> tuple[str, str | None, str | None]:
    """(the address as stored, error or None, warning or None) for a trimmed address."""
    lowered = value.lower()
    if _plainly_valid(lowered):
        return lowered, None, None
    import email_validator

    try:
        valid = email_validator.validate_email(lowered, check_deliverability=False)
    except email_validator.EmailNotValidError as err:
        return lowered, email_error(lowered, str(err).rstrip(".")), None
    stored = valid.normalized.lower()
    return stored, None, smtputf8_warning(stored) if valid.smtputf8 else None


@lru_cache(maxsize=65536)
def _ascii_domain(domain: str) -> str:
    import idna

    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return domain


def email_key(value: str) -> str:
    """The form two addresses are equal in: lower case, the domain in IDNA form."""
    text = value.strip().lower()
    if text.isascii():
        return text
    local, at, domain = text.rpartition("@")
    return f"{local}{at}{_ascii_domain(domain)}" if at else text
