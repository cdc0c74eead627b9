"""One export per sync profile, written from the vendor's documentation of it (the columns
in the documented order and spelling, values as the documentation describes them), and
what a sync of it stores. Each profile's .toml names the documentation followed; these
files are its samples. `accounting_files` writes the same people through every profile;
these are the vendors' own layouts, header variants and all."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    file: str
    data: bytes
    # account id → the prospect's fields expected (a subset), "kind" and "archived" from its origin
    expected: dict[str, dict[str, object]]


def _csv(lines: list[str], *, encoding: str = "utf-8", newline: str = "\n") -> bytes:
    return (newline.join(lines) + newline).encode(encoding)


# Xero's export heads the name `ContactName` (the import template `*ContactName`) and writes
# every column of the template, most of them empty.
XERO_HEADER = ("ContactName,AccountNumber,EmailAddress,FirstName,LastName,POAttentionTo,POAddressLine1,POAddressLine2,"
               "POAddressLine3,POAddressLine4,POCity,PORegion,POPostalCode,POCountry,SAAttentionTo,SAAddressLine1,"
               "SAAddressLine2,SAAddressLine3,SAAddressLine4,SACity,SARegion,SAPostalCode,SACountry,PhoneNumber,"
               "FaxNumber,MobileNumber,DDINumber,SkypeName,BankAccountName,BankAccountNumber,BankAccountParticulars,"
               "TaxNumber,AccountsReceivableTaxCodeName,AccountsPayableTaxCodeName,Website,LegalName,Discount,"
               "CompanyNumber,DueDateBillDay,DueDateBillTerm,DueDateSalesDay,DueDateSalesTerm")
XERO = Sample("Contacts.csv", _csv([
    XERO_HEADER,
    "Nordlicht GmbH,NORD-100,info@nordlicht.example,Jana,Krüger,Buchhaltung,Speicherstadt 3,,,,Hamburg,,20457,DE,,,,,,,,,,"
    "+49 40 1234567,,,,,,,,DE136695976,,,https://nordlicht.example,,,,,,,",
    "Ada Lovelace,ADA-7,ada@lovelace.example,Ada,Lovelace,,,,,,,,,,,12 St James's Square,,,,London,,SW1Y 4JH,GB,"
    "+44 20 7946 0000,,,,,,,,,,,,,,,,,,",
]), {
    "NORD-100": {"company": "Nordlicht GmbH", "email": "info@nordlicht.example", "street": "Speicherstadt 3",
                 "postcode": "20457", "city": "Hamburg", "country": "DE", "vat_id": "DE136695976", "kind": "corporate"},
    "ADA-7": {"company": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace", "street": "12 St James's Square",
              "city": "London", "country": "GB", "kind": "corporate"},
})

ZOHO = Sample("Customers.csv", _csv([
    "Created Time,Last Modified Time,Display Name,Company Name,Salutation,First Name,Last Name,Phone,Currency Code,Notes,"
    "Website,Status,Customer Sub Type,Billing Attention,Billing Address,Billing Street2,Billing City,Billing State,"
    "Billing Country,Billing Code,Billing Phone,Billing Fax,Shipping Attention,Shipping Address,Shipping City,"
    "Shipping Country,Shipping Code,Payment Terms,Payment Terms Label,EmailID,MobilePhone,Customer ID,Customer Number,"
    "Contact Type,Tax Registration Number",
    "2026-03-02 10:14:05,2026-11-20 08:00:00,Brouwerij De Gouden Leeuw,Brouwerij De Gouden Leeuw BV,,Pieter,de Vries,"
    "+31 20 555 0101,EUR,,https://leeuw.example,Active,business,,Herengracht 12,,Amsterdam,Noord-Holland,Netherlands,"
    "1015 BR,,,,,,,,30,Net 30,inkoop@leeuw.example,,460000000012345,CUS-00001,customer,NL004495445B01",
    "2026-05-11 16:40:00,2026-05-11 16:40:00,Marie Curie,,Mme.,Marie,Curie,,EUR,,,Inactive,individual,,11 rue Pierre et Marie"
    " Curie,,Paris,,France,75005,,,,,,,,0,Due on Receipt,marie@curie.example,+33 6 12 34 56 78,460000000067890,CUS-00002,"
    "customer,",
]), {
    "460000000012345": {"company": "Brouwerij De Gouden Leeuw BV", "first_name": "Pieter", "last_name": "de Vries",
                        "email": "inkoop@leeuw.example", "postcode": "1015 BR", "city": "Amsterdam",
                        "vat_id": "NL004495445B01", "kind": "corporate", "archived": False},
    "460000000067890": {"first_name": "Marie", "last_name": "Curie", "email": "marie@curie.example", "city": "Paris",
                        "kind": "private", "archived": True},
})

# DATEV format version 5 (header 700), in the documented column order; the columns after
# "Bemerkung (Sonstige)" (banks, terms, free fields) are left empty as an export without them.
DATEV_HEADER = ["Konto", "Name (Adressattyp Unternehmen)", "Unternehmensgegenstand", "Name (Adressattyp natürl. Person)",
                "Vorname (Adressattyp natürl. Person)", "Name (Adressattyp keine Angabe)", "Adressattyp", "Kurzbezeichnung",
                "EU-Land", "EU-UStID", "Anrede", "Titel/Akad. Grad", "Adelstitel", "Namensvorsatz", "Adressart", "Straße",
                "Postfach", "Postleitzahl", "Ort", "Land", "Versandzusatz", "Adresszusatz", "Abweichende Anrede",
                "Abw. Zustellbezeichnung 1", "Abw. Zustellbezeichnung 2", "Kennz. Korrespondenzadresse",
                "Adresse Gültig von", "Adresse Gültig bis", "Telefon", "Bemerkung (Telefon)", "Telefon GL",
                "Bemerkung (Telefon GL)", "E-Mail", "Bemerkung (E-Mail)", "Internet", "Bemerkung (Internet)", "Fax",
                "Bemerkung (Fax)", "Sonstige", "Bemerkung (Sonstige)"]
DATEV_ROWS: list[dict[str, str]] = [
    # a company, its VAT id in two parts
    {"Konto": "10001", "Name (Adressattyp Unternehmen)": "Bäckerei Schäfer GmbH", "Adressattyp": "2", "EU-Land": "DE",
     "EU-UStID": "136695976", "Straße": "Marktplatz 1", "Postleitzahl": "04109", "Ort": "Leipzig", "Land": "DE",
     "Telefon": "0341 1234567", "E-Mail": "info@schaefer.example"},
    # a person
    {"Konto": "10002", "Name (Adressattyp natürl. Person)": "Weiß", "Vorname (Adressattyp natürl. Person)": "Jörg",
     "Adressattyp": "1", "Straße": "Domstraße 1", "Postleitzahl": "50667", "Ort": "Köln", "Land": "DE",
     "E-Mail": "joerg.weiss@beispiel.de"},
    # keine Angabe (0), a company's name, EU-Land without a number: no VAT id
    {"Konto": "10003", "Name (Adressattyp Unternehmen)": "Tischlerei Brandt", "Adressattyp": "0", "EU-Land": "DE",
     "Straße": "Holzweg 4", "Postleitzahl": "28195", "Ort": "Bremen", "Land": "DE", "E-Mail": "brandt@tischlerei.example"},
    # keine Angabe (0), a person's name
    {"Konto": "10004", "Name (Adressattyp natürl. Person)": "Huber", "Vorname (Adressattyp natürl. Person)": "Anna",
     "Adressattyp": "0", "Ort": "München", "Land": "DE", "E-Mail": "anna.huber@beispiel.de"},
    # no type at all, the name in the keine-Angabe column: DATEV's default, a company
    {"Konto": "10005", "Name (Adressattyp keine Angabe)": "Verein der Freunde e.V.", "Adressattyp": "", "Ort": "Kiel",
     "Land": "DE", "E-Mail": "vorstand@freunde.example", "EU-Land": "AT", "EU-UStID": "U13585627"},
]
DATEV_EXPECTED: dict[str, dict[str, object]] = {
    "10001": {"company": "Bäckerei Schäfer GmbH", "vat_id": "DE136695976", "postcode": "04109", "city": "Leipzig",
              "kind": "corporate"},
    "10002": {"first_name": "Jörg", "last_name": "Weiß", "street": "Domstraße 1", "kind": "private"},
    "10003": {"company": "Tischlerei Brandt", "vat_id": None, "kind": "corporate"},
    "10004": {"first_name": "Anna", "last_name": "Huber", "city": "München", "kind": "private"},
    "10005": {"company": "Verein der Freunde e.V.", "vat_id": "ATU13585627", "kind": "corporate"},
}


def datev_text(mark: str = "EXTF", rows: list[dict[str, str]] | None = None) -> bytes:
    """A Debitoren/Kreditoren file as DATEV documents it: the header record (`mark`: EXTF from
    a third-party program, DTVF from DATEV's own), the column names, the rows; `;`, quoted
    texts, Windows-1252, CRLF."""
    record = [f'"{mark}"', "700", "16", '"Debitoren/Kreditoren"', "5", "20261201090000000", "", '"RE"', '""', '""', "29098",
              "55003", "20260101", "5", "", "", '""', '""', "", "", "", '""', "", '""', "", "", '"03"', "", "", '""', '""']
    lines = [";".join(record), ";".join(f'"{h}"' for h in DATEV_HEADER)]
    for row in DATEV_ROWS if rows is None else rows:
        lines.append(";".join(_datev_cell(row.get(h, "")) for h in DATEV_HEADER))
    return _csv(lines, encoding="cp1252", newline="\r\n")


def _datev_cell(value: str) -> str:
    return value if value.isdigit() and not value.startswith("0") else f'"{value}"' if value else ""


DATEV = Sample("EXTF_Debitoren_Kreditoren.csv", datev_text(), DATEV_EXPECTED)

SAGE = Sample("customers.csv", _csv([
    "Reference,Company Name,Currency,Credit Limit,Main Address Type,Main Address Line 1,Main Address Line 2,"
    "Main Address Town,Main Address County,Main Address Post Code,Main Address Country,Main Contact Name,"
    "Main Contact Phone,Main Contact Type,Main Contact Mobile,Main Contact Email,Main Contact Fax,Address 2 Type,"
    "Address 2 Line 1,Address 2 Line 2,Address 2 Town,Address 2 County,Address 2 Post Code,Address 2 Country,VAT Number,"
    "Ledger Account",
    "CELT001,Celtic Crafts Ltd,EUR,5000,Accounts,4 Grafton Street,,Dublin,Co. Dublin,D02 X285,IE,Siobhán Murphy,"
    "+353 1 555 0199,Accounts,,accounts@celtic.example,,,,,,,,,IE6388047V,4000",
]), {
    "CELT001": {"company": "Celtic Crafts Ltd", "first_name": "Siobhán", "last_name": "Murphy",
                "email": "accounts@celtic.example", "postcode": "D02 X285", "city": "Dublin", "country": "IE",
                "vat_id": "IE6388047V", "kind": "corporate"},
})

EXACT = Sample("Accounts.csv", _csv([
    "Code;Name;Status;Email;Phone;Address line 1;Postcode;City;Country;VAT number;Blocked",
    "1001;Fabrica de Tapices SA;C;ventas@tapices.example;+34 91 555 0100;Calle Mayor 5;28013;Madrid;ES;ESA28015865;False",
    "1002;Oude Klant BV;C;info@oudeklant.example;;Kerkstraat 1;3511 LX;Utrecht;NL;;True",
]), {
    "1001": {"company": "Fabrica de Tapices SA", "city": "Madrid", "vat_id": "ESA28015865", "kind": "corporate",
             "archived": False},
    "1002": {"company": "Oude Klant BV", "postcode": "3511 LX", "kind": "corporate", "archived": True},
})

# An export without "import-compatible": the fields' labels, not their technical names.
ODOO = Sample("Contact (res.partner).csv", _csv([
    "External ID,Name,Is a Company,Company Name,Email,Phone,Mobile,Street,Zip,City,Country,Tax ID,Active",
    "__export__.res_partner_41_a1b2c3d4,Azure Interior,True,Azure Interior,azure.Interior24@example.com,(870)-931-0505,,"
    "4557 De Silva St,94538,Fremont,United States,,True",
    "__export__.res_partner_58_e5f6a7b8,Lucia Rossi,False,,lucia.rossi@example.it,,+39 333 123 4567,Via Roma 1,00184,Roma,"
    "Italy,IT00743110157,False",
]), {
    "__export__.res_partner_41_a1b2c3d4": {"company": "Azure Interior", "email": "azure.interior24@example.com",
                                           "city": "Fremont", "kind": "corporate", "archived": False},
    "__export__.res_partner_58_e5f6a7b8": {"first_name": "Lucia", "last_name": "Rossi", "city": "Roma",
                                           "vat_id": "IT00743110157", "kind": "private", "archived": True},
})

# The names FreshBooks' import documents (Company Name, Email Address …), with the export's Client ID.
FRESHBOOKS = Sample("clients.csv", _csv([
    "Client ID,First Name,Last Name,Company Name,Email Address,Phone Number,Address Line 1,Address Line 2,City,State,"
    "Zip Code,Country",
    "302118,Grace,Hopper,,grace@hopper.example,+1 212 555 0142,1 Navy Way,,Arlington,VA,22202,United States",
    "302119,Tom,Baker,Baker & Sons,tom@bakersons.example,,5 High Street,,Leeds,,LS1 4DY,United Kingdom",
]), {
    "302118": {"first_name": "Grace", "last_name": "Hopper", "email": "grace@hopper.example", "postcode": "22202",
               "kind": "private"},
    "302119": {"company": "Baker & Sons", "first_name": "Tom", "last_name": "Baker", "city": "Leeds", "kind": "corporate"},
})

# Intuit's Customer entity as its query response returns it.
QUICKBOOKS = Sample("customers.json", json.dumps({"QueryResponse": {"Customer": [
    {"Id": "58", "SyncToken": "0", "DisplayName": "Bill's Windsurf Shop", "CompanyName": "Bill's Windsurf Shop",
     "GivenName": "Bill", "FamilyName": "Lucchini", "PrimaryEmailAddr": {"Address": "Surf@Intuit.com"},
     "PrimaryPhone": {"FreeFormNumber": "(415) 444-6538"},
     "BillAddr": {"Id": "3", "Line1": "12 Ocean Dr.", "City": "Half Moon Bay", "CountrySubDivisionCode": "CA",
                  "PostalCode": "94213"}, "Active": True, "Taxable": False},
    {"Id": "59", "SyncToken": "2", "DisplayName": "Amy's Bird Sanctuary", "GivenName": "Amy", "FamilyName": "Lauterbach",
     "PrimaryEmailAddr": {"Address": "Birds@Intuit.com"}, "Active": False,
     "BillAddr": {"Line1": "4581 Finch St.", "City": "Bayshore", "PostalCode": "94326"}},
], "startPosition": 1, "maxResults": 2}, "time": "2026-12-01T09:00:00.000-08:00"}).encode("utf-8"), {
    "58": {"company": "Bill's Windsurf Shop", "first_name": "Bill", "last_name": "Lucchini", "email": "surf@intuit.com",
           "city": "Half Moon Bay", "kind": "corporate", "archived": False},
    "59": {"first_name": "Amy", "last_name": "Lauterbach", "street": "4581 Finch St.", "kind": "private", "archived": True},
})

# QuickBooks' own "Export to Excel" of the customer list, saved as CSV: no Id, its own names.
QUICKBOOKS_CSV = Sample("Customers.csv", _csv([
    "Customer,Company,Email,Phone,Mobile,Billing Street,Billing City,Billing State,Billing ZIP,Billing Country,"
    "Open Balance,Notes",
    "Cool Cars,Cool Cars,Cool_Cars@intuit.com,(415) 555-9933,,65 Ocean Dr.,Half Moon Bay,CA,94213,USA,694.00,",
    "John Melton,,John@Melton.com,,(650) 555-5879,85 Pine St.,Menlo Park,CA,94304,USA,450.00,Pays by card",
]), {
    "Cool Cars": {"company": "Cool Cars", "email": "cool_cars@intuit.com", "street": "65 Ocean Dr.", "postcode": "94213",
                  "kind": "corporate"},
    "John Melton": {"first_name": "John", "last_name": "Melton", "email": "john@melton.com", "city": "Menlo Park",
                    "kind": "private"},
})

SAMPLES: dict[str, Sample] = {"xero": XERO, "zoho": ZOHO, "datev": DATEV, "sage": SAGE, "exact": EXACT, "odoo": ODOO,
                              "freshbooks": FRESHBOOKS, "quickbooks": QUICKBOOKS, "quickbooks_csv": QUICKBOOKS_CSV}


def write(folder: Path, sample: Sample, name: str | None = None) -> Path:
    path = folder / (name or sample.file)
    path.write_bytes(sample.data)
    return path
