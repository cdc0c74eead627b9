"""The row-wise rules (validation, phones) and the column-wise ones (validation_frame,
phones_frame) must agree on any record: a bulk import and a form save of the same
values store the same values and raise the same issues. The row-wise path is the reference."""
from __future__ import annotations

import random
from typing import Any

import phonenumbers
import polars as pl
from faker import Faker
from hypothesis import example, given, settings
from hypothesis import strategies as st
from international import LOCALES, OTHER_NAMES

from store.model import CUSTOMER_FIELDS
from store.rules.phones import normalise_phone
from store.rules.phones_frame import normalise_column
from store.rules.validation import clean_person, record_issues
from store.rules.validation_frame import clean_frame, frame_from_records


def _pools(per_locale: int = 25, seed: int = 26) -> dict[str, list[str]]:
    """Realistic values of the countries the product meets, built once (Faker is slow per call)."""
    rnd = random.Random(seed)
    pools: dict[str, list[str]] = {key: [] for key in ("name", "company", "email", "phone", "postcode", "street", "city")}
    for i, (locale, region, country) in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed + i)
        for _ in range(per_locale):
            pools["name"] += [fake.first_name(), fake.last_name()]
            pools["company"].append(fake.company())
            pools["email"] += [fake.email(), fake.email().upper(), f"{fake.user_name()}@{fake.domain_name()}"]
            pools["postcode"].append(fake.postcode())
            pools["street"].append(fake.street_address())
            pools["city"].append(fake.city())
            pools["phone"] += _phone_forms(fake.phone_number(), region, rnd)
        pools.setdefault("country", []).extend((country, *OTHER_NAMES[region]))
    return pools


def _phone_forms(typed: str, region: str, rnd: random.Random) -> list[str]:
    """The number as Faker typed it, and national, international, E.164 and 00-prefixed forms of it."""
    forms = [typed]
    try:
        number = phonenumbers.parse(typed, region)
    except phonenumbers.NumberParseException:
        return forms
    for style in (phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                  phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.RFC3966):
        forms.append(phonenumbers.format_number(number, style))
    forms.append("00" + forms[-2][1:])
    forms.append(forms[1].replace(" ", rnd.choice(("-", ".", "/", "\u00a0"))))
    return forms


POOLS = _pools()
REGIONS = (None, "DE", "TR", "FR", "NL", "ES", "GB", "US", "BR", "AR", "IT", "CH", "AT", "IN")
# Whitespace and controls that sneak into files: Python and polars may not agree on which is whitespace.
ODD = (" ", "\t", "\n", "\r", "\u00a0", "\u2003", "\u3000", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\u200b",
       "\ufeff", "\x00", "\x1b", "\u2028")

odd_space = st.text(st.sampled_from(ODD), max_size=3)


def _messy(values: list[str]) -> st.SearchStrategy[str]:
    """A realistic value, now and then wrapped or split by odd whitespace."""
    plain = st.sampled_from(values)
    wrapped = st.builds(lambda a, v, b: a + v + b, odd_space, plain, odd_space)
    return st.one_of(plain, wrapped)


def _field(values: list[str]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.just(""), odd_space, _messy(values), st.text(max_size=30))


card_like = st.sampled_from(("4111 1111 1111 1111", "5500-0000-0000-0004", "4111111111111111", "378282246310005"))
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "first_name": _field(POOLS["name"]), "last_name": _field(POOLS["name"]), "company": _field(POOLS["company"]),
    "email": _field(POOLS["email"]), "phone": st.one_of(_field(POOLS["phone"]), card_like),
    "mobile": _field(POOLS["phone"]), "street": _field(POOLS["street"]), "postcode": _field(POOLS["postcode"]),
    "city": _field(POOLS["city"]), "country": _field(POOLS["country"] + [r for r in REGIONS if r]),
    "vat_id": _field(["DE136695976", "FR40303265045", "NL004495445B01", "ESX1234567L", "GB980780684"]),
    "external_id": _field(["4111111111111111", "K-1001", "0000123"]),
    "notes": st.one_of(_field(POOLS["street"]), card_like.map(lambda c: f"card {c}")),
    "tags": st.one_of(_field(["vip", "vip; newsletter,vip", " a , b ;; a"]),
                      st.lists(st.one_of(st.text(max_size=8), st.sampled_from(("vip", " b ", "a"))), max_size=4)),
    **dict.fromkeys(("obfuscate_enabled", "email_marketing", "sms_marketing"),
                    st.one_of(st.none(), st.booleans(), st.sampled_from(("yes", " Nein ", "evet", "x", "-", "", "hayır", "nee")),
                              st.text(max_size=6))),
}
records = st.fixed_dictionaries({}, optional=FIELD_VALUES)


