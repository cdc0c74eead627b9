"""A file's own country, read from its signals, for phones written without +country."""
import random

import phonenumbers
import polars as pl
import pytest
from faker import Faker
from helpers import contents, custdesk
from hypothesis import given, settings
from hypothesis import strategies as st

from importers import plan_import, read_table
from importers.file_region import file_region
from store import Store

TURKISH = ("İsim,Soyisim,Şehir,Telefon,E-posta\n"
           "Ayşe,Yılmaz,İzmir,0216 444 55 66,ayse@example.com\n"
           "Mehmet,Öztürk,Ankara,0312 555 66 77,mehmet@firma.com.tr\n")


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def plan(store, path, **kw):
    return plan_import(store, read_table(path), **kw)


@pytest.fixture
def german_default(tmp_path):
    store = Store(tmp_path / "store.json")
    store.update_settings(default_country="DE")
    return store


def test_a_turkish_file_reads_its_numbers_as_turkish_where_the_default_is_germany(german_default, tmp_path):
    p = plan(german_default, write(tmp_path / "musteriler.csv", TURKISH), target="private")
    assert p.file_region is not None and p.file_region.region == "TR" and p.region == "TR"
    message = p.file_region.message()
    assert "read as TR" in message and "İzmir, Ankara" in message and "Turkish headers" in message
    assert "not as the default DE" in message
    german_default.apply_batch(p.batch())
    phones = {c["first_name"]: c["phone"] for c in contents(german_default)["customers"].values()}
    assert phones == {"Ayşe": "+902164445566", "Mehmet": "+903125556677"}


def test_the_same_person_imported_before_in_international_form_is_seen_as_the_same(german_default, tmp_path):
    german_default.add_customer("private", {"first_name": "Ayşe", "last_name": "Yılmaz", "phone": "+90 216 444 55 66"})
    p = plan(german_default, write(tmp_path / "musteriler.csv", TURKISH), target="private")
    assert p.rows["_status"].to_list()[0] == "duplicate"


def test_the_command_line_says_so_and_how_to_read_them_as_the_default(tmp_path):
    store = Store(tmp_path / "store.json")
    store.update_settings(default_country="DE")
    store.close()
    done = custdesk("--db", tmp_path / "store.json", "import", write(tmp_path / "musteriler.csv", TURKISH), "--into", "private")
    assert done.returncode == 0, done.stderr
    assert "2 phones without +country read as TR, the file's own country" in done.stderr
    assert "--country DE reads them as DE" in done.stderr
    again = custdesk("--db", tmp_path / "store.json", "import", write(tmp_path / "more.csv", TURKISH.replace("Ayşe", "Zeynep")
                                                                     .replace("ayse@", "zeynep@").replace("0216 444 55 66", "0216 444 55 67")),
                     "--into", "private", "--country", "DE", "--dry-run")
    assert "read as TR" not in again.stderr  # an explicit --country is the user's word


def test_a_file_that_agrees_with_the_default_says_nothing(german_default, tmp_path):
    f = write(tmp_path / "kunden.csv", "Vorname,Nachname,Stadt,Telefon\nHans,Müller,Berlin,030 1234567\n"
                                       "Eva,Schmidt,München,089 7654321\n")
    p = plan(german_default, f, target="private")
    assert p.file_region is None and p.region is None  # (the store's default: DE)
    german_default.update_settings(default_country="TR")
    p = plan(german_default, f, target="private")
    assert p.file_region is not None and p.file_region.region == "DE"
    assert p.rows["phone"].to_list() == ["+49301234567", "+49897654321"]


def test_one_kind_of_signal_alone_decides_nothing_unless_it_names_a_country(german_default, tmp_path):
    # (numbers valid in Germany as in Turkey: they say nothing about which they are)
    only_emails = write(tmp_path / "a.csv", "Name,Phone,Email\nAyse Yilmaz,0216 444 55 66,a@firma.com.tr\n"
                                            "Can Demir,0216 444 55 67,c@firma.com.tr\n")
    assert plan(german_default, only_emails, target="private").file_region is None
    countries = write(tmp_path / "b.csv", "Name,Phone,Country\nAyse Yilmaz,0216 444 55 66,Türkiye\n"
                                          "Can Demir,0312 555 66 77,Türkiye\nEla Kaya,0232 111 22 33,\n")
    p = plan(german_default, countries, target="private")
    assert p.file_region is not None and p.file_region.region == "TR" and p.file_region.national == 1
    assert "2 of 2 Country cells name TR" in p.file_region.message()
    assert p.rows["phone"].to_list()[2] == "+902321112233"


