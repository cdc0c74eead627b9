"""File headers to custdesk fields, in six languages, with a fuzzy fallback.

A header is normalised (case, accents, Turkish dotted/dotless i, ß,
punctuation) and looked up among synonyms; failing that, a known prefix such
as "Billing", "Contact:" or "Account:" is dropped and it is looked up again;
failing that, rapidfuzz finds the nearest synonym, whose similarity is the
confidence shown in the review. Several columns may feed one field: the first
non-empty value wins, in order of confidence, then of position. A few name
headers mean one name or the whole by the columns beside them ("İsim" is the
first name beside "Soyisim" and the full name alone; "Name" is the surname
beside "Vorname").
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Import fields: the customer's own, plus a few the importer folds into them.
FIELDS = (
    "first_name", "last_name", "full_name", "company", "department", "contact_name",
    "email", "phone", "mobile", "street", "street2", "postcode", "city", "country",
    "vat_id", "external_id", "number", "tags", "notes", "headquarters", "obfuscate_enabled", "email_marketing",
    "sms_marketing",
)

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "headquarters": ("headquarters", "hq", "headoffice", "hauptsitz", "zentrale", "firmensitz", "genelmerkez",
                     "merkez", "siege", "siegesocial", "hoofdkantoor", "hoofdvestiging", "sede", "sedecentral",
                     "sedeprincipal", "oficinacentral"),
    "obfuscate_enabled": ("obfuscatewheninactive", "obfuscateenabled", "obfuscate", "obfuscation", "anonymise",
                          "anonymize", "anonymisieren", "anonymisierung", "anonimlestir", "anonimlestirme",
                          "anonymiser", "anonimizar", "anonimiseren"),
    # Shopify's "Accepts Email Marketing", "Newsletter", "E-Mail-Werbung", "E-posta izni",
    # "İzin" (Turkish lists' one consent column, to email), "Nieuwsbrief", "Boletín".
    "email_marketing": ("emailmarketing", "acceptsemailmarketing", "acceptsmarketing", "emailoptin", "optin",
                        "marketingemails", "newsletter", "emailconsent", "marketingconsent", "emailwerbung",
                        "werbungpermail", "werbungperemail", "newsletteranmeldung", "werbeeinwilligung", "einwilligung",
                        "epostaizni", "izin", "iletiizni", "elektronikileti", "ticarielektronikileti",
                        "consentementemail", "optinemail", "lettredinformation", "nieuwsbrief", "emailtoestemming",
                        "boletin", "marketingporcorreo", "consentimientoemail"),
    "sms_marketing": ("smsmarketing", "acceptssmsmarketing", "smsoptin", "smsconsent", "werbungpersms", "smswerbung",
                      "smsizni", "consentementsms", "optinsms", "smstoestemming", "marketingporsms",
                      "consentimientosms"),
    "first_name": ("firstname", "first", "givenname", "forename", "vorname", "prenom", "voornaam", "nombre",
                   "ad", "adi", "isim", "billingfirstname"),
    "last_name": ("lastname", "last", "surname", "familyname", "nachname", "nom", "nomdefamille", "achternaam",
                  "apellido", "apellidos", "soyad", "soyadi", "soyisim"),
    "full_name": ("name", "fullname", "displayname", "customername", "clientname", "kundenname", "nomcomplet",
                  "volledigenaam", "naam", "nombrecompleto", "adsoyad", "adisoyadi", "isimsoyisim", "musteriadi"),
    "company": ("company", "companyname", "organization", "organisation", "org", "business", "businessname",
                "accountname", "firma", "firmenname", "unternehmen", "societe", "entreprise", "raisonsociale",
                "bedrijf", "bedrijfsnaam", "empresa", "razonsocial", "sirket", "sirketadi", "firmaadi", "kurum", "unvan"),
    "department": ("department", "abteilung", "service", "departement", "afdeling", "departamento", "departman", "bolum"),
    "contact_name": ("contactperson", "ansprechpartner", "contact", "personnedecontact", "contactpersoon",
                     "personadecontacto", "yetkili", "yetkilikisi", "attention"),
    "email": ("email", "emailaddress", "mail", "primaryemail", "emailid", "emails", "email1", "emails1email",
              "email1value", "eposta", "epostaadresi", "courriel", "adresseemail", "correo", "correoelectronico",
              "emailadres", "mailadresse"),
    "phone": ("phone", "phonenumber", "telephone", "tel", "telefon", "telefonnummer", "telefoon", "telefoonnummer",
              "telefono", "telefonno", "telno", "workphone", "businessphone", "contactnumber", "contactnumbers",
              "phones1phone", "phone1value", "telefonnumarasi"),
    "mobile": ("mobile", "mobilephone", "mobilenumber", "mobilephonenumber", "cell", "cellphone", "handy", "mobil",
               "mobiltelefon", "mobilfunk", "portable", "telephoneportable", "mobiel", "movil", "celular", "cep",
               "ceptelefonu", "gsm"),
    "street": ("street", "streetaddress", "address", "address1", "addressline1", "street1", "strasse", "anschrift",
               "adresse", "rue", "straat", "adres", "direccion", "calle", "sokak", "cadde"),
    "street2": ("address2", "addressline2", "street2", "aptsuite", "adresszusatz", "complementdadresse"),
    "postcode": ("postcode", "postalcode", "zip", "zipcode", "plz", "postleitzahl", "codepostal", "cp",
                 "codigopostal", "postakodu", "code"),
    "city": ("city", "town", "ort", "stadt", "ville", "plaats", "stad", "woonplaats", "ciudad", "localidad",
             "sehir", "il", "ilce"),
    "country": ("country", "countrycode", "land", "pays", "pais", "ulke"),
    "vat_id": ("vat", "vatid", "vatnumber", "vatno", "taxid", "taxnumber", "ustidnr", "ustid", "umsatzsteuerid",
               "umsatzsteueridnr", "steuernummer", "tva", "numerotva", "btwnummer", "btw", "nif", "cif",
               "vergino", "vergenumarasi", "vkn"),
    "external_id": ("externalid", "id", "accountingid", "contactid", "customerid", "clientid", "referenceid",
                    "kundenid", "idnumber"),
    "number": ("customernumber", "customerno", "number", "kundennummer", "kundennr", "numeroclient",
               "klantnummer", "numerodecliente", "musterino", "musterinumarasi"),
    "tags": ("tags", "tag", "groups", "group", "labels", "label", "etiket", "etiketler", "schlagworte", "gruppe",
             "kategorie", "category", "customergroup", "customergroupcode", "groupmembership", "segment"),
    "notes": ("notes", "note", "comment", "comments", "remarks", "description", "notiz", "bemerkung", "bemerkungen",
              "kommentar", "remarque", "notities", "opmerkingen", "notas", "not", "notlar", "aciklama",
              "publicnotes", "privatenotes"),
}
# Prefixes that qualify a field without changing it ("Billing City", "Contact: Email").
_PREFIXES = ("billing", "shipping", "contact", "account", "customer", "client", "home", "work", "primary",
             "default", "business", "main", "rechnungs", "liefer")
_SYNONYM_FIELD = {syn: fld for fld, syns in _SYNONYMS.items() for syn in syns}
# Headers that mean one name or the whole one by the columns beside them: "İsim", "Ad",
# "Nombre" are the first name beside a surname column and the full name without one;
# "Name", "Naam" are the surname beside a first-name column and no surname column
# ("Vorname;Name", German lists' habit), and the full name otherwise.
_GIVEN_OR_FULL = frozenset({"isim", "ad", "adi", "nombre"})
_FAMILY_OR_FULL = frozenset({"name", "naam"})
_CHOICES = list(_SYNONYM_FIELD)
FUZZY_THRESHOLD = 90


def normalise_header(header: str) -> str:
    """'E-Mail' → 'email', 'Straße' → 'strasse', 'İsim' → 'isim', 'Şehir' → 'sehir';
    a closing remark in brackets goes: 'Email (one of: Email / Phone)' → 'email'."""
    text = re.sub(r"\s*\([^()]*\)\s*\**\s*$", "", header) or header
    text = text.replace("İ", "i").replace("ı", "i").replace("ß", "ss").casefold()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", text)


@dataclass(frozen=True)
class ColumnMatch:
    field: str
    confidence: float  # 1.0 exact synonym, 0.95 synonym after a prefix, below: fuzzy similarity
    how: str  # "synonym", "prefix", "fuzzy"


@lru_cache(maxsize=4096)
def match_field(header: str) -> ColumnMatch | None:
    key = normalise_header(header)
    if not key:
        return None
    if key in _SYNONYM_FIELD:
        return ColumnMatch(_SYNONYM_FIELD[key], 1.0, "synonym")
    for prefix in _PREFIXES:
        rest = key[len(prefix):]
        # "billing_id" is the billing address's own id, not the customer's.
        if key.startswith(prefix) and rest in _SYNONYM_FIELD and rest != "id":
            return ColumnMatch(_SYNONYM_FIELD[rest], 0.95, "prefix")
    if len(key) < 5:
        return None
    from rapidfuzz import fuzz, process  # (only for a header no synonym names)

    found = process.extractOne(key, _CHOICES, scorer=fuzz.ratio, score_cutoff=FUZZY_THRESHOLD)
    # An id column never feeds a name ("organization_id" is not the organization).
    if found is None or key.endswith("id") != found[0].endswith("id"):
        return None
    return ColumnMatch(_SYNONYM_FIELD[found[0]], round(found[1] / 100, 2), "fuzzy")


@dataclass
class ColumnMapping:
    """One file column and the field it feeds (None: kept only in the raw row)."""

    column: str
    field: str | None
    confidence: float
    how: str  # "synonym", "prefix", "fuzzy", "manual", "remembered", "unmapped"


class MappingError(ValueError):
    pass


def parse_overrides(pairs: list[str] | tuple[str, ...]) -> dict[str, str | None]:
    """`--map "Header=field"` (field `-` or empty: do not import the column)."""
    overrides: dict[str, str | None] = {}
    for pair in pairs:
        column, sep, target = pair.partition("=")
        target = target.strip()
        if not sep or not column.strip():
            raise MappingError(f"--map '{pair}': write it as \"Header=field\"")
        if target not in ("", "-") and target not in FIELDS:
            raise MappingError(f"--map '{pair}': unknown field '{target}' (fields: {', '.join(FIELDS)})")
        overrides[column.strip()] = None if target in ("", "-") else target
    return overrides


def map_columns(columns: list[str], overrides: dict[str, str | None] | None = None,
                remembered: dict[str, str | None] | None = None) -> list[ColumnMapping]:
    """Each column's field: as `overrides` say (the user's, now), else as `remembered` (a
    mapping confirmed for files of these headers), else found from the header."""
    overrides, remembered = overrides or {}, remembered or {}
    unknown = [c for c in overrides if c not in columns]
    if unknown:
        raise MappingError(f"--map: the file has no column '{unknown[0]}' (columns: {', '.join(columns)})")
    mappings = []
    for column in columns:
        if column in overrides:
            target = overrides[column]
            mappings.append(ColumnMapping(column, target, 1.0, "manual" if target else "unmapped"))
            continue
        if column in remembered:
            mappings.append(ColumnMapping(column, remembered[column], 1.0, "remembered"))
            continue
        match = match_field(column)
        if match is None:
            mappings.append(ColumnMapping(column, None, 0.0, "unmapped"))
        else:
            mappings.append(ColumnMapping(column, match.field, match.confidence, match.how))
    return _names_by_neighbours(mappings)


def _names_by_neighbours(mappings: list[ColumnMapping]) -> list[ColumnMapping]:
    """The ambiguous name headers (`_GIVEN_OR_FULL`, `_FAMILY_OR_FULL`) read by the header row's other columns."""
    keys = [normalise_header(m.column) if m.how == "synonym" else "" for m in mappings]
    fields = {m.field for m, key in zip(mappings, keys, strict=True) if key not in _GIVEN_OR_FULL | _FAMILY_OR_FULL}
    for m, key in zip(mappings, keys, strict=True):
        if key in _GIVEN_OR_FULL:
            m.field = "first_name" if "last_name" in fields else "full_name"
        elif key in _FAMILY_OR_FULL:
            m.field = "last_name" if "first_name" in fields and "last_name" not in fields else "full_name"
    return mappings


def sources_by_field(mappings: list[ColumnMapping]) -> dict[str, list[str]]:
    """Each mapped field's columns, best first: the first non-empty value wins."""
    by_field: dict[str, list[tuple[float, int, str]]] = {}
    for position, m in enumerate(mappings):
        if m.field is not None:
            by_field.setdefault(m.field, []).append((-m.confidence, position, m.column))
    return {f: [c for _, _, c in sorted(cols)] for f, cols in by_field.items()}
