"""A full name split into first and last name (store.rules.names): fifty hard names
with known truth, the column path against the record path, files imported into a
store, the headers that mean a full name, and any text at all."""
import sys
from collections import Counter

import polars as pl
import pytest
from faker import Faker
from helpers import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from importers import plan_import, read_table
from importers.mapping import map_columns
from store.rules import names as rule
from store.rules.names import looks_like_company, split_full_name, split_full_names

sys.path.insert(0, str(ROOT / "bench"))
from names_data import DECIDED, HARD_NAMES


def expected(full: str, first: str | None, last: str | None) -> tuple[str | None, str | None]:
    return DECIDED[full][0] if full in DECIDED else (first, last)


@pytest.mark.parametrize(("full", "first", "last"), HARD_NAMES, ids=[n.strip() for n, _, _ in HARD_NAMES])
def test_a_hard_name_splits_as_its_truth(full, first, last):
    assert split_full_name(full) == expected(full, first, last)


def test_the_list_is_fifty_names_and_only_the_decided_ones_differ_from_the_truth():
    assert len(HARD_NAMES) == 50 == len({n for n, _, _ in HARD_NAMES})
    wrong = [n for n, f, la in HARD_NAMES if split_full_name(n) != (f, la)]
    assert wrong == list(DECIDED)


def test_a_blank_name_is_no_name_and_text_that_is_no_name_is_kept_whole():
    assert split_full_name(None) == split_full_name("  ") == (None, None)
    assert split_full_name('=HYPERLINK("http://evil")') == ('=HYPERLINK("http://evil")', None)
    assert split_full_name("info@beispiel.de") == ("info@beispiel.de", None)
    assert split_full_name("Dr.") == ("Dr.", None)  # nothing but a title: kept rather than lost


def test_a_company_is_left_alone_when_the_caller_says_so():
    for company in ("Müller GmbH", "Doğan Ltd. Şti.", "Acme Inc.", "Boulangerie Dupont SARL", "Jansen B.V."):
        assert looks_like_company(company)
        assert split_full_name(company, companies=True) == (None, None)
    assert split_full_name("Müller GmbH") == ("Müller", "GmbH")  # the caller did not say so
    assert not looks_like_company("Hans Müller") and split_full_name("Hans Müller", companies=True) == ("Hans", "Müller")


def faker_names(count: int) -> list[str]:
    fake = Faker(["de_DE", "tr_TR", "fr_FR", "nl_NL", "es_ES", "en_GB", "en_US"])
    fake.seed_instance(28)
    return [fake.name() for _ in range(count)]


@pytest.mark.parametrize("companies", [False, True])
def test_the_column_path_splits_as_the_record_path(companies):
    names = [n for n, _, _ in HARD_NAMES] + faker_names(2000) + ["Müller GmbH", "Jan Gmbh", "Ann Vi", None, "", "Ab Cd Ef Gh"]
    split = split_full_names(pl.Series(names, dtype=pl.String), companies=companies)
    assert split.columns == ["first_name", "last_name"]
    assert split.rows() == [split_full_name(n, companies=companies) for n in names]


def test_names_of_one_shape_split_as_each_name_parsed_alone(monkeypatch):
    # The rule parses "Qqq Qqq" once for every plain "First Last": it must be what parsing each gives.
    names = [n for n, _, _ in HARD_NAMES] + faker_names(3000) + ["AAA İ", "İ Öz", "Ǆemal Ǉubić", "Maß Straße"]
    shaped = [split_full_name(n) for n in names]
    monkeypatch.setattr(rule, "_by_shape", lambda words: None)
    assert [split_full_name(n) for n in names] == shaped


name_text = st.text(alphabet=st.sampled_from("aAbBeEnNöÖıİşŞ .,'-()&"), max_size=30)
# Capitalised words, some of them vocabulary: what the column path's pattern takes or must leave to the parser.
plain_names = st.lists(st.sampled_from(["Jan", "Van", "De", "Ii", "Vi", "Mac", "Gmbh", "Ali", "Öztürk", "Ayşe", "Le", "Bin",
                                        "Jr", "Sr", "Dr", "Mme", "Bay", "Ten", "Zur", "Hans-Peter", "Anna-Von", "Del", "Und",
                                        "Phd", "Geb", "Née", "Σοφία", "Иван", "DUPONT", "AAA", "İ", "J.", "Mc", "O'Neil",
                                        "Smith,", "(Bob)", "MBA", "Wm", "Md", "Ma"]), min_size=1, max_size=5).map(" ".join)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40), name_text, plain_names), max_size=6))
def test_any_text_splits_alike_every_way_and_nothing_is_invented(texts):
    split = split_full_names(pl.Series(texts, dtype=pl.String)).rows()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rule, "_by_shape", lambda words: None)
        parsed_alone = [split_full_name(text) for text in texts]
    for text, (first, last), alone in zip(texts, split, parsed_alone, strict=True):
        assert (first, last) == split_full_name(text) == alone
        words = [w for part in (first, last) if part for w in part.split()]
        assert all(w in text for w in words)  # each word is the input's own, as written
        assert Counter("".join(words)) <= Counter(text)  # and no letter is used twice
        if text.strip():
            assert first or last