def _row_wise(record: dict[str, Any], kind: str | None, allow_private: bool, country: str | None):
    cleaned, issues = clean_person(record, fields=CUSTOMER_FIELDS, default_country=country)
    issues += record_issues(cleaned, kind=kind, allow_private=allow_private)
    return cleaned, sorted((i.field, i.message, i.severity, i.value) for i in issues)


# What the property found, each once a wrong value or a wrong refusal of the column-wise path:
# \x1f is whitespace to str.strip() but not to polars (a name of one \x1f passed a bulk import);
@example([{"first_name": "\x1f", "email": "ada@example.com"}], "private", True, None)
# an empty yes/no cell was refused in bulk, the default (yes) one by one;
@example([{"first_name": "Ada", "email": "ada@example.com", "obfuscate_enabled": " "}], "private", True, "DE")
# (a marketing answer left empty stays not asked, and a refused one is shown in one line, both ways)
@example([{"first_name": "Ada", "email": "ada@example.com", "email_marketing": " ", "sms_marketing": "ja\nno"}], "private",
         True, None)
# a Country cell naming no country read the phones in no region, not in the default country.
@example([{"first_name": "Ada", "country": "Atlantis", "phone": "030 1234567"}], "private", True, "DE")
# a tag holding a comma was kept one by one and split in bulk (a file's tags are split so).
@example([{"first_name": None, "tags": [","]}], "private", False, None)
@example([{"first_name": "Ada", "email": "ada@example.com", "tags": ["a,b", "c; a"]}], "private", True, None)
# a tag of whitespace alone (a Unicode line break, a space between separators) was kept empty in bulk:
# polars' list.eval filtered on the element before it was stripped.
@example([{"tags": ["", "\x85", ""]}], None, True, None)
@example([{"first_name": "Ada", "email": "ada@example.com", "tags": "a, ,b;\u3000;"}], "private", True, None)
@settings(max_examples=120, deadline=None)
@given(st.lists(records, min_size=1, max_size=4), st.sampled_from(("private", "corporate", None)), st.booleans(),
       st.sampled_from(REGIONS))
def test_both_paths_clean_and_judge_any_records_alike(rows, kind, allow_private, country):
    frame, issues = clean_frame(frame_from_records(rows, CUSTOMER_FIELDS), kind=kind, allow_private=allow_private,
                                default_country=country)
    cleaned_rows = frame.to_dicts()
    for index, record in enumerate(rows):
        cleaned, expected = _row_wise(record, kind, allow_private, country)
        got = sorted((i["field"], i["message"], i["severity"], i["value"])
                     for i in issues.filter(issues["index"] == index).to_dicts())
        assert got == expected, f"record {index}: {record!r}"
        for field in CUSTOMER_FIELDS:
            assert cleaned_rows[index][field] == cleaned[field], f"record {index} field {field}: {record!r}"


phones = st.one_of(_messy(POOLS["phone"]), st.text(st.sampled_from("0123456789 +-./()\u00a0x"), max_size=20),
                   st.text(max_size=20))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), phones), st.sampled_from(REGIONS)), min_size=1, max_size=8))
def test_a_column_of_phones_becomes_what_each_phone_becomes(pairs):
    values, regions = zip(*pairs, strict=True)
    column = normalise_column(pl.Series(values, dtype=pl.String), pl.Series(regions, dtype=pl.String)).to_list()
    assert column == [None if v is None else normalise_phone(v, r) for v, r in pairs]



def test_both_paths_strip_what_python_strips():
    import sys

    from store.rules.validation import WHITESPACE
    assert set(WHITESPACE) == {chr(c) for c in range(sys.maxunicode + 1) if not chr(c).strip()}
