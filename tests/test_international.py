"""Real files from seven countries: no phone rewritten wrong, no valid address refused."""
from __future__ import annotations

import json
from unittest.mock import patch

import phonenumbers
import pytest
from helpers import custdesk, rendered
from hypothesis import given, settings
from hypothesis import strategies as st
from international import people, write_csv

from importers import PlanError, plan_import, read_table
from store import RuleViolation
from store.rules.emails import check_email, email_key
from store.rules.phones import _library_e164, decide, normalise_phone
from store.rules.regions import ISO_REGIONS, _names, fold, locale_region, region_of
from store.rules.validation import clean_person


def test_seven_countries_no_wrong_number_and_every_valid_one_normalised(store, tmp_path):
    store.update_settings(default_country="US")  # the trap of the old importer: every row read as US
    truth = people(1000)
    plan = plan_import(store, read_table(write_csv(tmp_path / "seven.csv", truth)), target="private")
    stored = plan.rows["phone"].to_list()
    wrong = [(p.phone, p.country, s) for p, s in zip(truth, stored, strict=True) if s.startswith("+") and s != p.phone_truth]
    normalised = sum(s == p.phone_truth for p, s in zip(truth, stored, strict=True))
    assert wrong == []
    assert normalised / len(truth) >= 0.99, [(p.phone, p.country, s) for p, s in zip(truth, stored, strict=True) if s != p.phone_truth][:10]
    refused = [i for i in plan.issues if i.column == "E-Mail" and i.severity == "error"]
    assert refused == []
    assert plan.rows["email"].to_list() == [check_email(p.email_truth)[0] for p in truth]
    assert plan.counts()["created"] == 1000


def test_the_row_country_wins_over_the_store_default_and_names_work_in_seven_languages():
    for country, typed, truth in [("Deutschland", "030 1234567", "+49301234567"), ("Almanya", "030 1234567", "+49301234567"),
                                  ("France", "06 12 34 47 20", "+33612344720"), ("Fransa", "06 12 34 47 20", "+33612344720"),
                                  ("Türkiye", "0212 345 67 89", "+902123456789"), ("Nederland", "020 123 4567", "+31201234567"),
                                  ("España", "912 34 56 78", "+34912345678"), ("Italia", "06 1234 5678", "+390612345678"),
                                  ("UK", "020 7946 0958", "+442079460958"), ("tr", "0532 123 45 67", "+905321234567")]:
        cleaned, issues = clean_person({"phone": typed, "country": country}, fields=("phone",), default_country="US")
        assert (cleaned["phone"], issues) == (truth, []), country


def test_a_number_only_possible_for_the_region_is_kept_as_typed_with_the_region_named():
    cleaned, issues = clean_person({"phone": "030 1234567"}, fields=("phone",), default_country="US")
    assert cleaned["phone"] == "030 1234567"
    assert issues[0].message == "'030 1234567' is not a valid phone number for US; kept as typed"
    cleaned, issues = clean_person({"phone": "030 1234567"}, fields=("phone",), default_country=None)
    assert cleaned["phone"] == "030 1234567" and "no country is known" in issues[0].message


def test_international_numbers_keep_their_own_code_whatever_the_region():
    assert normalise_phone("+44 20 7946 0958", "DE") == "+442079460958"
    assert normalise_phone("0044 20 7946 0958", "DE") == "+442079460958"  # 00 dials out from Germany
    assert normalise_phone("0044 20 7946 0958", "US") is None  # not from the US (011): kept as typed
    assert normalise_phone("+49 (0)30 1234567", None) == "+49301234567"


phone_text = st.text(alphabet="0123456789 +-()./x\u00a0", min_size=1, max_size=20) | st.from_regex(
    r"(\+|00|011|0)?(1|33|44|49|90|31|34|39|7|54|55)?[ (]?0?\)?[1-9][0-9 ]{5,13}", fullmatch=True)
regions = st.sampled_from(["DE", "TR", "FR", "NL", "ES", "GB", "US", "IT", "CA", "AR", "BR", "MX", "RU", "JP", "IN", None])


