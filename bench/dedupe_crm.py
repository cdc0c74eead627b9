"""The multi-country CRM set of the matcher's benchmark (bench/dedupe_bench.py): people and
companies in six countries generated with Faker (fixed seed), written again as people do
(typos, transliteration, swapped names, other phone forms, new emails, left-out fields,
abbreviated streets, capitals, other legal forms) and with household members (hard
negatives); the truth known."""
from __future__ import annotations

import random

import polars as pl
from dedupe_data import FIELDS, Truth, pairs_of

LOCALES = (("de_DE", "DE"), ("tr_TR", "TR"), ("fr_FR", "FR"), ("nl_NL", "NL"), ("es_ES", "ES"), ("en_GB", "GB"))
FREE_MAIL = {"DE": ("gmx.de", "web.de", "t-online.de", "gmail.com"), "TR": ("gmail.com", "hotmail.com", "yandex.com.tr"),
             "FR": ("orange.fr", "free.fr", "gmail.com", "laposte.net"), "NL": ("ziggo.nl", "kpnmail.nl", "gmail.com"),
             "ES": ("gmail.com", "hotmail.es", "yahoo.es"), "GB": ("gmail.com", "btinternet.com", "outlook.com")}
LEGAL = {"DE": (("GmbH", "GmbH & Co. KG", "Gmbh"), ("AG", "AG")),
         "TR": (("A.Ş.", "AŞ", "Anonim Şirketi"), ("Ltd. Şti.", "Limited Şirketi")),
         "FR": (("SARL", "S.A.R.L."), ("SA", "S.A.")), "NL": (("B.V.", "BV"), ("N.V.", "NV")),
         "ES": (("S.L.", "SL"), ("S.A.", "SA")), "GB": (("Ltd", "Limited", "Ltd."), ("PLC", "plc"))}
TRANSLIT = {"ü": "ue", "ö": "oe", "ä": "ae", "ß": "ss", "ş": "s", "ç": "c", "ğ": "g", "ı": "i", "İ": "I", "é": "e",
            "è": "e", "ñ": "n", "á": "a", "í": "i", "ó": "o", "ú": "u", "Ü": "Ue", "Ö": "Oe", "Ş": "S", "Ç": "C"}


def _ascii(text: str, german: bool) -> str:
    """How a keyboard without the letters writes it (ü as ue in German, else u)."""
    table = TRANSLIT if german else {k: v[0] if k in "üöäÜÖ" else v for k, v in TRANSLIT.items()}
    return "".join(table.get(ch, ch) for ch in text)


