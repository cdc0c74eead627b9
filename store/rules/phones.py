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
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from phonenumbers import PhoneMetadata

_FORMATTING = re.compile(r"[\s.\-/()\u00a0]")
# Most numbers are fixed lines or mobiles: asked first, a valid number is known sooner.
_TYPES = ("fixed_line", "mobile", "premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
          "pager", "uan", "voicemail")

_Desc = tuple[frozenset[int], Callable[[str], object]]
Raw = tuple[tuple[int, ...], str]  # (possible lengths, national number pattern)


def _compiled(raw: Raw | None) -> _Desc | None:
    return None if raw is None else (frozenset(raw[0]), re.compile(raw[1]).fullmatch)


def _raw(number_desc: object) -> Raw | None:
    pattern = getattr(number_desc, "national_number_pattern", None)
    return None if pattern is None else (tuple(number_desc.possible_length), pattern)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Patterns:
    """A region's numbering rules as text (the column-wise path, `phones_frame`, runs them in polars)."""

    general: Raw | None
    types: list[Raw]
    national_prefix: str | None
    international_prefix: str | None
    leading: str | None


class _Region:
    """What deciding a number of one region needs, compiled once."""

    def __init__(self, meta: PhoneMetadata) -> None:
        assert meta.country_code is not None, "every region phonenumbers knows has a calling code"
        self.code: int = meta.country_code
        prefix = meta.national_prefix_for_parsing or None
        # The rules as text (the column-wise path, `phones_frame`, runs them in polars) …
        self.patterns = Patterns(general=_raw(meta.general_desc),
                                 types=[d for d in (_raw(getattr(meta, t, None)) for t in _TYPES) if d is not None],
                                 national_prefix=prefix, international_prefix=meta.international_prefix or None,
                                 leading=meta.leading_digits or None)
        # … and compiled, for one number at a time.
        self.general = _compiled(self.patterns.general)
        self.types = [desc for desc in map(_compiled, self.patterns.types) if desc is not None]
        self.leading = re.compile(meta.leading_digits).match if meta.leading_digits else None
        self.national_prefix = re.compile(prefix).match if prefix else None
        # A rule that rewrites what the prefix captured (AR, BR, MX …) is left to phonenumbers.
        self.transforms = bool(meta.national_prefix_transform_rule)
        self.international_prefix = re.compile(meta.international_prefix).match if meta.international_prefix else None
        # "00" starts an international number only where it is the region's dialling-out prefix (not in the US).
        self.idd_00 = bool(meta.international_prefix and re.fullmatch(meta.international_prefix, "00"))

    def viable(self, digits: str) -> bool:
        return self.general is not None and self.general[1](digits) is not None

    def valid(self, nsn: str) -> bool:
        """phonenumbers' `_number_type_helper(nsn) != UNKNOWN`."""
        if self.general is None:
            return False
        size = len(nsn)
        lengths, match = self.general
        if (lengths and size not in lengths) or not match(nsn):
            return False
        return any((not sizes or size in sizes) and fits(nsn) for sizes, fits in self.types)

    def without_national_prefix(self, digits: str) -> str | None:
        """phonenumbers' `_maybe_strip_national_prefix_carrier_code`, or None where it would
        transform the number (left to phonenumbers)."""
        found = self.national_prefix(digits) if self.national_prefix else None
        if found is None:
            return digits
        if self.transforms and found.groups() and found.groups()[-1] is not None:
            return None
        rest = digits[found.end():]
        return digits if self.viable(digits) and not self.viable(rest) else rest


@cache
def _region(region: str) -> _Region | None:
    from phonenumbers import PhoneMetadata  # (a store opens without the library)

    meta = PhoneMetadata.metadata_for_region(region)
    return _Region(meta) if meta is not None else None


def _valid_for_code(code: int, nsn: str) -> bool:
    """phonenumbers' is_valid_number for +code nsn: the region is the first of the
    code's regions whose leading digits match, else the first the number is valid in."""
    import phonenumbers

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


# What the quick path knows of a number: its E.164, that it is not valid, or nothing.
Decision = tuple[bool, str | None]  # (decided, E.164 or None when decided not valid)
UNDECIDED: Decision = (False, None)


def quick_e164(value: str, region: str | None) -> str | None:
    """The E.164 of a plain-shaped valid number, or None (not valid, or not plain)."""
    return decide(value, region)[1]


def decide(value: str, region: str | None) -> Decision:
    """Decide a plain-shaped number as phonenumbers would, or leave it undecided."""
    import phonenumbers

    compact = _FORMATTING.sub("", value)
    numbering = _region(region) if region else None
    if compact.startswith("+"):
        digits, international = compact[1:], True
    elif compact.startswith("00") and numbering is not None and numbering.idd_00:
        digits, international = compact[2:], True
    else:
        digits, international = compact, False
    if not (digits.isascii() and digits.isdigit()):
        return UNDECIDED
    if not international:
        if numbering is None or (numbering.international_prefix and numbering.international_prefix(digits)) \
                or digits.startswith(str(numbering.code)):
            return UNDECIDED  # phonenumbers may read it as international, or find the calling code in it
        return _decide_national(numbering, numbering.code, digits)
    if digits.startswith("0"):
        return UNDECIDED  # no calling code starts with 0
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return _decide_national(_region(phonenumbers.region_code_for_country_code(code)), code, digits[size:])
    return UNDECIDED


def _decide_national(numbering: _Region | None, code: int, digits: str) -> Decision:
    """+code and the national number, its national prefix dropped as phonenumbers drops it."""
    if numbering is None or not 2 <= len(digits) <= 17:
        return UNDECIDED  # non-geographic codes, and lengths phonenumbers refuses before judging
    nsn = numbering.without_national_prefix(digits)
    if nsn is None:
        return UNDECIDED
    return True, (f"+{code}{nsn}" if _valid_for_code(code, nsn) else None)


def _library_e164(value: str, region: str | None) -> str | None:
    import phonenumbers

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
    decided, e164 = decide(value, region)
    return e164 if decided else _library_e164(value, region)
