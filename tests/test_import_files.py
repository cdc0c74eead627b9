"""Import from files the tests write: encodings, layouts, modes, keys, revert."""
import csv

import pytest
from helpers import contents
from openpyxl import Workbook

from importers import PlanError, UnreadableFile, plan_import, read_table
from importers.mapping import MappingError, parse_overrides
from store import Store
from store.base.errors import ConcurrentChange


def write(path, text, encoding="utf-8", newline="\n"):
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def commit(store, path, **kw):
    p = plan_import(store, read_table(path), **kw)
    assert not p.blocked, p.issues
    return p, store.apply_batch(p.batch())


@pytest.mark.parametrize("known", [False, True], ids=["every row written", "rows left out"])
def test_each_prospect_keeps_its_own_rows_cells_and_only_those_not_empty(store, tmp_path, known):
    """The raw row is handed to the store as the file's cells (a struct), not as text: with
    rows of the file left out (a known email, a blank line) each prospect must still get its own."""
    if known:
        store.add_source({"first_name": "Old", "last_name": "Known", "email": "b@ex.de"})
    f = write(tmp_path / "leads.csv", 'Vorname;Nachname;E-Mail;Notiz;*\n'
              'Anna;Ärger;a@ex.de;"zwei\nZeilen";x\n'
              'Bernd;Bäcker;b@ex.de;;y\n'
              ';;;;\n'
              'Chloé;Çelik;c@ex.de;  ;\n')
    commit(store, f)
    raws = {s["email"]: (s["raw"], s["origin"]["row"]) for s in store.sources() if s.get("origin", {}).get("file")}
    expected = {"a@ex.de": ({"Vorname": "Anna", "Nachname": "Ärger", "E-Mail": "a@ex.de", "Notiz": "zwei\nZeilen", "* (2)": "x"}, 2),
                "b@ex.de": ({"Vorname": "Bernd", "Nachname": "Bäcker", "E-Mail": "b@ex.de", "* (2)": "y"}, 3),
                "c@ex.de": ({"Vorname": "Chloé", "Nachname": "Çelik", "E-Mail": "c@ex.de", "Notiz": "  "}, 5)}
    if known:
        del expected["b@ex.de"]
    assert raws == expected


def test_windows_1254_turkish_semicolons_crlf(store, tmp_path):
    f = write(tmp_path / "musteriler.csv",
              "İsim;Soyisim;E-posta;Telefon;Şirket;Adres;Şehir\n"
              "Ayşe;Yıldırım;AYSE@ornek.com.tr;0532 111 22 33;Doğan Ltd. Şti.;Çiçek Sok. 5;İstanbul\n"
              "Gökhan;Işık;gokhan@ornek.com.tr;0542 444 55 66;;Ağaç Cad. 1;İzmir\n", encoding="cp1254", newline="\r\n")
    store.update_settings(default_country="TR")
    table = read_table(f)
    assert (table.encoding, table.delimiter) == ("cp1254", ";")
    commit(store, f)
    ayse = store.find("sources", "email", "ayse@ornek.com.tr")[0]
    assert (ayse["first_name"], ayse["last_name"], ayse["company"], ayse["city"], ayse["phone"]) == \
        ("Ayşe", "Yıldırım", "Doğan Ltd. Şti.", "İstanbul", "+905321112233")
    assert ayse["origin"] == {"file": "musteriler.csv", "sheet": None, "row": 2}
    assert ayse["raw"]["Şehir"] == "İstanbul"


def test_windows_1252_is_told_apart_from_1254(store, tmp_path):
    # (two rows: 'Lefèvre' alone reads as well as Czech 'Lefčvre' in Windows-1250, and is refused as ambiguous)
    f = write(tmp_path / "clients.csv", "Nom,Prénom,Courriel\nLefèvre,Zoé,zoe@exemple.fr\nForêt,Jérôme,jerome@exemple.fr\n",
              encoding="cp1252")
    table = read_table(f)
    assert table.encoding == "cp1252"
    assert table.columns == ["Nom", "Prénom", "Courriel"]


def test_utf8_bom_with_quoted_multiline_addresses(store, tmp_path):
    f = write(tmp_path / "bom.csv", '\ufeffName,Email,Address\n"Ada Lovelace",ada@example.com,"12 Analytical Row\nFlat 3, London"\n'
              '"Grace Hopper",grace@example.com,"1 Navy Way"\n')
    p, _ = commit(store, f)
    ada = store.find("sources", "email", "ada@example.com")[0]
    assert ada["street"] == "12 Analytical Row\nFlat 3, London" and ada["last_name"] == "Lovelace"
    assert p.counts()["created"] == 2


