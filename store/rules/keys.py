"""Identifying fields: the values an import or a duplicate search keys on, and
when two of them count as the same."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from store.rules.emails import email_key
from store.rules.vat import compact as vat_key

if TYPE_CHECKING:
    import polars as pl

KEY_FIELDS = ("email", "number", "external_id", "vat_id", "phone")
_SEPARATORS = str.maketrans("", "", " \t.-")


def _code_key(text: str) -> str:
    return text.translate(_SEPARATORS).upper()


def _plain_key(text: str) -> str:
    return text.strip()


# Document field → (key, normaliser); a mobile number is found as a phone.
KEYED: dict[str, tuple[str, Callable[[str], str]]] = {
    "email": ("email", email_key), "number": ("number", _code_key), "vat_id": ("vat_id", vat_key),
    "external_id": ("external_id", _plain_key), "phone": ("phone", _plain_key), "mobile": ("phone", _plain_key),
}


def normalise_key(field: str, value: object) -> str | None:
    """The form under which two values of an identifying field count as equal."""
    if value is None:
        return None
    key = KEYED[field][1](str(value).strip())
    return key or None


# What str.strip() removes from ASCII text (polars' own whitespace leaves out \x1c-\x1f).
_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _ascii_rule(normalise: Callable[[str], str]) -> Callable[[pl.Expr], pl.Expr]:
    if normalise is email_key:
        return lambda text: text.str.to_lowercase()
    if normalise is _code_key:
        return lambda text: text.str.replace_all(r"[ \t.\-]", "").str.to_uppercase()
    if normalise is vat_key:  # (vat.SEPARATORS over ASCII: \s there holds \x1c-\x1f, polars' does not)
        return lambda text: text.str.replace_all(r"[\s\x1c-\x1f.\-/,:_]", "").str.to_uppercase().str.replace(r"^GR", "EL")
    return lambda text: text


def key_column(field: str, values: pl.Series) -> pl.Series:
    """`normalise_key` of every value (null for None), column-wise for building indexes: ASCII
    text by polars, any other by `normalise_key` itself, so that the two always agree."""
    import polars as pl

    text = values.cast(pl.String).rename("v")
    rule = _ascii_rule(KEYED[field][1])
    keys = text.to_frame().select(rule(pl.col("v").str.strip_chars(_ASCII_SPACE))).to_series()
    other = (text.str.len_bytes() != text.str.len_chars()).fill_null(False)  # (non-ASCII: UTF-8 of more bytes than characters)
    if other.any():  # (a Python call for these rows only)
        at = other.arg_true()
        keys = keys.scatter(at, [normalise_key(field, value) for value in text.gather(at).to_list()])
    return keys.replace("", None)


def vat_key_column(values: pl.Series, regions: pl.Series) -> pl.Series:
    """`key_column` of VAT ids, a number kept without its prefix (stored before VAT ids were
    cleaned) prefixed by its record's region: `123456789` in DE is `DE123456789`."""
    import polars as pl

    keys = key_column("vat_id", values).rename("k")
    prefixes = regions.cast(pl.String).replace("GR", "EL").rename("p")
    bare = pl.col("k").str.contains("^[0-9]") & pl.col("p").is_not_null()
    return pl.DataFrame([keys, prefixes]).select(
        pl.when(bare).then(pl.col("p") + pl.col("k")).otherwise(pl.col("k"))).to_series().rename(values.name)


def identity_column(field: str, values: pl.Series) -> pl.Series:
    """`key_column`, but a phone only in E.164: a number kept as typed ("0", "n/a") names nobody."""
    import polars as pl

    keys = key_column(field, values)
    if KEYED[field][0] != "phone":
        return keys
    return keys.to_frame().select(pl.when(pl.first().str.starts_with("+")).then(pl.first())).to_series()
