"""The country a file speaks of, for its phones written without `+country`.

A Turkish file (Turkish headers, İzmir and Ankara in its City column, no
Country column) imported where the default country is DE would store
`0216 444 55 66` as the valid German `+492164445566`: nothing about the number
says it is wrong, the file around it does. Each kind of signal votes for the
regions it points at — the rows' Country cells, the numbers written with a
country code, the headers' language, the cities, the postcodes' shapes, the
email addresses' country domains — and a region that at least two kinds agree
on (or one of the two that name a country outright) and that no other region
comes close to is the file's own. Its national numbers must make sense there.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import orjson
import phonenumbers
import polars as pl
import pycountry

from store.model import PHONE_FIELDS
from store.rules.phones import quick_e164
from store.rules.regions import email_region, fold, is_region, region_of

from .mapping import normalise_header

# Kinds that name a country outright may decide alone; the others need a second opinion.
STRONG = frozenset({"countries", "phone codes"})
WEIGHTS = {"countries": 2.0, "phone codes": 2.0, "emails": 1.0, "cities": 1.0, "postcodes": 1.0, "headers": 1.0,
           "phones": 1.0}
CLEAR = 1.5  # the file's region must score this many times the runner-up's
VALID_SHARE = 0.5  # of the national numbers, valid in the file's region
SAMPLE = 2000  # distinct values looked at per signal
VALID_SAMPLE = 300  # distinct national numbers tried in each candidate region

# Header words only one language writes (normalised as the mapping does), and where it is written.
_HEADER_WORDS = {
    "tr": {"ad", "adi", "soyad", "soyadi", "isim", "soyisim", "adsoyad", "adisoyadi", "isimsoyisim", "sehir", "il",
           "ilce", "eposta", "epostaadresi", "cep", "ceptelefonu", "postakodu", "ulke", "sirket", "sirketadi",
           "firmaadi", "vergino", "vergenumarasi", "vkn", "musteriadi", "musterino", "musterinumarasi",
           "telefonnumarasi", "aciklama", "notlar", "unvan", "yetkili", "yetkilikisi", "genelmerkez", "departman"},
    "de": {"vorname", "nachname", "strasse", "plz", "postleitzahl", "ort", "stadt", "firmenname", "anschrift",
           "mobiltelefon", "handy", "kundennummer", "kundennr", "kundenname", "ansprechpartner", "bemerkung",
           "bemerkungen", "abteilung", "ustidnr", "ustid", "steuernummer", "telefonnummer", "hauptsitz", "notiz"},
    "fr": {"prenom", "nom", "nomdefamille", "ville", "codepostal", "rue", "pays", "societe", "entreprise",
           "raisonsociale", "courriel", "telephoneportable", "portable", "numeroclient", "numerotva", "tva",
           "nomcomplet", "siegesocial", "remarque"},
    "nl": {"voornaam", "achternaam", "woonplaats", "plaats", "straat", "telefoonnummer", "telefoon", "mobiel",
           "bedrijf", "bedrijfsnaam", "klantnummer", "btw", "btwnummer", "opmerkingen", "notities", "contactpersoon",
           "volledigenaam", "naam", "afdeling", "hoofdkantoor"},
    "es": {"nombre", "apellido", "apellidos", "ciudad", "localidad", "codigopostal", "calle", "direccion", "pais",
           "empresa", "razonsocial", "movil", "correo", "correoelectronico", "cif", "nif", "numerodecliente",
           "nombrecompleto", "departamento", "notas"},
    "it": {"nome", "cognome", "citta", "indirizzo", "cap", "cellulare", "azienda", "ragionesociale", "partitaiva"},
    "pl": {"imie", "nazwisko", "miasto", "ulica", "kodpocztowy", "nip", "telefonkomorkowy"},
}
# A language's regions, the one it is most written in first (it gets `MAIN_SHARE` of the vote).
MAIN_SHARE = 0.6
_LANGUAGE_REGIONS = {"tr": ("TR",), "de": ("DE", "AT", "CH"), "fr": ("FR", "BE", "CH", "LU"), "nl": ("NL", "BE"),
                     "es": ("ES",), "it": ("IT", "CH"), "pl": ("PL",)}

# Postcode shapes written in few countries (five digits are written in dozens: no vote).
_POSTCODE_SHAPES = (
    (r"^\d{4} ?[A-Z]{2}$", ("NL",)),
    (r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$", ("GB",)),
    (r"^\d{2}-\d{3}$", ("PL",)),
    (r"^\d{4}-\d{3}$", ("PT",)),
    (r"^\d{3} \d{2}$", ("CZ", "SK", "SE", "GR")),
    (r"^[A-Z]\d[A-Z] ?\d[A-Z]\d$", ("CA",)),
    (r"^\d{5}-\d{4}$", ("US",)),
    (r"^\d{5}-\d{3}$", ("BR",)),
    (r"^\d{3}-\d{4}$", ("JP",)),
)

_COMPILED_SHAPES = tuple((re.compile(pattern), regions) for pattern, regions in _POSTCODE_SHAPES)

# Large cities that are no province of their own (pycountry's provinces cover the rest:
# İzmir, Ankara, Madrid, Milano, Paris, Porto, Genève …).
_CITIES = {
    "DE": ("Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Frankfurt", "Stuttgart", "Düsseldorf",
           "Leipzig", "Dortmund", "Essen", "Bremen", "Dresden", "Hannover", "Nürnberg", "Duisburg", "Bochum",
           "Wuppertal", "Bielefeld", "Bonn", "Münster", "Mannheim", "Karlsruhe", "Augsburg", "Wiesbaden"),
    "AT": ("Wien", "Graz", "Linz", "Salzburg", "Innsbruck", "Klagenfurt", "Villach", "Wels", "Sankt Pölten"),
    "NL": ("Amsterdam", "Rotterdam", "Den Haag", "'s-Gravenhage", "Eindhoven", "Tilburg", "Almere", "Breda",
           "Nijmegen", "Haarlem", "Arnhem", "Enschede", "Amersfoort", "Apeldoorn", "Zwolle", "Leiden", "Maastricht"),
    "BE": ("Bruxelles", "Brussel", "Antwerpen", "Anvers", "Gent", "Gand", "Charleroi", "Brugge", "Namur", "Leuven",
           "Mons", "Mechelen", "Aalst", "Hasselt", "Kortrijk", "Ostende", "Oostende"),
    "FR": ("Marseille", "Lyon", "Toulouse", "Nice", "Nantes", "Strasbourg", "Montpellier", "Bordeaux", "Lille",
           "Rennes", "Reims", "Le Havre", "Saint-Étienne", "Toulon", "Grenoble", "Dijon", "Angers", "Nîmes"),
    "PL": ("Warszawa", "Kraków", "Łódź", "Wrocław", "Poznań", "Gdańsk", "Szczecin", "Bydgoszcz", "Lublin",
           "Białystok", "Katowice", "Gdynia", "Częstochowa", "Radom", "Toruń"),
    "GR": ("Athína", "Athens", "Αθήνα", "Thessaloníki", "Θεσσαλονίκη", "Pátra", "Πάτρα", "Irákleio", "Ηράκλειο",
           "Lárisa", "Λάρισα", "Vólos", "Βόλος"),
    "CZ": ("Praha", "Brno", "Ostrava", "Plzeň", "Liberec", "Olomouc", "České Budějovice", "Hradec Králové"),
    "GB": ("London", "Birmingham", "Manchester", "Glasgow", "Liverpool", "Leeds", "Sheffield", "Edinburgh",
           "Bristol", "Cardiff", "Belfast", "Leicester", "Nottingham", "Newcastle upon Tyne", "Southampton"),
    "CH": ("Zürich", "Zurich", "Basel", "Lausanne", "Bern", "Winterthur", "Luzern", "Lugano", "Biel/Bienne"),
    "IT": ("Roma", "Rome", "Milan", "Napoli", "Torino", "Palermo", "Genova", "Bologna", "Firenze", "Venezia"),
    "ES": ("Sevilla", "Málaga", "Bilbao", "Vigo", "Gijón", "L'Hospitalet de Llobregat", "Córdoba"),
    "TR": ("Kadıköy", "Üsküdar", "Beşiktaş", "Çankaya", "Karşıyaka", "Bornova", "Nilüfer", "Selçuklu", "Seyhan"),
}
# Regions whose provinces carry their cities' names (Turkey's 81 are each named after its capital).
_PROVINCE_REGIONS = ("TR", "ES", "IT", "FR", "PT", "CH", "NL", "GB", "BE", "AT", "PL", "DE")
_REGION_NAMES = {"TR": "Turkish", "DE": "German", "FR": "French", "NL": "Dutch", "ES": "Spanish", "IT": "Italian",
                 "PL": "Polish"}


@dataclass(frozen=True)
class FileRegion:
    """The region a file's own signals agree on, where it is not the default one."""

    region: str
    default: str | None
    reasons: tuple[str, ...]
    national: int  # phones without +country, in rows without a country of their own

    def message(self) -> str:
        instead = f"not as the default {self.default}" if self.default else "where no default country is set"
        return (f"{self.national:,} phone{'s' if self.national != 1 else ''} without +country read as {self.region}, "
                f"the file's own country ({'; '.join(self.reasons)}), {instead}")


