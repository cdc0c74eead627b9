"""Marketing consent per channel: the store's verb, its journal, and campaigns skipping a no."""
from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from exporters.customers import export_customers
from importers import plan_import, read_table
from importers.plan import ImportPlan
from store.base.errors import NotFound, RuleViolation
from store.rules.validation import parse_flag
from store.store import Store


@pytest.fixture
def ada(store: Store) -> dict:
    return store.add_customer("private", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
                                          "mobile": "+44 7700 900123"})


def test_an_opt_out_is_kept_with_its_time_and_source_and_journaled(store: Store, ada: dict) -> None:
    changed = store.set_marketing(ada["id"], "email", False, source="one-click unsubscribe (campaign #3)")

    assert changed["email_marketing"] is False
    assert changed.get("sms_marketing") is None
    stamp = changed["marketing_consent"]["email"]
    assert stamp["source"] == "one-click unsubscribe (campaign #3)"
    assert stamp["at"] >= ada["created_at"]
    assert "sms" not in changed["marketing_consent"]
    assert store.journal(1)[0]["summary"] == (f"Customer {ada['number']} opted out of email marketing "
                                              "(one-click unsubscribe, campaign #3)")
    assert store.journal(1)[0]["customer_ids"] == [ada["id"]]


def test_the_same_answer_again_writes_nothing(store: Store, ada: dict) -> None:
    first = store.set_marketing(ada["id"], "sms", True, source="sign-up form")
    entries = len(store.journal())

    again = store.set_marketing(ada["id"], "sms", True, source="form by tester")

    assert again == first
    assert len(store.journal()) == entries


def test_changing_the_answer_stamps_the_new_source(store: Store, ada: dict) -> None:
    store.set_marketing(ada["id"], "sms", True, source="sign-up form")
    changed = store.set_marketing(ada["id"], "sms", False, source="form by tester")

    assert changed["sms_marketing"] is False
    assert changed["marketing_consent"]["sms"]["source"] == "form by tester"
    assert store.journal(1)[0]["summary"] == f"Customer {ada['number']} opted out of SMS marketing (form by tester)"
    reopened = Store(store.location, user="other")
    try:
        assert reopened.customer(ada["id"])["marketing_consent"] == changed["marketing_consent"]
    finally:
        reopened.close()


@pytest.mark.parametrize(("channel", "allowed", "source", "refusal"), [
    ("fax", False, "form", "marketing channel must be email or sms, not 'fax'"),
    ("email", None, "form", "a marketing answer is yes or no (True or False), not None"),
    ("email", False, "", "a consent's source must be one printable line"),
    ("email", False, "form\nby mallory", "a consent's source must be one printable line"),
])
def test_a_wrong_request_is_refused_and_writes_nothing(store: Store, ada: dict, channel, allowed, source, refusal) -> None:
    entries = len(store.journal())
    with pytest.raises(RuleViolation, match=refusal.replace("(", r"\(").replace(")", r"\)")):
        store.set_marketing(ada["id"], channel, allowed, source=source)
    assert len(store.journal()) == entries
    assert store.customer(ada["id"]).get("email_marketing") is None


def test_a_missing_customer_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.set_marketing(99, "email", False, source="one-click unsubscribe (campaign #1)")


def test_a_campaign_skips_who_opted_out_of_its_channel_only(store: Store, ada: dict) -> None:
    grace = store.add_customer("private", {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
                                           "mobile": "+44 7700 900456"})
    store.set_marketing(ada["id"], "email", False, source="one-click unsubscribe (campaign #1)")
    store.set_marketing(grace["id"], "sms", False, source="form by tester")

    email_to, email_skipped = store.recipients("email", [ada["id"], grace["id"]])
    sms_to, sms_skipped = store.recipients("sms", [ada["id"], grace["id"]])

    assert [c["number"] for c in email_to] == [grace["number"]]
    assert email_skipped == [{"number": ada["number"], "reason": "opted out of email marketing"}]
    assert [c["number"] for c in sms_to] == [ada["number"]]
    assert sms_skipped == [{"number": grace["number"], "reason": "opted out of SMS marketing"}]


def test_a_customer_never_asked_is_still_reached(store: Store, ada: dict) -> None:
    reached, skipped = store.recipients("email", [ada["id"]])
    assert [c["id"] for c in reached] == [ada["id"]] and skipped == []


def plan(store: Store, path: Path, **kw) -> ImportPlan:
    return plan_import(store, read_table(path), **kw)


def commit(store: Store, path: Path, **kw) -> None:
    planned = plan(store, path, **kw)
    assert not planned.blocked, planned.issues
    store.apply_batch(planned.batch())


def answers(store: Store, email: str) -> tuple[object, object]:
    customer = store.find("customers", "email", email)[0]
    return customer.get("email_marketing"), customer.get("sms_marketing")


