"""Identifying fields: the values an import or a duplicate search keys on, and
when two of them count as the same."""
from __future__ import annotations

from collections.abc import Callable

from store.rules.emails import email_key

KEY_FIELDS = ("email", "number", "external_id", "vat_id", "phone")
_SEPARATORS = str.maketrans("", "", " \t.-")


def _code_key(text: str) -> str:
    return text.translate(_SEPARATORS).upper()


def _plain_key(text: str) -> str:
    return text.strip()


# Document field → (key, normaliser); a mobile number is found as a phone.
KEYED: dict[str, tuple[str, Callable[[str], str]]] = {
    "email": ("email", email_key), "number": ("number", _code_key), "vat_id": ("vat_id", _code_key),
    "external_id": ("external_id", _plain_key), "phone": ("phone", _plain_key), "mobile": ("phone", _plain_key),
}


def normalise_key(field: str, value: object) -> str | None:
    """The form under which two values of an identifying field count as equal."""
    if value is None:
        return None
    key = KEYED[field][1](str(value).strip())
    return key or None