def assert_phonenumbers_reads(e164: str | None, value: str, region: str | None) -> None:
    """A number we store is one phonenumbers reads from the same text and region, and finds valid."""
    if e164 is None:
        return
    parsed = phonenumbers.parse(value, region)
    assert phonenumbers.is_valid_number(parsed)
    assert e164.split(" x")[0] == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=2500, deadline=None)
@given(phone_text, regions)
def test_the_quick_path_agrees_with_phonenumbers(value, region):
    decided, e164 = decide(value, region)
    if decided:
        assert e164 == _library_e164(value, region)  # valid and the same number, or not valid for both
    assert_phonenumbers_reads(e164, value, region)


@settings(max_examples=1500, deadline=None)
@given(phone_text, regions)
def test_a_stored_e164_is_always_what_phonenumbers_reads_and_finds_valid(value, region):
    assert_phonenumbers_reads(normalise_phone(value, region), value, region)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(phone_text | st.none(), regions), max_size=60), st.integers(1, 70))
def test_the_column_path_decides_as_one_number_at_a_time(pairs, slice_rows):
    import polars as pl

    from store.rules import phones_frame
    values, regions = pl.Series([v for v, _ in pairs], dtype=pl.String), pl.Series([r for _, r in pairs], dtype=pl.String)
    # (else these few are decided one by one, and all at once: a million are decided in slices)
    with patch.object(phones_frame, "ONE_BY_ONE_BELOW", 0), patch.object(phones_frame, "SLICE_ROWS", slice_rows):
        by_column = phones_frame.normalise_column(values, regions)
    expected = [None if v is None else normalise_phone(v, r) for v, r in pairs]
    assert by_column.to_list() == expected
    assert phones_frame.normalise_column(values, regions).to_list() == expected


def test_the_column_path_on_faker_numbers_of_twenty_countries():
    import polars as pl
    from faker import Faker

    from store.rules.phones_frame import normalise_column
    pairs = []
    for locale in ("de_DE", "fr_FR", "tr_TR", "nl_NL", "es_ES", "en_GB", "en_US", "it_IT", "pt_BR", "es_MX", "en_CA", "ru_RU",
                   "ja_JP", "en_AU", "pl_PL", "de_AT", "de_CH", "es_AR", "en_IN", "zh_CN"):
        fake = Faker(locale)
        fake.seed_instance(3)
        region = locale[-2:]
        pairs += [(fake.phone_number(), r) for _ in range(150) for r in (region, "US", None)]
    column = normalise_column(pl.Series([v for v, _ in pairs]), pl.Series([r for _, r in pairs], dtype=pl.String))
    assert column.to_list() == [normalise_phone(v, r) for v, r in pairs]


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["email", "number", "vat_id", "external_id", "phone"]),
       st.text(alphabet="aBc.-@ \tüİ+0123456789", max_size=20))
def test_import_keys_are_the_indexes_keys(key, value):
    import polars as pl

    from importers.judge import key_values
    from store.rules.keys import normalise_key
    from store.rules.validation import clean_text
    cleaned = clean_text(value)
    got = key_values(pl.DataFrame({key: [cleaned]}, schema={key: pl.String}), key).item()
    expected = normalise_key(key, cleaned)
    if key == "phone" and expected is not None and not expected.startswith("+"):
        expected = None  # a phone kept as typed names nobody
    assert got == expected


def test_country_names_and_codes():
    assert [region_of(n) for n in ("Deutschland", "ALMANYA", "türkiye", "TURKIYE", "Pays-Bas", "España", "Espagne",
                                   "Royaume-Uni", "Birleşik Krallık", "DEU", "usa", "Narnia", "", None)] == \
        ["DE", "DE", "TR", "TR", "NL", "ES", "ES", "GB", "GB", "DE", "US", None, None, None]


