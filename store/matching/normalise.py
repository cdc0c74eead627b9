"""Fields in the form two records are compared in, column-wise (polars).

Names, streets and cities fold to lower-case ASCII with one spelling of each
umlaut: ü, ue and u all become u (so Müller, Mueller and Muller meet, and the
Turkish Öztürk typed as Ozturk too), ß becomes ss, ş/ç/ğ/ı lose their marks.
Company names lose their legal form (GmbH, Ltd, B.V., S.A., A.Ş., SARL …).
Phones are E.164 across phone and mobile; emails are the store's key.
"""
from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl

from store.rules.keys import key_column, normalise_key, vat_key_column
from store.rules.phones import normalise_phone
from store.rules.phones_frame import normalise_column
from store.rules.validation import row_region

_E164 = re.compile(r"\+[0-9]{6,15}")
# The raw fields a record is matched on (customers and prospects alike).
FIELDS = ("first_name", "last_name", "company", "email", "phone", "mobile", "street", "postcode", "city",
          "country", "vat_id")

# Letters NFKD leaves whole (ı, ø, ł …) and digraphs spelled out (æ, œ, þ).
_LETTERS = {"ı": "i", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ß": "ss"}
# German transliteration and its plain form meet in one spelling (ue = ü = u).
_UMLAUTS = {"ae": "a", "oe": "o", "ue": "u"}
_LEGAL_FORMS = (
    "gmbh", "mbh", "ag", "kg", "kgaa", "ohg", "ug", "haftungsbeschrankt", "ek", "ev", "eg", "gbr", "se",
    "ltd", "limited", "plc", "llp", "llc", "lp", "inc", "incorporated", "corp", "corporation", "co", "company",
    "bv", "nv", "vof", "cv", "sa", "sas", "sasu", "sarl", "eurl", "sca", "snc", "sl", "slu", "sll", "scp",
    "as", "sti", "ltdsti", "sirketi", "anonim", "ticaret", "tic", "san", "ve", "und", "and", "et", "y", "en",
)
_TRAILING_LEGAL = r"(?:\s+(?:" + "|".join(_LEGAL_FORMS) + r"))+$"
# Street words written in full or abbreviated: one spelling each.
_STREET_SUFFIX = r"(strasse|str)\b"  # Hauptstraße, Hauptstrasse, Hauptstr.
_STREET_WORDS = {
    "straat": "str", "street": "st", "road": "rd", "avenue": "av", "ave": "av", "avenida": "av", "avda": "av",
    "calle": "c", "carrer": "c", "boulevard": "bd", "blvd": "bd", "sokagi": "sk", "sokak": "sk", "sok": "sk",
    "caddesi": "cd", "cad": "cd", "mahallesi": "mah", "platz": "pl", "lane": "ln", "drive": "dr", "place": "pl",
    "crescent": "cres",
}
# Addresses that are a role, not a person: a different one says nothing about who it is.
ROLE_LOCALS = frozenset({
    "info", "office", "mail", "contact", "kontakt", "hello", "hallo", "sales", "vertrieb", "service", "support",
    "admin", "team", "buchhaltung", "accounting", "invoice", "invoices", "rechnung", "billing", "post", "iletisim",
    "bilgi", "satis", "muhasebe",
    "ventas", "verkoop", "contacto", "correo", "bureau", "accueil", "secretariat", "orders", "shop", "webmaster", "noreply",
})


def fold(text: pl.Expr) -> pl.Expr:
    """Lower-case ASCII letters and digits with single spaces; '' when nothing is left."""
    lowered = text.str.to_lowercase().str.replace_many(list(_LETTERS), list(_LETTERS.values()))
    plain = lowered.str.normalize("NFKD").str.replace_all(r"\p{M}", "")
    squeezed = (plain.str.replace_all(r"['’`´.]", "").str.replace_all(r"[^a-z0-9]+", " ")
                .str.strip_chars())
    return squeezed.str.replace_many(list(_UMLAUTS), list(_UMLAUTS.values())).fill_null("")


def company_name(text: pl.Expr) -> pl.Expr:
    """A company's name without its legal form (and the '& Co.' that goes with it)."""
    return fold(text).str.replace(_TRAILING_LEGAL, "").str.strip_chars()


def street_name(folded: pl.Expr) -> pl.Expr:
    """A street (`fold`ed) with one spelling of each street word (a word at a time, by table:
    one regex per word would be compiled for every call)."""
    words = folded.str.replace_all(_STREET_SUFFIX, "str ").str.split(" ")
    spelled = words.list.eval(pl.element().replace(_STREET_WORDS)).list.filter(pl.element() != "")
    return spelled.list.join(" ")


def _empty_as_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr != "").then(expr)


# Up to this many records (one record's check), keys are read one by one by the same rules
# (phones.normalise_phone and keys.normalise_key, which the column-wise paths are held to),
# sparing polars' set-up per column.
ONE_BY_ONE = 16


