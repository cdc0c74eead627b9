"""Fields in the form two records are compared in, column-wise (polars).

Names, streets and cities fold to lower-case ASCII with one spelling of each
umlaut: ü, ue and u all become u (so Müller, Mueller and Muller meet, and the
Turkish Öztürk typed as Ozturk too), ß becomes ss, ş/ç/ğ/ı lose their marks.
Company names lose their legal form (GmbH, Ltd, B.V., S.A., A.Ş., SARL …).
Phones are E.164 across phone and mobile; emails are the store's key.
"""
from __future__ import annotations

import polars as pl

from store.rules.keys import key_column
from store.rules.phones_frame import normalise_column
from store.rules.validation import row_region

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
_STREET_WORDS = (
    (r"(strasse|str)\b", "str "), (r"\bstraat\b", "str"), (r"\bstreet\b", "st"), (r"\broad\b", "rd"),
    (r"\bavenue\b", "av"), (r"\bave\b", "av"), (r"\bavenida\b", "av"), (r"\bavda\b", "av"), (r"\bcalle\b", "c"),
    (r"\bcarrer\b", "c"), (r"\bboulevard\b", "bd"), (r"\bblvd\b", "bd"), (r"\bsokagi\b", "sk"), (r"\bsokak\b", "sk"),
    (r"\bsok\b", "sk"), (r"\bcaddesi\b", "cd"), (r"\bcad\b", "cd"), (r"\bmahallesi\b", "mah"), (r"\bplatz\b", "pl"),
    (r"\blane\b", "ln"), (r"\bdrive\b", "dr"), (r"\bplace\b", "pl"), (r"\bcrescent\b", "cres"),
)
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


def street_name(text: pl.Expr) -> pl.Expr:
    folded = fold(text)
    for pattern, spelling in _STREET_WORDS:
        folded = folded.str.replace_all(pattern, spelling)
    return folded.str.replace_all(r"\s+", " ").str.strip_chars()


def _empty_as_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr != "").then(expr)


def _phone(column: str, regions: pl.Series, raw: pl.DataFrame) -> pl.Series:
    """E.164: as stored when valid, else read as typed in the record's region (a new record's
    phone is as typed; a stored one kept as typed stays unknown)."""
    values = raw[column].cast(pl.String).str.strip_chars()
    stored = values.str.starts_with("+").fill_null(False) & values.str.contains(r"^\+[0-9]{6,15}$").fill_null(False)
    read = normalise_column(values.fill_null(""), regions)
    return pl.select(pl.when(stored).then(values).otherwise(read)).to_series().rename(column)


def normalised(raw: pl.DataFrame, default_region: str | None) -> pl.DataFrame:
    """The compared form of records given as raw text columns (`FIELDS`, any of them null or
    absent), in the same row order."""
    raw = raw.with_columns(pl.lit(None, pl.String).alias(f) for f in FIELDS if f not in raw.columns)
    raw = raw.with_columns(pl.col(f).cast(pl.String) for f in FIELDS)
    regions = pl.Series([row_region(c, default_region) for c in raw["country"].to_list()], dtype=pl.String) \
        if raw["country"].null_count() < raw.height else pl.Series([default_region] * raw.height, dtype=pl.String)
    email = key_column("email", raw["email"])
    vat = key_column("vat_id", raw["vat_id"])
    phones = [_phone(c, regions, raw) for c in ("phone", "mobile")]
    frame = raw.select(
        _empty_as_null(fold(pl.col("first_name"))).alias("fn"),
        _empty_as_null(fold(pl.col("last_name"))).alias("ln"),
        _empty_as_null(company_name(pl.col("company"))).alias("co"),
        _empty_as_null(street_name(pl.col("street"))).alias("st"),
        _empty_as_null(fold(pl.col("street"))).alias("sf"),  # (a typo can hide a street word: "lace" for "place")
        _empty_as_null(pl.col("postcode").str.to_uppercase().str.replace_all(r"[^0-9A-Z]", "")).alias("pc"),
        _empty_as_null(fold(pl.col("city"))).alias("ci"),
    ).with_columns(pl.Series("em", email), pl.Series("vat", vat), pl.Series("p1", phones[0]),
                   pl.Series("p2", phones[1]))
    local = pl.col("em").str.split("@").list.first()
    return frame.with_columns(
        _empty_as_null(local.str.replace(r"\+.*$", "").str.replace_all(r"[._-]", "")).alias("eml"),
        pl.col("em").str.split("@").list.last().alias("emd"),
        local.is_in(list(ROLE_LOCALS)).fill_null(False).alias("role"),
        # A phone given twice (as phone and mobile) is one phone.
        pl.when(pl.col("p2") != pl.col("p1")).then(pl.col("p2")).otherwise(pl.when(pl.col("p1").is_null())
                                                                               .then(pl.col("p2"))).alias("p2"),
    )