@given(st.sampled_from(sorted(ISO_REGIONS | {"UK", "EL"})), st.sampled_from(["", " ", "\t"]), st.booleans())
def test_a_code_names_the_region_the_names_give_it(code, space, lower):
    # (a two-letter code is answered before the names are built: it must be their answer)
    cell = f"{space}{code.lower() if lower else code}{space}"
    assert region_of(cell) == _names().get(fold(cell))


def test_the_default_country_comes_from_the_locale(store, monkeypatch):
    assert locale_region({"LANG": "de_DE.UTF-8"}) == "DE"
    assert locale_region({"LC_ALL": "tr_TR.UTF-8", "LANG": "en_US.UTF-8"}) == "TR"
    assert locale_region({"LANG": "C.UTF-8"}) is None and locale_region({}) is None
    assert store.settings["default_country"] is None  # conftest: LANG=C.UTF-8
    monkeypatch.setenv("LANG", "nl_NL.UTF-8")
    from store import Store
    with Store(store.location) as again:
        assert again.settings["default_country"] == "NL"
        assert again.add_customer("private", {"first_name": "Anne", "phone": "020 123 4567"})["phone"] == "+31201234567"


def test_settings_refuse_a_country_that_is_not_iso(store):
    for bad in ("Germany", "XX", "D", "123"):
        with pytest.raises(RuleViolation, match="ISO 3166"):
            store.update_settings(default_country=bad)
    assert store.update_settings(default_country=" tr ")["default_country"] == "TR"
    with pytest.raises(RuleViolation, match="whole number"):
        store.update_settings(obfuscation_retention_days="soon")


@pytest.mark.parametrize("address", ["info@müller-bäckerei.de", "INFO@Müller-Bäckerei.DE", "kâzime.yaman8@ornek.com.tr",
                                     "jürgen@xn--mller-kva.de", "o'brien+tag@example.co.uk", "ñandú@señor-pérez.es"])
def test_valid_addresses_are_accepted(address):
    stored, error, _warning = check_email(address)
    assert error is None and stored == stored.lower()


def test_a_non_ascii_local_part_is_a_warning_and_idn_domains_match_their_ascii_form(store):
    _stored, error, warning = check_email("kâzime.yaman8@ornek.com.tr")
    assert error is None and "SMTPUTF8" in warning
    assert check_email("info@müller.de")[2] is None
    customer = store.add_customer("private", {"first_name": "Hans", "email": "Info@Müller.de"})
    assert customer["email"] == "info@müller.de"
    assert email_key("INFO@xn--mller-kva.de") == email_key("info@müller.de")
    assert [c["id"] for c in store.find("customers", "email", "info@XN--MLLER-KVA.DE")] == [customer["id"]]


@pytest.mark.parametrize("address", ["broken", "a@b", "a..b@example.com", "x@localhost", "x@example.test", "a@-x.com",
                                     "a@ab--cd.com"])
def test_invalid_addresses_are_errors(address):
    import polars as pl

    from store.rules.validation_frame import clean_frame
    assert check_email(address)[1] is not None
    _frame, issues = clean_frame(pl.DataFrame({"first_name": ["A"], "email": [address]}), kind=None, allow_private=True,
                                 default_country=None)
    assert issues.filter(pl.col("field") == "email")["severity"].to_list() == ["error"]  # the column path agrees


@settings(max_examples=600, deadline=None)
@given(st.from_regex(r"[a-zA-Z0-9._%+'-]{1,70}@[a-zA-Z0-9.-]{1,70}", fullmatch=True))
def test_the_polars_fast_path_agrees_with_email_validator(address):
    import polars as pl

    from store.rules.validation_frame import clean_frame
    frame, issues = clean_frame(pl.DataFrame({"first_name": ["A"], "email": [address]}), kind=None, allow_private=True,
                                default_country=None)
    stored, error, _warning = check_email(address.strip())
    errors = issues.filter(pl.col("severity") == "error")["message"].to_list()
    assert errors == ([error] if error else [])
    assert frame["email"][0] == stored