def _local(text: str, german: bool) -> str:
    """An email's local part from a name."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", _ascii(text, german).lower())
    kept = "".join(ch for ch in plain if ch.isascii() and (ch.isalnum() or ch == "."))
    return ".".join(part for part in kept.split(".") if part) or "x"


def _typo(text: str, rnd: random.Random) -> str:
    if len(text) < 4:
        return text
    i = rnd.randrange(1, len(text) - 1)
    kind = rnd.randrange(3)
    if kind == 0:
        return text[:i] + text[i + 1:]
    if kind == 1:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text[:i] + rnd.choice("aeinorst") + text[i + 1:]


def _phone(rnd: random.Random, region: str, mobile: bool) -> tuple[str, str]:
    """(international form, national form) of a valid number."""
    import phonenumbers
    from phonenumbers import PhoneNumberType

    kind = PhoneNumberType.MOBILE if mobile else PhoneNumberType.FIXED_LINE
    example = phonenumbers.example_number_for_type(region, kind)
    for _ in range(20):
        digits = str(example.national_number)
        varied = digits[:3] + "".join(rnd.choice("0123456789") for _ in digits[3:])
        number = phonenumbers.parse(varied, region)
        if phonenumbers.is_valid_number(number):
            break
    else:
        number = example
    return (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))


def _person(fakers: dict[str, object], rnd: random.Random) -> dict[str, str]:
    locale, region = rnd.choice(LOCALES)
    fake = fakers[locale]
    first, last = fake.first_name(), fake.last_name()  # type: ignore[attr-defined]
    local = _local(f"{first}.{last}", region == "DE")
    person = {"first_name": first, "last_name": last, "email": f"{local}{rnd.randrange(100)}@{rnd.choice(FREE_MAIL[region])}",
              "street": fake.street_address(), "postcode": fake.postcode(), "city": fake.city(),  # type: ignore[attr-defined]
              "country": region, "_region": region}
    person["mobile"] = _phone(rnd, region, True)[rnd.randrange(2)]
    if rnd.random() < 0.6:
        person["phone"] = _phone(rnd, region, False)[rnd.randrange(2)]
    if rnd.random() < 0.3:
        base = fake.last_name() + " " + rnd.choice(("Handel", "Bau", "Consult", "Technik", "Logistik", "Foods", "Tekstil"))  # type: ignore[attr-defined]
        person["_company"] = base
        person["company"] = f"{base} {rnd.choice(LEGAL[region])[0]}"
    return person


def _retype_names(copy: dict[str, str], rnd: random.Random) -> None:
    field = rnd.choice(("first_name", "last_name"))
    copy[field] = _typo(copy[field], rnd)


def _transliterate(copy: dict[str, str], rnd: random.Random) -> None:
    for f in ("first_name", "last_name", "street", "city"):
        if f in copy:
            copy[f] = _ascii(copy[f], copy["_region"] == "DE")


def _swap(copy: dict[str, str], rnd: random.Random) -> None:
    copy["first_name"], copy["last_name"] = copy["last_name"], copy["first_name"]


def _other_phone_form(copy: dict[str, str], rnd: random.Random) -> None:
    for f in ("phone", "mobile"):
        if f in copy:
            copy[f] = copy[f].replace(" ", "") if copy[f].startswith("+") else copy[f].replace(" ", "-")


def _new_email(copy: dict[str, str], rnd: random.Random) -> None:
    local = _local(copy["first_name"][:1] + copy["last_name"], copy["_region"] == "DE")
    copy["email"] = f"{local}@{rnd.choice(FREE_MAIL[copy['_region']])}"


def _leave_out(copy: dict[str, str], rnd: random.Random) -> None:
    for f in rnd.sample(("email", "phone", "street", "postcode", "city"), k=rnd.randint(1, 2)):
        if f != "email" or "mobile" in copy:
            copy.pop(f, None)


def _abbreviate_street(copy: dict[str, str], rnd: random.Random) -> None:
    if "street" in copy:
        copy["street"] = copy["street"].replace("straße", "str.").replace("Straße", "Str.").replace("Street", "St")


def _shout(copy: dict[str, str], rnd: random.Random) -> None:
    copy["last_name"] = copy["last_name"].upper()
    if "email" in copy:
        copy["email"] = copy["email"].upper()


def _other_legal_form(copy: dict[str, str], rnd: random.Random) -> None:
    if "_company" in copy:
        copy["company"] = f"{copy['_company']} {rnd.choice(LEGAL[copy['_region']])[-1]}"


EDITS = (_retype_names, _retype_names, _transliterate, _swap, _other_phone_form, _new_email, _leave_out,
         _abbreviate_street, _shout, _other_legal_form)


def _duplicate(person: dict[str, str], rnd: random.Random) -> dict[str, str]:
    """The same person written again: one to three of typos, transliteration, swapped names,
    the other phone form, a new email, fields left out, another spelling of the legal form."""
    copy = dict(person)
    for edit in rnd.sample(EDITS, k=rnd.randint(1, 3)):
        edit(copy, rnd)
    return copy


def _household_member(person: dict[str, str], fakers: dict[str, object], rnd: random.Random) -> dict[str, str]:
    """Same surname, address and landline; own first name, email and mobile."""
    fake = fakers[next(loc for loc, reg in LOCALES if reg == person["_region"])]
    first = fake.first_name()  # type: ignore[attr-defined]
    while first == person["first_name"]:
        first = fake.first_name()  # type: ignore[attr-defined]
    local = _local(f"{first}.{person['last_name']}", person["_region"] == "DE")
    member = {k: v for k, v in person.items() if k not in ("company", "_company")}
    member.update(first_name=first, email=f"{local}@{rnd.choice(FREE_MAIL[person['_region']])}",
                  mobile=_phone(rnd, person["_region"], True)[0])
    member.setdefault("phone", _phone(rnd, person["_region"], False)[0])
    person.setdefault("phone", member["phone"])
    return member


def crm_set(entities: int, seed: int = 25) -> tuple[pl.DataFrame, Truth]:
    """Records of `entities` people and companies in six countries, 30% written again one to
    three times, 10% with a household member (a hard negative); the true pairs."""
    from faker import Faker

    fakers: dict[str, object] = {}
    for locale, _ in LOCALES:
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(seed)  # type: ignore[attr-defined]
    rnd = random.Random(seed)
    rows: list[dict[str, str]] = []
    for entity in range(entities):
        person = _person(fakers, rnd)
        written = [person]
        if rnd.random() < 0.1:
            member = _household_member(person, fakers, rnd)
            rows.append({**member, "_entity": f"{entity}-h"})
        if rnd.random() < 0.3:
            written += [_duplicate(person, rnd) for _ in range(rnd.choice((1, 1, 1, 2)))]
        rows += [{**r, "_entity": str(entity)} for r in written]
    rnd.shuffle(rows)
    frame = pl.DataFrame([{**{f: r.get(f) for f in FIELDS}, "rid": f"r{i}", "_entity": r["_entity"]}
                          for i, r in enumerate(rows)], schema={**dict.fromkeys(FIELDS, pl.String), "rid": pl.String,
                                                                 "_entity": pl.String})
    return frame.drop("_entity"), pairs_of(frame["_entity"].to_list(), frame["rid"].to_list())