def file_region(fields: pl.DataFrame, headers: list[str], default: str | None) -> FileRegion | None:
    """The file's own region when its signals clearly point at one other than `default` and
    it has numbers without a country code for that region to read (`fields`: the mapped
    columns, as typed)."""
    count, national = _national_phones(fields)
    if not national:
        return None
    votes = _votes(fields, headers)
    candidates = {region for shares, _ in votes.values() for region in shares} | ({default} if default else set())
    phones = _valid_in(national, candidates)
    if phones:
        votes["phones"] = (_shares(phones), _valid_numbers(phones, len(national)))  # (of the sample)
    scores: defaultdict[str, float] = defaultdict(float)
    for kind, (shares, _) in votes.items():
        for region, share in shares.items():
            scores[region] += WEIGHTS[kind] * share
    if not scores:
        return None
    (best, top), *rest = [*sorted(scores.items(), key=lambda item: -item[1]), ("", 0.0)]
    if best == default or rest[0][1] * CLEAR > top:
        return None
    agreeing = [kind for kind, (shares, _) in votes.items() if _leads(shares, best)]
    if len(agreeing) < 2 and not STRONG & set(agreeing):
        return None
    if phones.get(best, 0) < VALID_SHARE * len(national):
        return None
    return FileRegion(best, default, tuple(votes[kind][1] for kind in agreeing), count)


