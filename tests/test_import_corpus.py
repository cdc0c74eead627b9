"""Every real export in ../shared/corpus: planned with the mapping a person would
choose, or refused with a clear message. None may crash."""

import os

import pytest
from helpers import CORPUS

from importers import UnreadableFile, plan_import, read_table

# On a developer's machine without shared/ beside the project these are skipped; in CI
# (CI=true) a missing corpus is a failure, never a silently smaller suite.
if os.environ.get("CI") == "true" and not CORPUS.is_dir():
    raise RuntimeError(f"{CORPUS}: the corpus is missing; CI runs with shared/ beside the project")
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside the project")


def plan(store, name, **kw):
    return plan_import(store, read_table(CORPUS / name), **kw)


def mapped(p) -> dict[str, str]:
    return {m.column: m.field for m in p.mappings if m.field}


def rows(p) -> list[dict]:
    return p.rows.to_dicts()


def test_every_corpus_file_plans_or_is_refused_clearly(store):
    files = sorted(f for f in CORPUS.glob("*/*") if f.suffix != ".md")
    assert len(files) >= 19
    for f in files:
        try:
            p = plan_import(store, read_table(f))
        except UnreadableFile as err:
            assert str(err).startswith(str(f)) and "\n" not in str(err)
        else:
            assert p.counts()["rows"] > 0, f


def test_bagisto_xlsx(store):
    p = plan(store, "bagisto/customers.xlsx")
    assert mapped(p) == {"email": "email", "customer_group_code": "tags", "first_name": "first_name",
                         "last_name": "last_name", "phone": "phone"}
    assert p.counts()["created"] == 3 and rows(p)[0]["email"] == "john@example.com"


def test_dirty_shopify_semicolons_full_names_and_missing_reach(store):
    p = plan(store, "dirty-dummy-data/shopify_customers.csv")
    assert p.table.delimiter == ";" and p.counts()["rows"] == 300
    assert mapped(p)["full_name"] == "full_name" and mapped(p)["email"] == "email"
    first = rows(p)[0]
    assert (first["first_name"], first["last_name"]) == ("Aaliyah", "GERLACH")
    assert p.blocked and any(i.message == "an email or a phone number is required" for i in p.issues)
    assert any("is not a valid email address" in i.message for i in p.issues)  # emails without '@'


def test_hubspot_keeps_leading_zeros_and_maps_ids(store):
    p = plan(store, "hubspot-dummydata/hubspot_contacts.csv")
    m = mapped(p)
    assert (m["Contact ID"], m["Email"], m["Phone Number"], m["Mobile Phone Number"], m["Postal Code"]) == \
        ("external_id", "email", "phone", "mobile", "postcode")
    assert p.counts()["rows"] == 950
    assert "06652" in p.rows["postcode"].to_list()


def test_invoiceninja_preamble_and_two_phone_columns(store):
    store.update_settings(default_country="US")
    p = plan(store, "invoiceninja/clients.csv")
    assert p.table.header_row == 4 and p.counts()["rows"] == 20
    assert mapped(p)["Phone"] == "phone" and mapped(p)["Phone (2)"] == "phone"
    # The contact phone fills the empty client phone; 537 is no US area code, so it stays as typed.
    assert rows(p)[0]["phone"] == "1-537-759-0369"
    assert any(i.row == 5 and i.message == "'1-537-759-0369' is not a valid phone number for US; kept as typed"
               for i in p.issues)
    assert "05144" in p.rows["postcode"].to_list()


def test_zoho_long_ids_stay_exact(store):
    p = plan(store, "invoiceninja/zoho_contacts.csv")
    m = mapped(p)
    assert m["EmailID"] == "email" and m["Company Name"] == "company"
    raw = p.table.frame["Customer ID"].to_list()
    assert "2520018000000073005" in raw


def test_kimai_german_headers_multiline_and_same_email(store):
    p = plan(store, "kimai/grandtotal_de.csv", target="corporate")
    m = mapped(p)
    assert (m["Firma"], m["Abteilung"], m["PLZ"], m["Ort"], m["Straße"], m["Umsatzsteuer-ID"], m["Kundennummer"]) == \
        ("company", "department", "postcode", "city", "street", "vat_id", "number")
    assert rows(p)[0]["street"] == "Acme Street\nDowntown"
    # Its VAT ids fail DE's format (11 digits, 9 the rule): errors naming the column, not stored wrong.
    assert [(i.row, i.column, i.message) for i in p.issues] == [
        (2, "Umsatzsteuer-ID", "VAT id 'DE1234567890' is not a valid VAT id of DE: the length is wrong"),
        (3, "Umsatzsteuer-ID", "VAT id 'DE0987654321' is not a valid VAT id of DE: the format is wrong")]
    fixed = plan(store, "kimai/grandtotal_de.csv", target="corporate", overrides={"Umsatzsteuer-ID": None})
    assert fixed.counts()["duplicates"] == 1  # the same email twice


