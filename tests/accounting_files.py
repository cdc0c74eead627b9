"""Accounting exports written as each system documents its layout, from plain records:
{id, company, first, last, email, phone, street, postcode, city, country, vat, person, archived}."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook

Record = dict

PEOPLE: list[Record] = [
    {"id": "10001", "company": "Müller & Söhne GmbH", "first": "Jürgen", "last": "Müller", "email": "info@müller-söhne.de",
     "phone": "030 1234567", "street": "Hauptstraße 5", "postcode": "10115", "city": "Berlin", "country": "DE",
     "vat": ("DE", "123456788"), "person": False, "archived": False},
    {"id": "10002", "company": "", "first": "Ayşe", "last": "Yılmaz", "email": "ayse@ornek.com.tr", "phone": "0212 555 12 34",
     "street": "İstiklal Cd. 10", "postcode": "34430", "city": "İstanbul", "country": "TR", "vat": ("", ""),
     "person": True, "archived": False},
    {"id": "10003", "company": "Boulangerie Dupont SARL", "first": "Camille", "last": "Dupont", "email": "contact@dupont.fr",
     "phone": "01 42 68 53 00", "street": "12 rue de la Paix", "postcode": "75002", "city": "Paris", "country": "FR",
     "vat": ("FR", "40303265045"), "person": False, "archived": True},
]

# DATEV writes Windows-1252, which has no Turkish İ or ş: its person is German.
DATEV_PEOPLE = [PEOPLE[0], {**PEOPLE[1], "first": "Jörg", "last": "Weiß", "email": "joerg.weiss@beispiel.de",
                             "phone": "0221 9876543", "street": "Domstraße 1", "postcode": "50667", "city": "Köln",
                             "country": "DE"}, PEOPLE[2]]


def _csv(path: Path, header: list[str], rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8",
         newline: str = "\n") -> Path:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows([header, *rows])
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def xero(path: Path, people: list[Record]) -> Path:
    header = ["*ContactName", "AccountNumber", "EmailAddress", "FirstName", "LastName", "POAttentionTo", "POAddressLine1",
              "POAddressLine2", "POCity", "PORegion", "POPostalCode", "POCountry", "SAAddressLine1", "SACity", "SAPostalCode",
              "SACountry", "PhoneNumber", "FaxNumber", "MobileNumber", "TaxNumber", "ContactStatus"]
    rows = [[p["company"] or f"{p['first']} {p['last']}", p["id"], p["email"], p["first"], p["last"], "", p["street"], "",
             p["city"], "", p["postcode"], p["country"], "", "", "", "", p["phone"], "", "", "".join(p["vat"]),
             "ARCHIVED" if p["archived"] else "ACTIVE"] for p in people]
    return _csv(path, header, rows)


def _qbo(p: Record) -> dict:
    item = {"Id": p["id"], "DisplayName": p["company"] or f"{p['first']} {p['last']}", "GivenName": p["first"],
            "FamilyName": p["last"], "PrimaryEmailAddr": {"Address": p["email"]}, "PrimaryPhone": {"FreeFormNumber": p["phone"]},
            "BillAddr": {"Id": "7", "Line1": p["street"], "City": p["city"], "PostalCode": p["postcode"], "Country": p["country"]},
            "Active": not p["archived"], "SyncToken": "0", "MetaData": {"CreateTime": "2026-01-05T10:00:00-08:00"}}
    if p["company"]:
        item["CompanyName"] = p["company"]
    return item


def quickbooks(path: Path, people: list[Record]) -> Path:
    data = {"QueryResponse": {"Customer": [_qbo(p) for p in people], "startPosition": 1, "maxResults": len(people)},
            "time": "2026-11-24T01:00:00.000-08:00"}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def quickbooks_xlsx(path: Path, people: list[Record]) -> Path:
    header = ["Id", "DisplayName", "CompanyName", "GivenName", "FamilyName", "PrimaryEmailAddr.Address",
              "PrimaryPhone.FreeFormNumber", "BillAddr.Line1", "BillAddr.City", "BillAddr.PostalCode", "BillAddr.Country", "Active"]
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for p in people:
        item = _qbo(p)
        sheet.append([item["Id"], item["DisplayName"], p["company"], p["first"], p["last"], p["email"], p["phone"], p["street"],
                      p["city"], p["postcode"], p["country"], "false" if p["archived"] else "true"])
    book.save(path)
    return path


DATEV_COLUMNS = ["Konto", "Name (Adressatentyp Unternehmen)", "Unternehmensgegenstand", "Name (Adressatentyp natürl. Person)",
                 "Vorname (Adressatentyp natürl. Person)", "Name (Adressatentyp keine Angabe)", "Adressatentyp", "Kurzbezeichnung",
                 "EU-Land", "EU-USt-IdNr.", "Anrede", "Titel/Akad. Grad", "Adelstitel", "Namensvorsatz", "Adressart", "Straße",
                 "Postfach", "Postleitzahl", "Ort", "Land", "Versandzusatz", "Adresszusatz", "Abweichende Anrede",
                 "Abw. Zustellbezeichnung 1", "Abw. Zustellbezeichnung 2", "Kennz. Korrespondenzadresse", "Adresse Gültig von",
                 "Adresse Gültig bis", "Telefon", "Bemerkung (Telefon)", "Telefon GL", "Bemerkung (Telefon GL)", "E-Mail",
                 "Bemerkung (E-Mail)", "Internet", "Bemerkung (Internet)", "Fax", "Bemerkung (Fax)", "Sonstige"]
DATEV_WIDTH = 243  # Debitoren/Kreditoren, format version 5: the rest are bank, terms and free fields


def datev(path: Path, people: list[Record]) -> Path:
    preamble = ['"EXTF"', "700", "16", '"Debitoren/Kreditoren"', "5", "20261124090000000", "", '"RE"', '"custdesk"', '""',
                "29098", "55003", "20260101", "7", "", "", '""', '""', "", "", "", "", '""', "", "", "", ""]
    header = DATEV_COLUMNS + ["Leerfeld"] * (DATEV_WIDTH - len(DATEV_COLUMNS))
    lines = [";".join(preamble), ";".join(f'"{h}"' for h in header)]
    for p in people:
        cells = dict.fromkeys(header, "")
        cells.update({"Konto": p["id"], "Adressatentyp": "1" if p["person"] else "2", "EU-Land": p["vat"][0],
                      "EU-USt-IdNr.": p["vat"][1], "Straße": p["street"], "Postleitzahl": p["postcode"], "Ort": p["city"],
                      "Land": p["country"], "Telefon": p["phone"], "E-Mail": p["email"]})
        if p["person"]:
            cells.update({"Name (Adressatentyp natürl. Person)": p["last"], "Vorname (Adressatentyp natürl. Person)": p["first"]})
        else:
            cells["Name (Adressatentyp Unternehmen)"] = p["company"]
        values = [cells[h] if i < len(DATEV_COLUMNS) else "" for i, h in enumerate(header)]
        lines.append(";".join(f'"{v}"' if v and not v.isdigit() else v for v in values))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))  # (DATEV writes Windows-1252)
    return path


def sage(path: Path, people: list[Record]) -> Path:
    header = ["Reference", "Company Name", "Currency", "Credit Limit", "Main Address Type", "Main Address Line 1",
              "Main Address Line 2", "Main Address Town", "Main Address County", "Main Address Post Code", "Main Address Country",
              "Main Contact Name", "Main Contact Phone", "Main Contact Type", "Main Contact Mobile", "Main Contact Email",
              "Main Contact Fax", "VAT Number"]
    rows = [[p["id"], p["company"] or f"{p['first']} {p['last']}", "", "", "", p["street"], "", p["city"], "", p["postcode"],
             p["country"], f"{p['first']} {p['last']}", p["phone"], "", "", p["email"], "", "".join(p["vat"])] for p in people]
    return _csv(path, header, rows)


def exact(path: Path, people: list[Record]) -> Path:
    header = ["Code", "Name", "Status", "Email", "Phone", "Address line 1", "Postcode", "City", "Country", "VAT number", "Blocked"]
    rows = [[p["id"], p["company"] or f"{p['first']} {p['last']}", "C", p["email"], p["phone"], p["street"], p["postcode"],
             p["city"], p["country"], "".join(p["vat"]), "True" if p["archived"] else "False"] for p in people]
    return _csv(path, header, rows, delimiter=";")


def odoo(path: Path, people: list[Record]) -> Path:
    header = ["id", "name", "is_company", "commercial_company_name", "email", "phone", "mobile", "street", "zip", "city",
              "country_id", "vat", "active"]
    rows = [[f"__export__.res_partner_{p['id']}_5f3a", p["company"] or f"{p['first']} {p['last']}",
             "False" if p["person"] else "True", p["company"], p["email"], p["phone"], "", p["street"], p["postcode"], p["city"],
             p["country"], "".join(p["vat"]), "False" if p["archived"] else "True"] for p in people]
    return _csv(path, header, rows)


def zoho(path: Path, people: list[Record]) -> Path:
    header = ["Contact ID", "Display Name", "Company Name", "First Name", "Last Name", "EmailID", "Phone", "MobilePhone",
              "Customer Sub Type", "Billing Address", "Billing City", "Billing Code", "Billing Country",
              "Tax Registration Number", "Status"]
    rows = [[f"46000000{p['id']}", p["company"] or f"{p['first']} {p['last']}", p["company"], p["first"], p["last"], p["email"],
             p["phone"], "", "individual" if p["person"] else "business", p["street"], p["city"], p["postcode"], p["country"],
             "".join(p["vat"]), "Inactive" if p["archived"] else "Active"] for p in people]
    return _csv(path, header, rows)


def freshbooks(path: Path, people: list[Record]) -> Path:
    header = ["Client ID", "Organization", "First Name", "Last Name", "Email", "Phone", "Mobile", "Street", "City",
              "Province/State", "Postal/Zip Code", "Country", "Tax Number"]
    rows = [[p["id"], p["company"], p["first"], p["last"], p["email"], p["phone"], "", p["street"], p["city"], "",
             p["postcode"], p["country"], "".join(p["vat"])] for p in people]
    return _csv(path, header, rows)


# profile → (writer, file name)
WRITERS: dict[str, tuple[Callable[[Path, list[Record]], Path], str]] = {
    "xero": (xero, "Contacts.csv"),
    "quickbooks": (quickbooks, "customers.json"),
    "datev": (datev, "EXTF_Debitoren.csv"),
    "sage": (sage, "customers.csv"),
    "exact": (exact, "Accounts.csv"),
    "odoo": (odoo, "res.partner.csv"),
    "zoho": (zoho, "Contacts.csv"),
    "freshbooks": (freshbooks, "clients.csv"),
}