def _national_phones(fields: pl.DataFrame) -> tuple[int, list[str]]:
    """How many phones are typed without a country code in the rows that name no country,
    and up to `VALID_SAMPLE` distinct ones of them (enough to judge where they are valid)."""
    unplaced = pl.Series([True] * fields.height)
    if "country" in fields.columns:
        named = {c: region_of(c) is not None for c in fields["country"].drop_nulls().unique().to_list()}
        unplaced = ~fields["country"].replace_strict(named, default=False, return_dtype=pl.Boolean).fill_null(False)
    count, numbers, rows = 0, set(), fields.filter(unplaced)
    for field in PHONE_FIELDS & set(fields.columns):
        typed = rows[field].drop_nulls().str.strip_chars()
        national = typed.filter((typed != "") & ~typed.str.starts_with("+") & ~typed.str.starts_with("00"))
        count += national.len()
        numbers.update(national.unique(maintain_order=True).head(VALID_SAMPLE).to_list())
    return count, sorted(numbers)[:VALID_SAMPLE]


Tally = dict[str, float]  # region → its votes
Votes = dict[str, tuple[Tally, str]]  # kind → (share of the kind's vote by region, why, in words)


def _votes(fields: pl.DataFrame, headers: list[str]) -> Votes:
    votes: Votes = {}
    column = _column(fields)
    for kind, counts, why in (
        ("countries", _count(_mapped(region_of, column("country"))), _rows_naming),
        ("phone codes", _phone_codes(fields), _numbers_with_code),
        ("emails", _count(_mapped(email_region, column("email"))), _emails_ending),
        ("cities", _count(_mapped(_city_region, column("city"))), _cities_in),
        ("postcodes", _postcode_votes(column("postcode")), _postcodes_shaped),
        ("headers", _header_votes(headers), _headers_in),
    ):
        if counts:
            votes[kind] = (_shares(counts), why(counts, fields))
    return votes


def _leads(shares: Tally, region: str) -> bool:
    """The kind votes for the region more than for any other (a tie is no vote: numbers
    valid in Germany and in Turkey alike say nothing about which they are)."""
    return all(share < shares.get(region, 0) for other, share in shares.items() if other != region)


def _shares(counts: Tally) -> Tally:
    total = sum(counts.values())
    return {region: n / total for region, n in counts.items()}


def _valid_in(numbers: list[str], regions: Iterable[str]) -> Tally:
    """How many of the national numbers each region makes valid (the regions making none left out)."""
    valid = {region: sum(quick_e164(n, region) is not None for n in numbers) for region in sorted(regions)}
    return {region: n for region, n in valid.items() if n}


def _count(regions: Iterable[tuple[str | None, int]]) -> Tally:
    """Each region's votes: (region or None, how many cells) pairs summed."""
    counts: Counter[str] = Counter()
    for region, n in regions:
        if region:
            counts[region] += n
    return dict(counts)


def _column(fields: pl.DataFrame) -> Callable[[str], list[tuple[str, int]]]:
    """A column's distinct typed values and how many cells hold each (none for a column the
    file lacks; the commonest `SAMPLE`: each is looked up once, not once a row)."""
    def values(name: str) -> list[tuple[str, int]]:
        if name not in fields.columns:
            return []
        counted = fields[name].drop_nulls().str.strip_chars().value_counts(sort=True, name="n").head(SAMPLE)
        return list(zip(counted[name].to_list(), counted["n"].to_list(), strict=True))
    return values