def _phones(raw: pl.DataFrame, regions: list[str | None]) -> list[pl.Series]:
    """E.164 of phone and mobile: as stored when valid, else read as typed in the record's
    region (a new record's phone is as typed; a stored one kept as typed stays unknown)."""
    out = []
    for column in ("phone", "mobile"):
        values = raw[column].str.strip_chars()
        if raw.height <= ONE_BY_ONE:
            read = [None if v is None else v if _E164.fullmatch(v) else normalise_phone(v, r)
                    for v, r in zip(values.to_list(), regions, strict=True)]
            out.append(pl.Series(column, read, dtype=pl.String))
            continue
        # Only the numbers not stored in E.164 are read (a store keeps most in E.164).
        typed = ~values.str.contains(r"^\+[0-9]{6,15}$").fill_null(True)
        as_read = normalise_column(values.filter(typed), pl.Series(regions, dtype=pl.String).filter(typed))
        out.append((values.scatter(typed.arg_true(), as_read) if as_read.len() else values).rename(column))
    return out


def _key(field: str, values: pl.Series) -> pl.Series:
    if values.len() <= ONE_BY_ONE:
        return pl.Series(field, [normalise_key(field, v) for v in values.to_list()], dtype=pl.String)
    return key_column(field, values)


def _regions(countries: list[str | None], default_region: str | None) -> list[str | None]:
    known = {c: row_region(c, default_region) for c in set(countries)}
    return [known[c] for c in countries]


class _PerValue:
    """A column's form computed once per distinct value: names and cities repeat (a file
    of 100,000 people holds a few thousand first names)."""

    def __init__(self, column: str, form: Callable[[pl.Expr], pl.Expr]) -> None:
        self.column = column
        self.expr = form(pl.col(column))  # (built once: an expression costs to build)

    def formed(self, raw: pl.DataFrame) -> pl.Series:
        values = raw.get_column(self.column)
        distinct = values.drop_nulls().unique()
        shaped = distinct.to_frame().select(self.expr).to_series()
        return values.replace_strict(distinct, shaped, default=None, return_dtype=pl.String)


def _folded(text: pl.Expr) -> pl.Expr:
    return _empty_as_null(fold(text))


# Columns formed per distinct value, before the rest (`_COMPARED_FORM`) reads them.
_BY_VALUE = {"fn": _PerValue("first_name", _folded), "ln": _PerValue("last_name", _folded),
             "ci": _PerValue("city", _folded), "co": _PerValue("company", lambda c: _empty_as_null(company_name(c))),
             "sf": _PerValue("street", _folded)}  # (folded whole too: a typo can hide a street word, "lace" for "place")
_LOCAL = pl.col("em").str.split("@").list.first()
# The compared columns from the raw text and the keys (built once: an expression costs to build).
_COMPARED_FORM = [
    pl.col("fn"), pl.col("ln"), pl.col("co"),
    _empty_as_null(street_name(pl.col("sf"))).alias("st"),
    pl.col("sf"),
    pl.col("street").str.extract(r"(\d+)").alias("hn"),
    _empty_as_null(pl.col("postcode").str.to_uppercase().str.replace_all(r"[^0-9A-Z]", "")).alias("pc"),
    pl.col("ci"),
    pl.col("em"), pl.col("vat"), pl.col("p1"),
    # A phone given twice (as phone and mobile) is one phone.
    pl.when(pl.col("p2") != pl.col("p1")).then(pl.col("p2")).otherwise(pl.when(pl.col("p1").is_null())
                                                                           .then(pl.col("p2"))).alias("p2"),
    _empty_as_null(_LOCAL.str.replace(r"\+.*$", "").str.replace_all(r"[._-]", "")).alias("eml"),
    pl.col("em").str.split("@").list.last().alias("emd"),
    pl.col("em").str.replace_all(r"[0-9]+", "").alias("emx"),  # (numbered addresses: anna.meier1@, anna.meier7@)
    _LOCAL.is_in(list(ROLE_LOCALS)).fill_null(False).alias("role"),
]


def normalised(raw: pl.DataFrame, default_region: str | None) -> pl.DataFrame:
    """The compared form of records given as raw text columns (`FIELDS`, any of them null or
    absent), in the same row order."""
    raw = raw.select(pl.col(f).cast(pl.String) if f in raw.columns else pl.lit(None, pl.String).alias(f)
                     for f in FIELDS)
    regions = _regions(raw["country"].to_list(), default_region)
    phones = _phones(raw, regions)
    vat = vat_key_column(raw["vat_id"], pl.Series(regions, dtype=pl.String))
    keys = pl.DataFrame([_key("email", raw["email"]).alias("em"), vat.alias("vat"),
                         phones[0].alias("p1"), phones[1].alias("p2")])
    if raw.height <= ONE_BY_ONE:
        formed = raw.select(by.expr.alias(name) for name, by in _BY_VALUE.items())
    else:
        formed = pl.DataFrame([by.formed(raw).alias(name) for name, by in _BY_VALUE.items()])
    compared = pl.concat([raw, keys, formed], how="horizontal").select(_COMPARED_FORM)
    # The street without spaces, for a space typed into or left out of a word.
    return compared.with_columns(pl.col("st").str.replace_all(" ", "").alias("sn"))