def test_an_update_file_of_a_key_and_one_field_updates(store, tmp_path):
    store.add_customer("private", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
                                   "phone": "+442079460958"})
    f = tmp_path / "cities.csv"
    f.write_text("Email,City\nADA@example.com,Paris\nnobody@example.com,Rome\n")
    for dry_run in (True, False):
        p = plan_import(store, read_table(f), target="private", mode="update")
        assert [r["_status"] for r in p.rows.to_dicts()] == ["update", "skipped"], dry_run
        assert not p.blocked and list(p.diffs.values()) == [{"city": (None, "Paris")}]
        if not dry_run:
            store.apply_batch(p.batch())
    assert store.find("customers", "email", "ada@example.com")[0]["city"] == "Paris"


def test_an_update_is_judged_as_the_record_it_leaves(store, tmp_path):
    store.add_customer("private", {"first_name": "Ada", "email": "ada@example.com"})
    f = tmp_path / "u.csv"
    f.write_text("Email,Phone,Country\nada@example.com,030 1234567,Deutschland\n")
    p = plan_import(store, read_table(f), target="private", mode="update")
    assert list(p.diffs.values()) == [{"phone": (None, "+49301234567"), "country": (None, "Deutschland")}]
    # A stored country reads the row's phone when the row names none.
    store.edit_customer(store.find("customers", "email", "ada@example.com")[0]["id"], {"country": "France"})
    f.write_text("Email,Phone\nada@example.com,06 12 34 47 20\n")
    p = plan_import(store, read_table(f), target="private", mode="update")
    assert list(p.diffs.values()) == [{"phone": (None, "+33612344720")}]


def test_a_taken_customer_number_is_an_error_in_the_dry_run_as_in_the_real_one(store, tmp_path):
    taken = store.add_customer("private", {"first_name": "Ada", "email": "ada@example.com"})["number"]
    f = tmp_path / "n.csv"
    f.write_text(f"Name,Email,Customer number\nGrace,grace@example.com,{taken.lower()}\n"
                 "Alan,alan@example.com,C-900\nKurt,kurt@example.com,c-900\n")
    p = plan_import(store, read_table(f), target="private")
    assert [r["_status"] for r in p.rows.to_dicts()] == ["error", "new", "error"]
    messages = [i.message for i in p.issues]
    assert f"customer number {taken.lower()} is already used by another customer ({taken})" in messages
    assert "customer number c-900 is already used by another customer (row 3)" in messages
    p = plan_import(store, read_table(f), target="private")
    store.apply_batch(p.batch())  # the valid rows only: the real run takes what the dry run promised
    assert store.find("customers", "number", "C-900")[0]["first_name"] == "Alan"


def test_duplicates_across_lists_name_the_record(store, tmp_path):
    customer = store.add_customer("corporate", {"company": "Acme", "email": "info@acme.example", "phone": "+49301234567",
                                                "vat_id": "DE136695976"})
    store.add_source({"first_name": "Pat", "email": "pat@example.com", "phone": "+33612344720"})
    f = tmp_path / "d.csv"
    f.write_text("Name,Email,Phone,VAT,Country\n"
                 "A,INFO@acme.example,,,\n"           # the key of a customer: create mode skips it
                 "B,b@example.com,030 1234567,,DE\n"  # phone of a customer
                 "C,c@example.com,,DE 136 695 976,\n"  # VAT id of a customer
                 "D,d@example.com,06 12 34 47 20,,FR\n"  # phone of a prospect
                 "E,e@example.com,+90 532 123 45 67,,\n"
                 "F,f@example.com,0532 123 45 67,,TR\n"  # the same phone as row 6
                 "G,g@example.com,n/a,,\n"
                 "H,h@example.com,n/a,,\n")            # kept as typed: no duplicate for that
    p = plan_import(store, read_table(f), target="private")
    into_sources = plan_import(store, read_table(f), mode="create", key="phone")
    assert into_sources.rows.to_dicts()[0]["_note"] == f"email belongs to customer {customer['number']}"
    assert [(r["_status"], r["_note"]) for r in p.rows.to_dicts()] == [
        ("skipped", "email exists already (mode create)"),
        ("duplicate", f"phone belongs to customer {customer['number']}"),
        ("duplicate", f"vat_id belongs to customer {customer['number']}"),
        ("duplicate", "phone belongs to prospect Pat (added by hand)"),
        ("new", None), ("duplicate", "same phone as row 6"), ("new", None), ("new", None)]