def test_numbers_that_make_no_sense_in_the_files_country_are_not_read_there(german_default, tmp_path):
    f = write(tmp_path / "c.csv", "İsim,Şehir,Telefon\nAyşe Yılmaz,İzmir,030 1234567\nCan Demir,Ankara,089 7654321\n")
    assert plan(german_default, f, target="private").file_region is None


def test_postcodes_and_international_numbers_count(german_default, tmp_path):
    f = write(tmp_path / "klanten.csv", "Voornaam,Achternaam,Postcode,Woonplaats,Telefoon\n"
                                        "Jan,de Vries,1012 AB,Amsterdam,020 123 4567\n"
                                        "Els,Bakker,3011 CD,Rotterdam,+31 10 765 4321\n")
    p = plan(german_default, f, target="private")
    assert p.file_region is not None and p.file_region.region == "NL"
    assert p.rows["phone"].to_list()[0] == "+31201234567"


# -- known truth from Faker's locales ---------------------------------------------------------
HEADERS = {
    "tr_TR": ("Ad", "Soyad", "Şehir", "Telefon"), "de_DE": ("Vorname", "Nachname", "Ort", "Telefon"),
    "fr_FR": ("Prénom", "Nom", "Ville", "Téléphone"), "nl_NL": ("Voornaam", "Achternaam", "Plaats", "Telefoon"),
    "es_ES": ("Nombre", "Apellidos", "Ciudad", "Teléfono"), "it_IT": ("Nome", "Cognome", "Città", "Telefono"),
    "pl_PL": ("Imię", "Nazwisko", "Miasto", "Telefon"),
}


KINDS = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)


def locale_frame(locale: str, rows: int, seed: int) -> pl.DataFrame:
    fake = Faker(locale)
    fake.seed_instance(seed)
    rng = random.Random(seed)
    region = locale.split("_")[1]
    def national() -> str:  # a valid number of the country (Faker's are random digits), typed without +country
        example = phonenumbers.example_number_for_type(region, rng.choice(KINDS))
        while True:
            digits = str(example.national_number)
            example.national_number = int(digits[:-4] + f"{rng.randrange(10_000):04d}")
            if phonenumbers.is_valid_number(example):
                return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    return pl.DataFrame(schema=dict.fromkeys(("first_name", "last_name", "city", "phone"), pl.String), data={"first_name": [fake.first_name() for _ in range(rows)],
                         "last_name": [fake.last_name() for _ in range(rows)],
                         "city": [fake.city() for _ in range(rows)],
                         "phone": [national() for _ in range(rows)]})


@pytest.mark.parametrize("locale", sorted(HEADERS))
def test_faker_locales_are_read_as_their_country_or_left_to_the_default_never_a_wrong_one(locale):
    truth = locale.split("_")[1]
    found = []
    for seed in range(5):
        frame = locale_frame(locale, 30, seed)
        other = random.Random(seed).choice([r for r in ("US", "GB", "DE", "TR") if r != truth])
        result = file_region(frame, list(HEADERS[locale]), other)
        found.append(result.region if result else None)
    assert set(found) <= {truth, None}, found
    assert found.count(truth) >= 4, found  # headers and numbers (plus cities where known) agree


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=20), st.text(max_size=20), st.text(max_size=20), st.text(max_size=25)),
                min_size=1, max_size=8),
       st.lists(st.text(max_size=12), min_size=1, max_size=6))
def test_any_cells_and_headers_give_a_region_or_none_and_never_raise(rows, headers):
    frame = pl.DataFrame(rows, schema=dict.fromkeys(("city", "country", "email", "phone"), pl.String), orient="row")
    result = file_region(frame, headers, "DE")
    assert result is None or (len(result.region) == 2 and result.region != "DE" and result.reasons)