def test_krayin_json_array_cells(store):
    p = plan(store, "krayin/persons.csv")
    first = rows(p)[0]
    assert first["email"] == "contact@wilson.com"
    assert "contact.home@wilson.com" in first["notes"]


def test_odoo_xls_numbers_read_as_text(store):
    p = plan(store, "odoo/res_partner.xls")
    assert p.table.sheet == "Sheet 1"
    assert rows(p)[0]["postcode"] == "95101" and rows(p)[0]["city"] == "San José"
    assert p.blocked  # the template has no email or phone: every row says so
    assert p.issues[0].message == "an email or a phone number is required"


def test_odoo_first_sheet_with_data(store):
    assert read_table(CORPUS / "odoo/test.xlsx").sheet == "Sheet1"
    with pytest.raises(UnreadableFile, match="sheet 'Sheet2' holds no data"):
        read_table(CORPUS / "odoo/test.xlsx", sheet="Sheet2")


def test_orocrm_identical_rows_are_one_plus_a_duplicate(store):
    p = plan(store, "orocrm/contact_with_duplicate_records.csv")
    assert (p.counts()["created"], p.counts()["duplicates"]) == (1, 1)


def test_prestashop_trailing_semicolon_is_no_ragged_row(store):
    p = plan(store, "prestashop-thirtybees/addresses_import.csv")
    assert p.table.delimiter == ";" and p.counts()["rows"] == 16
    assert p.table.ragged == []
    assert mapped(p)["Customer e-mail*"] == "email" and mapped(p)["Zipcode*"] == "postcode"
    assert p.counts()["duplicates"] >= 3  # customers with two addresses under one e-mail


def test_gmail_multiline_and_groups(store):
    p = plan(store, "roundcube/gmail.csv")
    m = mapped(p)
    assert m["E-mail 1 - Value"] == "email" and m["Group Membership"] == "tags"
    assert "E-mail 1 - Type" not in m
    assert p.counts()["rows"] == 1


def test_salesforce_bom_and_short_rows(store):
    p = plan(store, "salesforce-lwc-recipes/Accounts-Contacts.csv")
    assert p.table.encoding == "utf-8-sig" and mapped(p)["Account: Account Name"] == "company"
    assert len(p.table.ragged) == 8
    assert sum(1 for i in p.issues if i.column == "(row)") == 8


def test_shopware_number_and_zipcodes(store):
    p = plan(store, "shopware/customers.csv")
    assert mapped(p)["customer_number"] == "number"
    assert "00932" in p.rows["postcode"].to_list() and "98282-5543" in p.rows["postcode"].to_list()


def test_turkish_template_keeps_leading_zero_and_warns_about_sliding_columns(store):
    store.update_settings(default_country="TR")
    p = plan(store, "sporcumoto-turkish/CRM_Toplu_Musteri_Ekleme_Sablonu.csv")
    m = mapped(p)
    assert (m["Telefon"], m["Ad Soyad"], m["Etiket"], m["Not"]) == ("phone", "full_name", "tags", "notes")
    assert rows(p)[0]["phone"] == "+905321234567"
    assert (rows(p)[0]["first_name"], rows(p)[0]["last_name"]) == ("Ahmet", "Yılmaz")
    assert len(p.table.ragged) == 3
    assert p.counts()["errors"] == 2  # the child rows have no name of their own


def test_thunderbird_cr_and_lf_inside_fields(store):
    p = plan(store, "thunderbird/export.csv")
    assert p.counts()["rows"] == 2
    assert all("is not a valid email address" in i.message for i in p.issues if i.severity == "error")


def test_shift_jis_is_refused_not_garbled(store):
    with pytest.raises(UnreadableFile, match="shiftjis_addressbook.csv: unknown text encoding"):
        read_table(CORPUS / "thunderbird/shiftjis_addressbook.csv")


def test_utf16_is_read(store):
    p = plan(store, "thunderbird/utf16_addressbook.csv")
    assert p.table.encoding == "utf-16" and p.counts()["rows"] == 1
    assert mapped(p)["Primary Email"] == "email"