def test_templates_state_the_real_rules(tmp_path):
    from importers.templates import write_template
    write_template(tmp_path / "t.csv", "private")
    header = (tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert "one of: First name / Last name / Company" in header and "one of: Email / Phone / Mobile" in header


def test_cli_country_option_and_its_proposal(tmp_path):
    f = tmp_path / "de.csv"
    # 030 1234560 is as valid in Iraq as in Germany: the addresses' .de says which.
    f.write_text("Name,Email,Phone\n" + "".join(f"P{i},p{i}@beispiel.de,030 123456{i}\n" for i in range(5)))
    db = tmp_path / "s.json"
    result = custdesk("--db", db, "import", f, "--json", "--dry-run", env={"LANG": "en_US.UTF-8"})
    assert result.returncode == 0, result.stderr
    assert ("5 phones without +country read as DE, the file's own country (5 of 5 emails with a country domain end .de; "
            "5 of 5 numbers without +country tried valid in DE), not as the default US; --country US reads them as US") in result.stderr
    assert json.loads(result.stdout)["warnings"] == 0
    result = custdesk("--db", db, "import", f, "--json", "--dry-run", "--country", "us", env={"LANG": "en_US.UTF-8"})
    assert json.loads(result.stdout)["warnings"] == 5 and "read as" not in result.stderr
    result = custdesk("--db", db, "import", f, "--json", "--dry-run", "--country", "de", env={"LANG": "en_US.UTF-8"})
    assert json.loads(result.stdout)["warnings"] == 0 and "--country" not in result.stderr
    result = custdesk("--db", db, "import", f, "--json", "--dry-run", "--country", "Germany")
    assert result.returncode == 2 and "--country must be an ISO 3166 code" in result.stderr


def test_plan_refuses_a_bad_country(store, tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("Name,Email\nA,a@example.com\n")
    with pytest.raises(PlanError, match="ISO 3166"):
        plan_import(store, read_table(f), country="Germany")


async def test_the_import_review_reads_the_files_own_country_and_p_reads_the_phones_as_the_default(store, tmp_path):
    from tui.app import CustdeskApp
    from tui.screens.import_review import ImportScreen
    store.update_settings(default_country="US")
    path = tmp_path / "kunden.csv"
    path.write_text("Name,E-Mail,Telefon\n" + "".join(f"P{i},p{i}@beispiel.de,030 123456{i}\n" for i in range(5)))
    app = CustdeskApp(store)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        screen.query_one("#path").value = ""
        await pilot.press(*str(path), "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.plan.file_region.region == "DE" and screen.plan.counts()["warnings"] == 0
        summary = rendered(screen.query_one("#summary"))
        assert "read as DE, the file's own country" in summary and "p reads them as US" in summary
        assert screen.plan.rows["phone"].to_list() == [f"+4930123456{i}" for i in range(5)]
        await pilot.press("p")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.plan.country == "US" and screen.plan.counts()["warnings"] == 5
        assert screen.plan.suggestion.region == "DE" and "p reads them as DE" in rendered(screen.query_one("#summary"))
        await pilot.press("p")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.plan.country == "DE" and screen.plan.suggestion is None and screen.plan.counts()["warnings"] == 0
        await pilot.press("n")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert sorted(s["phone"] for s in store.sources()) == [f"+4930123456{i}" for i in range(5)]


async def test_the_settings_screen_refuses_a_country_that_is_not_iso(store):
    from tui.app import CustdeskApp
    from tui.screens.modals import SettingsScreen
    app = CustdeskApp(store)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("comma")
        app.screen.query_one("#default_country").value = "Germany"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)  # still open, the refusal shown
        app.screen.query_one("#default_country").value = "de"
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert store.settings["default_country"] == "DE"