def workbook_with_title_rows(path):
    book = Workbook()
    sheet = book.active
    sheet.title = "Kunden"
    sheet["A1"] = "Kundenliste 2026"
    sheet.merge_cells("A1:D1")
    sheet.append([])
    sheet.append(["Firma", "E-Mail", "Telefon", "PLZ"])
    sheet.append(["Müller GmbH", "info@mueller.example", "030 1234567", "01067"])
    sheet.append(["Schmidt AG", "kontakt@schmidt.example", 4930765432, "80331"])
    other = book.create_sheet("Notizen")
    other.append(["Stichwort", "Text"])
    other.append(["a", "b"])
    book.save(path)
    return path


def test_xlsx_with_merged_title_blank_row_and_second_sheet(store, tmp_path):
    f = workbook_with_title_rows(tmp_path / "kunden.xlsx")
    store.update_settings(default_country="DE")
    table = read_table(f)
    assert (table.sheet, table.header_row, table.columns) == ("Kunden", 3, ["Firma", "E-Mail", "Telefon", "PLZ"])
    p, _ = commit(store, f, target="corporate")
    rows = {c["company"]: c for c in store.customers()}
    assert rows["Müller GmbH"]["postcode"] == "01067" and rows["Müller GmbH"]["phone"] == "+49301234567"
    assert table.frame["Telefon"].to_list()[1] == "4930765432"  # a number cell, read as its digits
    assert p.issues == [] and store.find("customers", "email", "info@mueller.example")[0]["kind"] == "corporate"
    assert read_table(f, sheet="Notizen").columns == ["Stichwort", "Text"]
    with pytest.raises(UnreadableFile, match="no sheet named 'Nope' \\(sheets: Kunden, Notizen\\)"):
        read_table(f, sheet="Nope")


def people(path, rows, header="Name,Email,City,Customer number,VAT,Phone,External ID"):
    return write(path, header + "\n" + "\n".join(rows) + "\n")


def test_update_keyed_on_email_ignores_case_and_reports_diffs(store, tmp_path):
    commit(store, people(tmp_path / "a.csv", ["Ada Lovelace,ada@example.com,London,,,,", "Alan Turing,alan@example.com,Wilmslow,,,,"]),
           target="private")
    f = people(tmp_path / "b.csv", ["Ada Lovelace,ADA@Example.com,Paris,,,,", "Alan Turing,alan@example.com,Wilmslow,,,,",
                                   "Grace Hopper,grace@example.com,Arlington,,,,"])
    p = plan_import(store, read_table(f), target="private", mode="update")
    assert [r["_status"] for r in p.rows.to_dicts()] == ["update", "unchanged", "skipped"]
    assert list(p.diffs.values()) == [{"city": ("London", "Paris")}]
    store.apply_batch(p.batch())
    assert store.find("customers", "email", "ada@example.com")[0]["city"] == "Paris"
    assert store.customer_count() == 2


def test_modes_create_update_upsert(store, tmp_path):
    commit(store, people(tmp_path / "a.csv", ["Ada Lovelace,ada@example.com,London,,,,"]), target="private")
    f = people(tmp_path / "b.csv", ["Ada Lovelace,ada@example.com,Paris,,,,", "Grace Hopper,grace@example.com,Arlington,,,,"])
    statuses = {mode: [r["_status"] for r in plan_import(store, read_table(f), target="private", mode=mode).rows.to_dicts()]
                for mode in ("create", "update", "upsert")}
    assert statuses == {"create": ["skipped", "new"], "update": ["update", "skipped"], "upsert": ["update", "new"]}