# -- headers ----------------------------------------------------------------------
@pytest.mark.parametrize(("columns", "field"), [
    (["İsim", "E-posta"], "full_name"), (["İsim", "Soyisim", "E-posta"], "first_name"),
    (["Ad", "Telefon"], "full_name"), (["Ad", "Soyad"], "first_name"),
    (["Nombre", "Correo"], "full_name"), (["Nombre", "Apellidos"], "first_name"),
    (["Name", "Email"], "full_name"), (["Vorname", "Name", "Ort"], "last_name"), (["Vorname", "Nachname", "Name"], "full_name"),
    (["Naam", "E-mail"], "full_name"), (["Voornaam", "Naam"], "last_name"),
])
def test_an_ambiguous_name_header_is_read_by_the_columns_beside_it(columns, field):
    ambiguous = next(c for c in columns if c in ("İsim", "Ad", "Nombre", "Name", "Naam"))
    assert {m.column: m.field for m in map_columns(columns)}[ambiguous] == field


@pytest.mark.parametrize("header", ["Ad Soyad", "Nom complet", "Nombre completo", "Volledige naam", "Full name"])
def test_a_full_name_header_is_split(header):
    assert {m.column: m.field for m in map_columns([header, "Email"])}[header] == "full_name"


def test_a_header_the_user_mapped_is_not_reread():
    assert {m.column: m.field for m in map_columns(["İsim", "E-posta"], {"İsim": "first_name"})}["İsim"] == "first_name"


# -- files into a store -------------------------------------------------------------
def imported(store, path):
    plan = plan_import(store, read_table(path))
    assert not plan.blocked, plan.issues
    store.apply_batch(plan.batch())
    return {s["email"]: (s.get("first_name"), s.get("last_name"), s.get("company")) for s in store.sources()}


def test_a_turkish_isim_column_holding_full_names_is_split(store, tmp_path):
    path = tmp_path / "musteriler.csv"
    path.write_bytes("İsim;E-posta;Şehir\nAyşe Yılmaz;ayse@ornek.com.tr;İzmir\nDoç. Dr. Mehmet Ali Öztürk;mehmet@ornek.com.tr;Ankara\n"
                     "Bayan Zeynep ÇELİK;zeynep@ornek.com.tr;İstanbul\nDoğan Ltd. Şti.;info@dogan.com.tr;Bursa\n".encode("cp1254"))
    assert imported(store, path) == {
        "ayse@ornek.com.tr": ("Ayşe", "Yılmaz", None), "mehmet@ornek.com.tr": ("Mehmet Ali", "Öztürk", None),
        "zeynep@ornek.com.tr": ("Zeynep", "ÇELİK", None), "info@dogan.com.tr": (None, None, "Doğan Ltd. Şti.")}


def test_an_isim_column_beside_a_surname_column_is_the_first_name(store, tmp_path):
    path = tmp_path / "musteriler.csv"
    path.write_text("İsim,Soyisim,E-posta\nMehmet Ali,Öztürk,mehmet@ornek.com.tr\n", encoding="utf-8")
    assert imported(store, path) == {"mehmet@ornek.com.tr": ("Mehmet Ali", "Öztürk", None)}


def test_full_names_of_a_csv_file_are_split_into_the_store(store, tmp_path):
    path = tmp_path / "kunden.csv"
    rows = [("Müller, Hans", "hans@beispiel.de", ""), ("Prof. Dr. Ingrid van der Berg", "ingrid@beispiel.nl", ""),
            ("Martin Luther King Jr.", "mlk@example.com", ""), ("DUPONT Jean-Pierre", "jp@exemple.fr", ""),
            ("Müller GmbH", "info@mueller.de", ""), ("Anna Weber", "anna@beispiel.de", "Weber & Co. KG")]
    path.write_text("Name,Email,Company\n" + "".join(",".join(f'"{c}"' for c in r) + "\n" for r in rows), encoding="utf-8")
    assert imported(store, path) == {
        "hans@beispiel.de": ("Hans", "Müller", None), "ingrid@beispiel.nl": ("Ingrid", "van der Berg", None),
        "mlk@example.com": ("Martin Luther", "King Jr.", None), "jp@exemple.fr": ("Jean-Pierre", "DUPONT", None),
        "info@mueller.de": (None, None, "Müller GmbH"), "anna@beispiel.de": ("Anna", "Weber", "Weber & Co. KG")}


def test_a_german_name_column_beside_vorname_is_the_surname(store, tmp_path):
    path = tmp_path / "adressen.csv"
    path.write_text("Vorname;Name;E-Mail\nHans Peter;von Müller;hp@beispiel.de\n", encoding="utf-8")
    assert imported(store, path) == {"hp@beispiel.de": ("Hans Peter", "von Müller", None)}

