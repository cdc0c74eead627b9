"""Files as seven countries write them, with the truth known: what each phone
and email must become, built from Faker's locales and checked by phonenumbers."""
from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
from faker import Faker

# (Faker locale, region, how that country's own files name it).
LOCALES = (
    ("de_DE", "DE", "Deutschland"), ("tr_TR", "TR", "Türkiye"), ("fr_FR", "FR", "France"),
    ("nl_NL", "NL", "Nederland"), ("es_ES", "ES", "España"), ("en_GB", "GB", "United Kingdom"),
    ("en_US", "US", "USA"),
)
# Other ways the same countries are written: codes, and names in another language.
OTHER_NAMES = {"DE": ("DE", "Almanya", "Allemagne", "Germany"), "TR": ("TR", "Turkey", "Türkei", "Turquie"),
               "FR": ("FR", "Frankreich", "Fransa"), "NL": ("NL", "Niederlande", "Pays-Bas", "Hollanda"),
               "ES": ("ES", "Spanien", "Spain", "İspanya"), "GB": ("GB", "UK", "Royaume-Uni"),
               "US": ("US", "United States", "Vereinigte Staaten", "Estados Unidos")}
IDN_DOMAINS = ("müller-bäckerei.de", "çiçekçi.com.tr", "café-crème.fr", "señor-pérez.es")


@dataclass
class Person:
    first: str
    last: str
    email: str
    email_truth: str
    phone: str  # as typed in the file
    phone_truth: str | None  # the E.164 it must become, or None: kept as typed
    country: str
    region: str


def _valid_number(fake: Faker, region: str, rnd: random.Random) -> phonenumbers.PhoneNumber:
    """A number valid for `region`: Faker's when it is, else the region's example numbers varied."""
    for _ in range(50):
        try:
            parsed = phonenumbers.parse(fake.phone_number(), region)
        except phonenumbers.NumberParseException:
            continue
        # Faker's locales write some foreign numbers too: only the country's own count.
        if phonenumbers.is_valid_number(parsed) and not parsed.extension and \
                phonenumbers.region_code_for_number(parsed) == region:
            return parsed
    example = phonenumbers.example_number_for_type(region, rnd.choice(
        (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)))
    return example


def _typed(number: phonenumbers.PhoneNumber, rnd: random.Random) -> str:
    """The number as people write it: national mostly, sometimes international, with their separators."""
    style = rnd.random()
    if style < 0.6:
        text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    elif style < 0.85:
        text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    else:
        text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if rnd.random() < 0.3:
        text = text.replace(" ", rnd.choice(("-", ".", "/", " ")))
    return text


def people(count: int, seed: int = 7) -> list[Person]:
    rnd = random.Random(seed)
    fakes = {locale: Faker(locale) for locale, _, _ in LOCALES}
    for i, fake in enumerate(fakes.values()):
        fake.seed_instance(seed + i)
    out = []
    for n in range(count):
        locale, region, name = LOCALES[n % len(LOCALES)]
        fake = fakes[locale]
        number = _valid_number(fake, region, rnd)
        first, last = fake.first_name(), fake.last_name()
        country = name if rnd.random() < 0.6 else rnd.choice(OTHER_NAMES[region])
        local = fake.user_name() + str(n)
        if rnd.random() < 0.1:
            email = f"{local}@{rnd.choice(IDN_DOMAINS)}"
        elif locale == "tr_TR" and rnd.random() < 0.3:
            email = f"{first.lower().replace(' ', '')}.{n}@ornek.com.tr"  # may hold ç, ğ, ı, ö, ş, ü
        else:
            email = f"{local}@{fake.free_email_domain()}"
        email = email if rnd.random() < 0.7 else email.upper() if email.isascii() else email.title()
        out.append(Person(first, last, email, email.lower(), _typed(number, rnd),
                          phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), country, region))
    return out


def write_csv(path: Path, rows: list[Person], *, encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as out:
        writer = csv.writer(out)
        writer.writerow(["First name", "Last name", "E-Mail", "Telefon", "Country"])
        for p in rows:
            writer.writerow([p.first, p.last, p.email, p.phone, p.country])
    return path