@pytest.mark.parametrize("key,first,second", [
    ("number", "Ada,ada@example.com,London,c-77,,,", "Ada,other@example.com,Paris,C-77,,,"),
    ("vat_id", "Ada,ada@example.com,London,,DE 136.695.976,,", "Ada,other@example.com,Paris,,de136695976,,"),
    ("phone", "Ada,ada@example.com,London,,,+49 30 1234567,", "Ada,other@example.com,Paris,,,030-1234567,"),
    ("external_id", "Ada,ada@example.com,London,,,,X-1", "Ada,other@example.com,Paris,,,,X-1"),
])
def test_each_key_matches_its_normalised_form(store, tmp_path, key, first, second):
    store.update_settings(default_country="DE")
    commit(store, people(tmp_path / "a.csv", [first]), target="private")
    p, _ = commit(store, people(tmp_path / "b.csv", [second]), target="private", mode="upsert", key=key)
    assert p.counts()["updated"] == 1 and store.customer_count() == 1
    (c,) = store.customers()
    assert (c["city"], c["email"]) == ("Paris", "other@example.com")


def test_key_without_a_column_is_a_usage_error(store, tmp_path):
    f = people(tmp_path / "a.csv", ["Ada,ada@example.com,London,,,,"], header="Name,Email,City,X,Y,Z,W")
    with pytest.raises(PlanError, match="--key vat_id: no column is mapped to vat_id"):
        plan_import(store, read_table(f), mode="update", key="vat_id")


def test_an_unknown_target_is_one_refusal_for_plans_and_sample_files(store, tmp_path):
    from importers.templates import write_template
    f = people(tmp_path / "a.csv", ["Ada,ada@example.com,London,,,,"])
    expected = "--into must be one of sources, corporate, private, not 'Corporate'"
    with pytest.raises(PlanError, match=expected):
        plan_import(store, read_table(f), target="Corporate")
    with pytest.raises(PlanError, match=expected):
        write_template(tmp_path / "t.csv", "Corporate")
    assert not (tmp_path / "t.csv").exists() and store.customer_count() == 0


def test_duplicates_in_the_file_and_ambiguous_matches(store, tmp_path):
    store.add_customer("private", {"first_name": "A", "email": "dup@example.com"})
    store.add_customer("private", {"first_name": "B", "email": "dup@example.com"})
    f = people(tmp_path / "a.csv", ["Ada,ada@example.com,London,,,,", "Ada L,ADA@example.com,Paris,,,,", "X,dup@example.com,Rome,,,,"])
    p = plan_import(store, read_table(f), target="private", mode="upsert")
    assert [r["_status"] for r in p.rows.to_dicts()] == ["new", "duplicate", "error"]
    assert p.issues[-1].message.startswith("email matches 2 existing records")


def test_card_numbers_block_and_skip_invalid_imports_the_rest(store, tmp_path):
    f = write(tmp_path / "cards.csv", "Name,Email,Notes\nAda,ada@example.com,paid by 4111 1111 1111 1111\n"
                                      "Grace,grace@example.com,fine\n")
    p = plan_import(store, read_table(f))
    assert p.blocked and p.issues[0].column == "Notes" and "card number" in p.issues[0].message
    store.apply_batch(p.batch())  # error rows are never part of the batch
    assert [s["email"] for s in store.sources()] == ["grace@example.com"]


def test_formula_looking_cells_are_data(store, tmp_path):
    f = write(tmp_path / "f.csv", "Name,Email,Notes\n\"=HYPERLINK(\"\"http://evil\"\")\",eve@example.com,'=SUM(A1)\n")
    commit(store, f)
    (s,) = store.sources()
    assert s["first_name"] == '=HYPERLINK("http://evil")'
    assert s["notes"] == "=SUM(A1)"  # the ' a spreadsheet export put before it is taken off


def test_revert_restores_the_store_exactly(store, tmp_path):
    commit(store, people(tmp_path / "a.csv", ["Ada,ada@example.com,London,,,,"]), target="private")
    before = contents(store)
    _, entry = commit(store, people(tmp_path / "b.csv", ["Ada,ada@example.com,Paris,,,,", "Grace,grace@example.com,Rome,,,,"]),
                      target="private", mode="upsert")
    assert store.customer_count() == 2
    store.undo(entry["id"])
    assert contents(store) == before


def test_manual_mapping_overrides(store, tmp_path):
    f = write(tmp_path / "m.csv", "Who,Mail,Ort\nAda Lovelace,ada@example.com,London\n")
    p = plan_import(store, read_table(f), overrides=parse_overrides(["Who=full_name", "Ort=-"]))
    row = p.rows.to_dicts()[0]
    assert (row["first_name"], row["last_name"], row.get("city")) == ("Ada", "Lovelace", None)
    assert {m.column: m.how for m in p.mappings} == {"Who": "manual", "Mail": "fuzzy", "Ort": "unmapped"} or \
        {m.column: m.how for m in p.mappings}["Who"] == "manual"
    with pytest.raises(MappingError, match="unknown field 'colour'"):
        parse_overrides(["Who=colour"])
    with pytest.raises(MappingError, match="the file has no column 'Nope'"):
        plan_import(store, read_table(f), overrides=parse_overrides(["Nope=email"]))


