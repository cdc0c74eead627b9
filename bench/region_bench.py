"""A file's own country, on files whose country is known: one country's customers
as its people write them (headers in its language, Faker's names and cities, valid
national numbers without +country, Faker's emails), imported where the default
country is another one.

    python bench/region_bench.py [FILES_PER_COUNTRY]   # default 40 files of 20 rows

Per country: files read in their own country (right), left to the default (none:
the import then warns about the numbers or reads them as the default says), read
in a third country (wrong: must be 0). Beside it, from the same run, the rule the
importer had before (`country_guess.suggest_country`: propose the region that makes
nearly all numbers valid when most are not valid in the default): proposed right,
none, wrong.
"""
from __future__ import annotations

import random
import sys
from collections import Counter

import phonenumbers
import polars as pl
from faker import Faker

from importers.country_guess import suggest_country
from importers.file_region import file_region

HEADERS = {
    "de_DE": ("Vorname", "Nachname", "Ort", "Telefon", "E-Mail"),
    "de_AT": ("Vorname", "Nachname", "Ort", "Telefon", "E-Mail"),
    "de_CH": ("Vorname", "Nachname", "Ort", "Telefon", "E-Mail"),
    "tr_TR": ("Ad", "Soyad", "Şehir", "Telefon", "E-posta"),
    "fr_FR": ("Prénom", "Nom", "Ville", "Téléphone", "Courriel"),
    "nl_NL": ("Voornaam", "Achternaam", "Plaats", "Telefoon", "E-mail"),
    "nl_BE": ("Voornaam", "Achternaam", "Plaats", "Telefoon", "E-mail"),
    "es_ES": ("Nombre", "Apellidos", "Ciudad", "Teléfono", "Correo"),
    "it_IT": ("Nome", "Cognome", "Città", "Telefono", "Email"),
    "pl_PL": ("Imię", "Nazwisko", "Miasto", "Telefon", "Email"),
    "en_GB": ("First name", "Last name", "City", "Phone", "Email"),
}
DEFAULTS = ("DE", "US", "TR", "FR", "GB")
KINDS = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)


def national(rng: random.Random, region: str) -> str:
    """A valid number of the region (Faker's are random digits), typed without +country."""
    example = phonenumbers.example_number_for_type(region, rng.choice(KINDS))
    digits = str(example.national_number)
    while True:
        example.national_number = int(digits[:-4] + f"{rng.randrange(10_000):04d}")
        if phonenumbers.is_valid_number(example):
            return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)


def one_file(locale: str, seed: int, rows: int = 20) -> pl.DataFrame:
    fake, rng = Faker(locale), random.Random(seed)
    fake.seed_instance(seed)
    region = locale.split("_")[1]
    return pl.DataFrame({"first_name": [fake.first_name() for _ in range(rows)],
                         "last_name": [fake.last_name() for _ in range(rows)],
                         "city": [fake.city() for _ in range(rows)],
                         "phone": [national(rng, region) for _ in range(rows)],
                         "email": [fake.email() for _ in range(rows)]}, schema=dict.fromkeys(
                             ("first_name", "last_name", "city", "phone", "email"), pl.String))


def cleaned_as(frame: pl.DataFrame, region: str) -> pl.DataFrame:
    """The phones as the default region reads them (what suggest_country looks at)."""
    def e164(value: str) -> str:
        try:
            parsed = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            return value
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) \
            if phonenumbers.is_valid_number(parsed) else value
    return frame.with_columns(pl.col("phone").map_elements(e164, return_dtype=pl.String))


def verdict(found: str | None, truth: str) -> str:
    return "none" if found is None else "right" if found == truth else "wrong"


def main(files: int) -> None:
    print(f"{files} files of 20 rows per country, each imported where the default is another country\n")
    print(f"{'country':<8} {'file_region: right':>18} {'none':>5} {'wrong':>6}   {'before (suggest_country): right':>31} "
          f"{'none':>5} {'wrong':>6}")
    totals: Counter[str] = Counter()
    for locale, headers in HEADERS.items():
        truth = locale.split("_")[1]
        ours: Counter[str] = Counter()
        before: Counter[str] = Counter()
        for seed in range(files):
            frame = one_file(locale, seed)
            default = random.Random(seed).choice([r for r in DEFAULTS if r != truth])
            found = file_region(frame, list(headers), default)
            ours[verdict(found.region if found else None, truth)] += 1
            proposal = suggest_country(cleaned_as(frame, default), frame, default)
            before[verdict(proposal.region if proposal else None, truth)] += 1
        totals.update({f"ours {k}": n for k, n in ours.items()} | {f"before {k}": n for k, n in before.items()})
        print(f"{truth:<8} {ours['right']:>18} {ours['none']:>5} {ours['wrong']:>6}   {before['right']:>31} "
              f"{before['none']:>5} {before['wrong']:>6}")
    print(f"{'all':<8} {totals['ours right']:>18} {totals['ours none']:>5} {totals['ours wrong']:>6}   "
          f"{totals['before right']:>31} {totals['before none']:>5} {totals['before wrong']:>6}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
