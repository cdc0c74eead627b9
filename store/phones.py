"""Phone numbers in E.164, and only when the typed digits and the region give it (SPEC §3).

`normalise_phone(value, region)` answers what phonenumbers answers with
`parse(value, region)` and `is_valid_number`: the E.164 of a valid number, or
None. Those two calls cost ~80 µs a number; the common shapes (digits with
spaces, dots, dashes, slashes or brackets; international with + or the
region's 00, or national with or without the trunk prefix) are decided here on phonenumbers' own metadata in a few µs, and
every other shape, and every number that shape does not make valid, goes
through phonenumbers itself. A test holds both paths to the same answers.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

import phonenumbers
from phonenumbers import PhoneMetadata

_FORMATTING = re.compile(r"[\s.\-/()\u00a0]")
# Most numbers are fixed lines or mobiles: asked first, a valid number is known sooner.
_TYPES = ("fixed_line", "mobile", "premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
          "pager", "uan", "voicemail")

_Desc = tuple[frozenset[int], Callable[[str], object]]


def _desc(number_desc: object) -> _Desc | None:
    pattern = getattr(number_desc, "national_number_pattern", None)
    if pattern is None:
        return None
    return frozenset(number_desc.possible_length), re.compile(pattern).fullmatch  # type: ignore[attr-defined]


class _Region:
    """What deciding a number of one region needs, compiled once."""

    def __init__(self, meta: PhoneMetadata) -> None:
        self.code: int = meta.country_code
        self.trunk: str | None = meta.national_prefix
        # Regions that strip more than the plain trunk prefix (AR, BR, MX …) go through phonenumbers.
        self.simple = meta.national_prefix_for_parsing in (None, meta.national_prefix) and not meta.national_prefix_transform_rule
        self.general = _desc(meta.general_desc)
        self.types = [d for d in (_desc(getattr(meta, t, None)) for t in _TYPES) if d is not None]
        self.leading = re.compile(meta.leading_digits).match if meta.leading_digits else None
        # "00" starts an international number only where it is the region's dialling-out prefix (not in the US).
        self.idd_00 = bool(meta.international_prefix and re.fullmatch(meta.international_prefix, "00"))

    def valid(self, nsn: str) -> bool:
        """phonenumbers' `_number_type_helper(nsn) != UNKNOWN`."""
        if self.general is None:
            return False
        size = len(nsn)
        lengths, match = self.general
        if lengths and size not in lengths or not match(nsn):
            return False
        return any((not lengths or size in lengths) and match(nsn) for lengths, match in self.types)


@lru_cache(maxsize=None)
def _region(region: str) -> _Region | None:
    meta = PhoneMetadata.metadata_for_region(region)
    return _Region(meta) if meta is not None else None


def _valid_for_code(code: int, nsn: str) -> bool:
    """phonenumbers' is_valid_number for +code nsn: the region is the first of the
    code's regions whose leading digits match, else the first the number is valid in."""
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ()):
        numbering = _region(region)
        if numbering is None:
            return False
        if numbering.leading is not None:
            if numbering.leading(nsn):
                return numbering.valid(nsn)
        elif numbering.valid(nsn):
            return True
    return False


def quick_e164(value: str, region: str | None) -> str | None:
    """The E.164 of a plain-shaped valid number, or None to let phonenumbers decide."""
    compact = _FORMATTING.sub("", value)
    numbering = _region(region) if region else None
    if compact.startswith("+"):
        digits, international = compact[1:], True
    elif compact.startswith("00") and numbering is not None and numbering.idd_00:
        digits, international = compact[2:], True
    else:
        digits, international = compact, False
    if not (digits.isascii() and digits.isdigit()):
        return None
    if not international:
        return _national_e164(numbering, digits) if numbering is not None else None
    if digits.startswith("0"):
        return None  # no calling code starts with 0
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return _national_e164(_region(phonenumbers.region_code_for_country_code(code)), digits[size:])
    return None


def _national_e164(numbering: _Region | None, digits: str) -> str | None:
    """+code digits, the trunk prefix dropped, when that is a valid number."""
    if numbering is None or not numbering.simple:
        return None
    if numbering.trunk and digits.startswith(numbering.trunk):
        digits = digits[len(numbering.trunk):]
    return f"+{numbering.code}{digits}" if _valid_for_code(numbering.code, digits) else None


def _library_e164(value: str, region: str | None) -> str | None:
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    # E.164 has no room for an extension; keep it rather than lose it.
    return f"{e164} x{parsed.extension}" if parsed.extension else e164


@lru_cache(maxsize=262144)
def normalise_phone(value: str, region: str | None) -> str | None:
    """E.164 of `value` when it is a valid number, read in `region` unless it
    carries its own +code; None when it is not (the caller keeps it as typed)."""
    return quick_e164(value, region) or _library_e164(value, region)