def test_error_log_csv(store, tmp_path):
    f = write(tmp_path / "e.csv", "Name,Email,Phone\nAda,broken,\n,grace@example.com,not a phone\n")
    p = plan_import(store, read_table(f))
    out = tmp_path / "errors.csv"
    assert p.write_error_log(out) == 3
    log = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert log[0] == {"row": "2", "column": "Email", "value": "broken", "message": "'broken' is not a valid email address: an email address must have an @-sign", "severity": "error"}
    assert {(r["row"], r["severity"]) for r in log[1:]} == {("3", "error"), ("3", "warning")}


@pytest.mark.parametrize("name,content,message", [
    ("empty.csv", b"", "the file is empty"),
    ("blank.csv", b"\n\n  \n", "the file is empty"),
    ("header.csv", b"Name,Email,Phone\n", "header row but no data rows"),
    ("junk.csv", bytes(range(256)) * 4, "binary data, not a CSV file"),
    ("fake.xlsx", b"PK\x03\x04 not really a zip", "not a readable .xlsx workbook"),
    ("text.xlsx", b"Name,Email\nAda,ada@example.com\n", "not a readable .xlsx workbook"),
    ("numbers.csv", b"1,2,3\n4,5,6\n", "no header row found in the first 20 rows"),
])
def test_bad_files_give_one_line_naming_the_file(tmp_path, name, content, message):
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(UnreadableFile) as err:
        read_table(f)
    assert str(err.value).startswith(str(f)) and message in str(err.value) and "\n" not in str(err.value)


def test_huge_cells_are_refused(tmp_path):
    f = tmp_path / "huge.csv"
    f.write_text("Name,Email\n" + "x" * 40_000 + ",a@example.com\n")
    with pytest.raises(UnreadableFile, match="over 32,767 characters"):
        read_table(f)


def test_xlsx_starting_below_empty_rows_keeps_the_spreadsheets_row_numbers(store, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet["B3"], sheet["C3"] = "Name", "Email"
    sheet["B4"], sheet["C4"] = "Ada Lovelace", "ada@example.com"
    sheet["B5"], sheet["C5"] = "Broken", "not-an-email"
    path = tmp_path / "offset.xlsx"
    book.save(path)
    table = read_table(path)
    assert table.header_row == 3
    plan = plan_import(store, table)
    assert [(i.row, i.column) for i in plan.issues] == [(5, "Email")]


@pytest.mark.parametrize("target", ["sources", "private"])
def test_a_duplicate_verdict_is_checked_again_under_the_commits_lock(store, store_path, tmp_path, target):
    """Two imports planned at once, each against a store that holds neither: the one that
    commits second would have flagged the other's rows as duplicates, so it imports nothing."""
    store.update_settings(default_country="DE")
    other = Store(store_path, user="colleague")  # (another process on the same store)
    try:
        first = people(tmp_path / "a.csv", ["Ada,ada@example.com,London,,,,", "Alan,alan@example.com,Leeds,,,030 1234567,"])
        second = people(tmp_path / "b.csv", ["Ada L,ADA@example.com,Paris,,,,", "Grace,grace@example.com,Arlington,,,+49 30 1234567,",
                                            "Mary,mary@example.com,Bath,,,,"])
        planned = plan_import(other, read_table(second), target=target)
        assert planned.counts()["created"] == 3
        commit(store, first, target=target)
        with pytest.raises(ConcurrentChange, match=r"2 of the 3 records to create now match a customer or prospect by email, phone "
                                                   r"\(added meanwhile by someone else\?\); nothing was imported"):
            other.apply_batch(planned.batch())
        store.refresh()
        assert store.stats()[target if target == "sources" else "customers"] == 2  # nothing of the second file
        again = plan_import(other, read_table(second), target=target)  # what the two one after the other say
        assert [r["_status"] for r in again.rows.to_dicts()] == ["skipped", "duplicate", "new"]
    finally:
        other.close()