def test_a_csv_in_german_and_turkish_words_imports_each_answer_stamped_by_the_store(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "kunden.csv"
    path.write_text("Vorname;Nachname;E-Mail;E-Mail-Werbung;Werbung per SMS\n"
                    "Anna;Schmidt;anna@beispiel.de;ja;nein\n"
                    "Jonas;Weber;jonas@beispiel.de;Nein;\n"
                    "Ayşe;Yıldırım;ayse@ornek.com.tr;EVET;hayır\n"
                    "Lena;Koch;lena@beispiel.de;;\n", encoding="utf-8")

    commit(store, path, target="private")

    assert answers(store, "anna@beispiel.de") == (True, False)
    assert answers(store, "jonas@beispiel.de") == (False, None)
    assert answers(store, "ayse@ornek.com.tr") == (True, False)
    assert answers(store, "lena@beispiel.de") == (None, None)
    anna = store.find("customers", "email", "anna@beispiel.de")[0]
    assert anna["marketing_consent"]["email"]["source"] == "import of kunden.csv"
    assert anna["marketing_consent"]["sms"] == {"at": anna["created_at"], "source": "import of kunden.csv"}
    jonas = store.find("customers", "email", "jonas@beispiel.de")[0]
    assert {channel for channel, stamp in jonas["marketing_consent"].items() if stamp} == {"email"}
    assert not store.find("customers", "email", "lena@beispiel.de")[0].get("marketing_consent")


def test_an_xlsx_in_french_dutch_and_spanish_words_imports_each_answer(store: Store, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Prénom", "Nom", "Courriel", "Newsletter", "Consentement SMS", "Portable"])
    sheet.append(["Zoé", "Lefèvre", "zoe@exemple.fr", "oui", "non", "+33 6 12 34 56 78"])
    sheet.append(["Daan", "de Vries", "daan@voorbeeld.nl", "nee", "ja", "+31 6 12345678"])
    sheet.append(["Lucía", "García", "lucia@ejemplo.es", "sí", "NO", "+34 612 34 56 78"])
    sheet.append(["Marie", "Dubois", "marie@exemple.fr", True, None, None])
    book.save(tmp_path / "clients.xlsx")

    commit(store, tmp_path / "clients.xlsx", target="private")

    assert answers(store, "zoe@exemple.fr") == (True, False)
    assert answers(store, "daan@voorbeeld.nl") == (False, True)
    assert answers(store, "lucia@ejemplo.es") == (True, False)
    assert answers(store, "marie@exemple.fr") == (True, None)
    daan = store.find("customers", "email", "daan@voorbeeld.nl")[0]
    assert daan["marketing_consent"]["sms"]["source"] == "import of clients.xlsx"


def test_an_update_by_import_stamps_only_the_answers_it_changes(store: Store, tmp_path: Path) -> None:
    ada = store.add_customer("private", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
                                         "email_marketing": "yes", "sms_marketing": "yes"})
    assert ada["marketing_consent"]["email"]["source"] == "form by tester"
    path = tmp_path / "optouts.csv"
    path.write_text("Email,Email marketing,SMS marketing\nada@example.com,no,yes\n", encoding="utf-8")

    commit(store, path, target="private", mode="update")

    after = store.customer(ada["id"])
    assert (after["email_marketing"], after["sms_marketing"]) == (False, True)
    assert after["marketing_consent"]["email"]["source"] == "import of optouts.csv"
    assert after["marketing_consent"]["sms"] == ada["marketing_consent"]["sms"]


def test_a_file_cannot_set_the_time_or_source(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "forged.csv"
    path.write_text("Email,Name,Newsletter,marketing_consent\nada@example.com,Ada,yes,\"{'email': 'web'}\"\n", encoding="utf-8")

    commit(store, path, target="private")

    stamp = store.find("customers", "email", "ada@example.com")[0]["marketing_consent"]
    assert stamp["email"]["source"] == "import of forged.csv"


def test_export_writes_yes_no_and_empty_and_imports_back_alike(store: Store, tmp_path: Path) -> None:
    for n, (email_answer, sms_answer) in enumerate([(True, False), (False, None), (None, True)], 1):
        store.add_customer("private", {"first_name": f"P{n}", "email": f"p{n}@example.com",
                                       "email_marketing": email_answer, "sms_marketing": sms_answer})
    for suffix in ("csv", "xlsx"):
        out = tmp_path / f"out.{suffix}"
        export_customers(store, out)
        rows = read_table(out)
        exported = [(r["email"], r["email_marketing"] or "", r["sms_marketing"] or "") for r in rows.frame.to_dicts()]
        assert exported == [("p1@example.com", "yes", "no"), ("p2@example.com", "no", ""), ("p3@example.com", "", "yes")]

        copy = Store(tmp_path / suffix / "copy.json", user="tester")
        try:
            commit(copy, out, target="private")
            assert [answers(copy, f"p{n}@example.com") for n in (1, 2, 3)] == [(True, False), (False, None), (None, True)]
        finally:
            copy.close()


@pytest.mark.parametrize(("keep_answer", "other_answer", "merged"), [
    (True, False, False), (False, True, False), (None, False, False), (None, True, True), (True, None, True), (None, None, None),
])
def test_a_merge_keeps_an_opt_out_over_an_agreement(store: Store, keep_answer, other_answer, merged) -> None:
    keep = store.add_customer("private", {"first_name": "Ada", "email": "ada@example.com", "email_marketing": keep_answer})
    other = store.add_customer("private", {"first_name": "Ada", "email": "ada@work.example", "email_marketing": other_answer})
    winner = other if other_answer is not keep_answer and merged is other_answer else keep

    result = store.merge_into(keep["id"], other["id"], {"email_marketing": "keep"})

    assert result.get("email_marketing") is merged
    assert (result.get("marketing_consent") or {}).get("email") == (winner.get("marketing_consent") or {}).get("email")


def test_merge_takes_the_opt_out_with_its_own_time_and_source(store: Store, ada: dict) -> None:
    other = store.add_customer("private", {"first_name": "Ada", "email": "ada@work.example"})
    store.set_marketing(ada["id"], "sms", True, source="sign-up form")
    opted_out = store.set_marketing(other["id"], "sms", False, source="one-click unsubscribe (campaign #7)")

    merged = store.merge_into(ada["id"], other["id"])

    assert merged["sms_marketing"] is False
    assert merged["marketing_consent"]["sms"] == opted_out["marketing_consent"]["sms"]
    assert store.recipients("sms", [ada["id"]])[1] == [{"number": ada["number"], "reason": "opted out of SMS marketing"}]


def test_the_form_sets_not_asked_back_and_stamps_it(store: Store, ada: dict) -> None:
    store.set_marketing(ada["id"], "email", False, source="one-click unsubscribe (campaign #2)")

    edited = store.edit_customer(ada["id"], {"email_marketing": None})

    assert edited.get("email_marketing") is None
    assert edited["marketing_consent"]["email"]["source"] == "form by tester"
    assert store.edit_customer(ada["id"], {"city": "London"})["marketing_consent"] == edited["marketing_consent"]


def test_a_wrong_answer_in_a_file_blocks_its_row_naming_the_column(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Name,Email,SMS marketing\nAda,ada@example.com,maybe\n", encoding="utf-8")

    planned = plan(store, path, target="private")

    assert planned.blocked
    assert [(i.row, i.column, i.message) for i in planned.issues] == [(2, "SMS marketing", "'maybe' must be yes or no")]


_ANSWERS = {"yes": True, "Ja": True, "EVET": True, "oui": True, "Sí": True, "x": True, "no": False, "Nein": False,
            "hayır": False, "HAYIR": False, "non": False, "nee": False, "falso": False, "": None, "  ": None}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# (a NUL makes the file binary data: refused whole, before any cell is read; a lone surrogate
# is no character a UTF-8 file can hold)
@given(st.one_of(st.sampled_from(sorted(_ANSWERS)),
                 st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12)))
def test_any_cell_is_read_as_an_answer_or_refused_in_one_line_never_guessed(cell: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "leads.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            csv.writer(out).writerows([["Name", "Email", "Newsletter"], ["Ada", "ada@example.com", cell]])
        with Store(Path(folder) / "store.json", user="tester") as store:
            table = read_table(path)
            read = table.frame["Newsletter"][0] if table.frame.height else None
            planned = plan_import(store, table, target="private")
            try:
                expected = parse_flag(read)
            except ValueError:
                issues = [i for i in planned.issues if i.column == "Newsletter"]
                assert [(i.row, i.severity) for i in issues] == [(2, "error")]
                assert "\n" not in issues[0].message and "\r" not in issues[0].message
                assert issues[0].message.endswith("must be yes or no")
                return
            assert planned.rows["email_marketing"][0] is expected
            if cell in _ANSWERS:
                assert expected is _ANSWERS[cell]


def test_a_corporate_import_with_departments_stamps_its_answers_too(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "firmen.csv"
    path.write_text("Firma;E-Mail;Abteilung;Newsletter\nEngines GmbH;info@engines.de;Einkauf;nein\n", encoding="utf-8")

    commit(store, path, target="corporate")

    engines = store.find("customers", "email", "info@engines.de")[0]
    assert [d["name"] for d in store.children(engines["id"], "departments")] == ["Einkauf"]
    assert engines["email_marketing"] is False
    assert engines["marketing_consent"]["email"]["source"] == "import of firmen.csv"


def test_the_history_names_the_answer_not_its_stamp(store: Store, ada: dict) -> None:
    store.set_marketing(ada["id"], "email", True, source="sign-up form")

    newest = store.history(ada["id"])[-1]

    assert newest["summary"] == f"Customer {ada['number']} agreed to email marketing (sign-up form)"
    assert [(c["field"], c["old"], c["new"]) for c in newest["changes"]] == [("email_marketing", None, True)]
