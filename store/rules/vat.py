"""VAT ids: cleaned to their compact form with the country prefix, and checked by
python-stdnum (the library Odoo checks them with).

`de 136 695 976` is stored `DE136695976`; a number typed without its prefix takes
the record's country's (its own Country, else the default country, as its phones
do): `123456789B01` of a Dutch record is `NL123456789B01`. Greece's prefix is `EL`
(`GR…` is written `EL…`); Northern Ireland's `XI`, and `EU…` (a non-EU company's
OSS number) is checked as the EU registers it. Norway's number is stored with its
`MVA` suffix and a Swiss UID with `MWST` (its TVA/IVA kept as typed), added when left out.

Refused, with one line naming the VAT id: a wrong check digit, a wrong length or
format, a country code alone (`DE`), a number with no prefix when no country is
known, characters no VAT id has.

Countries stdnum has no VAT rule for (the US, Japan's has none under that name…):
the id is stored compacted as typed, prefix included, with a warning that it could
not be checked, because refusing every such customer would stop a shop selling
abroad, and a wrong digit there is no worse than before. It must still look like
an id: a known country's prefix and 2-18 letters or digits holding a digit.
"""
from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from store.base.text import printable
from store.model import Severity
from store.rules.regions import ISO_REGIONS

if TYPE_CHECKING:
    from stdnum.exceptions import ValidationError
    from stdnum.util import NumberValidationModule

FIELD = "vat_id"
# What people write between a VAT id's characters (any whitespace; polars' own class in keys).
SEPARATORS = r"[\s.\-/,:_]"
_SEPARATORS_RE = re.compile(SEPARATORS)
_ID = re.compile(r"[A-Z0-9]+")
_UNCHECKED = re.compile(r"(?=.*[0-9])[A-Z0-9]{2,18}")
_EU_MODULE = {"EL": "gr", "XI": "gb"}  # the prefixes that are not their country's stdnum module
_SUFFIXES = {"NO": "MVA", "CH": "MWST"}  # the part of the id people leave out


@cache
def _eu_prefixes() -> frozenset[str]:
    """The EU members' prefixes, and those that are not an ISO country's: Greece's, Northern
    Ireland's, the EU's OSS scheme. (stdnum is imported when a VAT id is first checked:
    ~7 ms of every command's start otherwise.)"""
    from stdnum.eu import vat as eu_vat

    return frozenset(code.upper() for code in eu_vat.MEMBER_STATES) | {"EL", "XI", "EU"}


@cache
def _prefixes() -> frozenset[str]:
    return ISO_REGIONS | _eu_prefixes()


class VatVerdict(NamedTuple):
    """A VAT id as stored (compact with its prefix; as typed, compacted, when refused) and
    what is wrong with it, if anything."""

    value: str
    problem: str | None = None
    severity: Severity | None = None


def compact(text: str) -> str:
    """The id without separators, in capitals, Greece's prefix as `EL`: the form two ids
    are compared in (a number without its prefix stays without)."""
    text = _SEPARATORS_RE.sub("", text).upper()
    return "EL" + text[2:] if text.startswith("GR") else text


def prefix_of(region: str | None) -> str | None:
    """The VAT prefix of an ISO country (`GR` → `EL`), or None for none."""
    if region is None:
        return None
    return "EL" if region == "GR" else region


def clean_vat(typed: str, region: str | None) -> VatVerdict:
    """The VAT id to store for `typed` of a record in `region` (ISO alpha-2, or None when no
    country is known), and its problem: an error, or a warning when no rule can check it."""
    text = compact(typed)
    shown = printable(text or typed)
    if not _ID.fullmatch(text):
        return VatVerdict(shown, f"VAT id '{shown}' is not a VAT id: only letters and digits make one", "error")
    prefixes = _prefixes()
    if text in prefixes:
        return VatVerdict(text, f"VAT id '{text}' is a country code alone: the number after it is missing", "error")
    prefix = text[:2] if text[:2] in prefixes else prefix_of(region)
    if prefix is None:
        return VatVerdict(text, f"VAT id '{text}' has no country prefix and no country is known for it "
                                "(a Country, --country or the default country)", "error")
    prefixed = text if text.startswith(prefix) else prefix + text
    module = _module(prefix)
    if module is None:
        if _UNCHECKED.fullmatch(prefixed[2:]):
            return VatVerdict(prefixed, f"VAT id '{prefixed}' cannot be checked: no rule is known for {prefix}; "
                                        "kept as typed", "warning")
        return VatVerdict(prefixed, f"VAT id '{text}' is not a VAT id of {prefix}: the format is wrong", "error")
    checked, failure = _checked(prefixed, prefix, module)
    if failure is None:
        return VatVerdict(checked)
    return VatVerdict(prefixed, f"VAT id '{text}' is not a valid VAT id of {prefix}: {_reason(failure)}", "error")


def _checked(text: str, prefix: str, module: NumberValidationModule) -> tuple[str, ValidationError | None]:
    """The id checked by its country's rule, tried as written, without its prefix (modules
    such as Turkey's know none) and with its usual suffix; the most telling failure said."""
    tries = [text, text[2:]]
    suffix = _SUFFIXES.get(prefix)
    if suffix and not text.endswith(suffix):
        tries.append(text + suffix)
    invalid = _errors()[0]
    failure: ValidationError | None = None
    for attempt in tries:
        try:
            valid = str(module.validate(attempt))
        except invalid as err:
            if failure is None or _rank(err) > _rank(failure):
                failure = err
            continue
        return (valid if valid.startswith(prefix) else prefix + valid), None
    return text, failure


@cache
def _errors() -> tuple[type[ValidationError], type[ValidationError], type[ValidationError]]:
    """stdnum's (any failure, a wrong check digit, a wrong length): imported with the first VAT
    id checked, once (an import statement per id cost ~20 ms of 33,000 ids)."""
    from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError

    return ValidationError, InvalidChecksum, InvalidLength


def _rank(err: ValidationError) -> int:
    _invalid, checksum, length = _errors()
    return 2 if isinstance(err, checksum) else 1 if isinstance(err, length) else 0


def _reason(err: ValidationError | None) -> str:
    return ("the format is wrong", "the length is wrong", "the check digit is wrong")[0 if err is None else _rank(err)]


@cache
def _module(prefix: str) -> NumberValidationModule | None:
    """The stdnum rule for a prefix: the EU's for its members (Greece's `EL`, `XI`, `EU`),
    else the country's own VAT module, if stdnum has one."""
    from stdnum import get_cc_module
    from stdnum.eu import oss

    if prefix in _eu_prefixes():
        # The member state's own rule, as stdnum.eu.vat picks it: its validate cleans the text
        # once more before calling that rule, which doubled the time of a file's VAT ids.
        return oss if prefix == "EU" else get_cc_module(_EU_MODULE.get(prefix, prefix.lower()), "vat")
    try:
        return get_cc_module(prefix.lower(), "vat")
    except ImportError:
        return None