def _mapped(lookup: Callable[[str], str | None], values: list[tuple[str, int]]) -> Iterable[tuple[str | None, int]]:
    return ((lookup(value), n) for value, n in values)


def _phone_codes(fields: pl.DataFrame) -> Tally:
    column = _column(fields)
    numbers = [(n, count) for f in sorted(PHONE_FIELDS & set(fields.columns)) for n, count in column(f)
               if n.startswith(("+", "00"))]
    return _count((_code_region("+" + n.removeprefix("00").lstrip("+")), count) for n, count in numbers)


def _code_region(number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(parsed) or phonenumbers.region_code_for_country_code(
        parsed.country_code or 0)
    return region if is_region(region) else None


@lru_cache(maxsize=1)
def _gazetteer() -> dict[str, str]:
    """Folded city name → its region; a name two regions share is left out. (pycountry's
    ISO 3166-2 file read as it is: building its objects takes a second, this 10 ms.)"""
    places: dict[str, set[str]] = {}
    provinces = orjson.loads((Path(pycountry.DATABASE_DIR) / "iso3166-2.json").read_bytes())["3166-2"]
    for sub in provinces:
        region = sub["code"].split("-")[0]
        if region in _PROVINCE_REGIONS:
            places.setdefault(fold(sub["name"].split("[")[0].split(",")[0]), set()).add(region)
    for region, cities in _CITIES.items():
        for city in cities:
            places.setdefault(fold(city), set()).add(region)
    return {name: regions.pop() for name, regions in places.items() if len(regions) == 1}


def _city_region(city: str) -> str | None:
    return _gazetteer().get(fold(city.replace("İ", "I").replace("ı", "i")))


def _postcode_votes(postcodes: list[tuple[str, int]]) -> Tally:
    counts: defaultdict[str, float] = defaultdict(float)
    for postcode, n in postcodes:
        for pattern, regions in _COMPILED_SHAPES:
            if pattern.match(postcode.upper()):
                for region in regions:
                    counts[region] += n / len(regions)
    return dict(counts)


def _header_votes(headers: list[str]) -> Tally:
    words = {normalise_header(h) for h in headers}
    counts: defaultdict[str, float] = defaultdict(float)
    for language, vocabulary in _HEADER_WORDS.items():
        found = len(words & vocabulary)
        if not found:
            continue
        main, *others = _LANGUAGE_REGIONS[language]
        counts[main] += found * (MAIN_SHARE if others else 1)
        for region in others:
            counts[region] += found * (1 - MAIN_SHARE) / len(others)
    return dict(counts)


# -- why, in words ---------------------------------------------------------------------------
def _top(counts: Tally) -> tuple[str, float, float]:
    region = max(counts, key=lambda r: counts[r])
    return region, counts[region], sum(counts.values())


def _rows_naming(counts: Tally, _fields: pl.DataFrame) -> str:
    region, n, total = _top(counts)
    return f"{n:,.0f} of {total:,.0f} Country cells name {region}"


def _numbers_with_code(counts: Tally, _fields: pl.DataFrame) -> str:
    region, n, total = _top(counts)
    code = phonenumbers.country_code_for_region(region)
    return f"{n:,.0f} of {total:,.0f} numbers with a country code are +{code}"


def _emails_ending(counts: Tally, _fields: pl.DataFrame) -> str:
    region, n, total = _top(counts)
    return f"{n:,.0f} of {total:,.0f} emails with a country domain end .{region.lower() if region != 'GB' else 'uk'}"


def _cities_in(counts: Tally, fields: pl.DataFrame) -> str:
    region, n, _ = _top(counts)
    named = [c for c, _ in _column(fields)("city") if _city_region(c) == region][:3]
    return f"{n:,.0f} cit{'ies' if n != 1 else 'y'} in {region} ({', '.join(named)})"


def _postcodes_shaped(counts: Tally, _fields: pl.DataFrame) -> str:
    return f"postcodes shaped as in {_top(counts)[0]}"


def _valid_numbers(valid: Tally, national: int) -> str:
    region, n, _ = _top(valid)
    return f"{n:,.0f} of {national:,} numbers without +country tried valid in {region}"


def _headers_in(counts: Tally, _fields: pl.DataFrame) -> str:
    region, _, _ = _top(counts)
    language = _REGION_NAMES.get(region)
    return f"{language} headers" if language else f"headers written in {region}"
