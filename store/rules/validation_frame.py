"""SPEC §3 over whole columns: the rules of `validation`, as polars expressions.

Used by every bulk path (the import's plan, `Store.apply_batch`) so that
100,000 rows are judged in a fraction of a second. Messages, patterns and the
per-value functions (phones, Luhn) are `validation`'s own; a test holds both
paths to the same results.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from store.base.text import printable
from store.model import PHONE_FIELDS
from store.rules.emails import ASCII_FAST_PATTERN, LIBRARY_ONLY_PATTERN, MAX_LENGTH, check_email
from store.rules.regions import region_of
from store.rules.validation import (
    CARD_ERROR,
    CARD_EXEMPT_FIELDS,
    CARD_RUN_PATTERN,
    FLAG_DEFAULTS,
    FLAG_ERROR,
    NAME_ERROR,
    REACH_ERROR,
    WHITESPACE,
    company_error,
    holds_card_number,
    mask_cards,
    parse_flag,
    phone_warning,
)
from store.rules.vat import clean_vat

ISSUE_SCHEMA = {"index": pl.Int64, "field": pl.String, "value": pl.String, "message": pl.String, "severity": pl.String}
_TEXT_SKIP = frozenset(FLAG_DEFAULTS)


def frame_from_records(records: Iterable[Mapping[str, Any]], fields: tuple[str, ...]) -> pl.DataFrame:
    """The records' values of `fields` as text columns (tags joined by commas, flags yes/no)."""
    rows = list(records)
    columns = list(fields)

    def text(value: object) -> str | None:
        if isinstance(value, (list, tuple)):
            return ",".join(map(str, value))
        if isinstance(value, bool):
            return "yes" if value else "no"
        return None if value is None else str(value)

    data = {}
    for field in columns:
        values = [r.get(field) for r in rows]
        if not all(v is None or v.__class__ is str for v in values):
            values = [text(v) for v in values]
        data[field] = values
    return pl.DataFrame(data, schema=dict.fromkeys(columns, pl.String))


def text_frame(frame: pl.DataFrame, fields: tuple[str, ...]) -> pl.DataFrame:
    """`frame_from_records` for records given as a frame: its values of `fields` as text
    columns (lists joined by commas, flags yes/no; a field it lacks: null)."""

    def text(field: str) -> pl.Expr:
        if field not in frame.columns:
            return pl.lit(None, dtype=pl.String).alias(field)
        column, dtype = pl.col(field), frame.schema[field]
        if isinstance(dtype, pl.List):
            return column.cast(pl.List(pl.String)).list.join(",").alias(field)
        if dtype == pl.Boolean:
            return pl.when(column).then(pl.lit("yes")).when(column.not_()).then(pl.lit("no")).alias(field)
        return column.cast(pl.String).alias(field)

    return frame.select([text(field) for field in fields])


def _issues(mask: pl.Series, frame: pl.DataFrame, field: str, value: pl.Expr, message: pl.Expr, severity: str) -> pl.DataFrame:
    found = frame.with_row_index("index").filter(mask)
    return found.select(
        pl.col("index").cast(pl.Int64), pl.lit(field).alias("field"), value.cast(pl.String).alias("value"),
        message.alias("message"), pl.lit(severity).alias("severity"))


def clean_frame(
    frame: pl.DataFrame, *, kind: str | None, allow_private: bool, default_country: str | None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cleaned columns and every issue (index, field, value, message, severity).

    Text is trimmed (empty → null), emails checked and lower-cased, phones
    normalised per distinct (value, region) — the region being the row's own
    country, else `default_country` — and tags split into lists; the columns
    present are judged.
    """
    text_fields = [c for c in frame.columns if c not in _TEXT_SKIP]
    frame = frame.with_columns(pl.col(text_fields).str.strip_chars(WHITESPACE).replace("", None))
    carded = [c for c in text_fields if c not in CARD_EXEMPT_FIELDS]
    issues = [pl.DataFrame(schema=ISSUE_SCHEMA)]
    regions = phone_regions(frame, default_country) if (PHONE_FIELDS | {"vat_id"}) & set(frame.columns) else None
    for field in carded:
        cards = _card_numbers(frame[field])
        if field in PHONE_FIELDS and regions is not None:
            frame, found = _normalise_phones(frame, field, regions)
            # A valid phone number is a phone number; a card-like run that is not one (kept as typed) is a card number.
            cards = cards & ~frame[field].str.starts_with("+").fill_null(False)
            issues.append(found.filter(~pl.col("index").is_in(cards.arg_true().cast(pl.Int64).implode())))
        if cards.any():
            issues.append(_card_issues(cards, frame, field))
    if "email" in frame.columns:
        frame, found = _check_emails(frame)
        issues.append(found)
    if "vat_id" in frame.columns and regions is not None:
        frame, found = _clean_vats(frame, regions)
        issues.append(found)
    issues += _record_issues(frame, kind, allow_private)
    for flag in _TEXT_SKIP & set(frame.columns):
        frame, found = _parse_flags(frame, flag)
        issues.append(found)
    if "tags" in frame.columns:
        frame = frame.with_columns(
            pl.col("tags").str.replace_all(";", ",").str.split(",")
            .list.eval(pl.element().str.strip_chars(WHITESPACE)).list.filter(pl.element() != "").list.unique(maintain_order=True)
            .fill_null(pl.lit([], dtype=pl.List(pl.String))))
    return frame, pl.concat(issues).sort("index", maintain_order=True)


def card_issues(frame: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
    """Card-number errors (values masked) of any text columns, e.g. a file's raw cells."""
    found = [pl.DataFrame(schema=ISSUE_SCHEMA)]
    for column in columns:
        cards = _card_numbers(frame[column])
        if cards.any():
            found.append(_card_issues(cards, frame, column))
    return pl.concat(found)


def _card_issues(cards: pl.Series, frame: pl.DataFrame, field: str) -> pl.DataFrame:
    masked = pl.col(field).map_elements(mask_cards, return_dtype=pl.String, skip_nulls=True)
    return _issues(cards, frame, field, masked, pl.lit(CARD_ERROR), "error")


def _card_numbers(values: pl.Series) -> pl.Series:
    """Per row, whether the text holds a card number (the pattern in polars, Luhn per candidate)."""
    candidates = values.str.contains(CARD_RUN_PATTERN).fill_null(False)
    at = candidates.arg_true()
    if at.len() == 0:
        return candidates
    # (Luhn in Python for the candidates only: a column of phone numbers has a few among 100k)
    return candidates.scatter(at, [holds_card_number(value) for value in values.gather(at).to_list()])


def _parse_flags(frame: pl.DataFrame, field: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Yes/no text to booleans (empty: the field's default); anything else an error."""
    text = frame[field].str.strip_chars(WHITESPACE).replace("", None)  # an empty cell: the default, as one value
    parsed: dict[str, bool | None] = {}
    for value in text.drop_nulls().unique().to_list():
        try:
            parsed[value] = parse_flag(value)
        except ValueError:
            parsed[value] = None
    flags = text.replace_strict(parsed, default=None, return_dtype=pl.Boolean)
    bad = text.is_not_null() & flags.is_null()
    shown = pl.col(field).map_elements(printable, return_dtype=pl.String, skip_nulls=True)
    found = _issues(bad, frame, field, pl.col(field), pl.format("'{}' " + FLAG_ERROR, shown), "error")
    default = FLAG_DEFAULTS[field]
    return frame.with_columns((flags if default is None else flags.fill_null(default)).alias(field)), found


def phone_regions(frame: pl.DataFrame, fallback: str | None) -> pl.Series:
    """Per row, the region its phones are read in: its Country cell's, else `fallback`."""
    if "country" not in frame.columns:
        return pl.Series("region", [fallback] * frame.height, dtype=pl.String)
    countries = frame["country"].str.strip_chars(WHITESPACE)
    named = {c: region_of(c) or fallback for c in countries.drop_nulls().unique().to_list()}  # (a cell naming none: the fallback)
    return countries.replace_strict(named, default=fallback, return_dtype=pl.String).alias("region")


def _normalise_phones(frame: pl.DataFrame, field: str, regions: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    from store.rules.phones_frame import normalise_column  # (phonenumbers: a store opens without it)

    looked_up = normalise_column(frame[field], regions)
    unparsed = frame[field].is_not_null() & looked_up.is_null()
    warned = frame.with_columns(regions)
    found = _issues(unparsed, warned, field, pl.col(field), _phone_warning_expr(field), "warning")
    return frame.with_columns(looked_up.fill_null(frame[field]).alias(field)), found


def _phone_warning_expr(field: str) -> pl.Expr:
    with_region = pl.format(phone_warning("{}", "{}"), pl.col(field), pl.col("region"))
    return pl.when(pl.col("region").is_null()).then(pl.format(phone_warning("{}", None), pl.col(field))).otherwise(with_region)


def _clean_vats(frame: pl.DataFrame, regions: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """VAT ids by `vat.clean_vat`, once per distinct (id, region): a file repeats few. One
    holding a card number is left to the card rule (its message would show the number)."""
    values = frame["vat_id"]
    judged = values.is_not_null() & ~_card_numbers(values)
    if not judged.any():
        return frame, pl.DataFrame(schema=ISSUE_SCHEMA)
    pairs = pl.DataFrame({"vat_id": values, "region": regions.fill_null("")})
    distinct = pairs.filter(judged).unique().rows()
    verdicts = [clean_vat(vat, region or None) for vat, region in distinct]
    lookup = pl.DataFrame({"vat_id": [v for v, _ in distinct], "region": [r for _, r in distinct],
                           "_vat": [v.value for v in verdicts], "message": [v.problem for v in verdicts],
                           "severity": [v.severity for v in verdicts]},
                          schema={"vat_id": pl.String, "region": pl.String, "_vat": pl.String, "message": pl.String,
                                  "severity": pl.String})
    found = pairs.with_row_index("index").join(lookup, on=["vat_id", "region"], how="left", maintain_order="left")
    said = found.filter(pl.col("message").is_not_null()).select(
        pl.col("index").cast(pl.Int64), pl.lit("vat_id").alias("field"), pl.col("_vat").alias("value"),
        pl.col("message"), pl.col("severity"))
    return frame.with_columns(found["_vat"].fill_null(values).alias("vat_id")), said


def _check_emails(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Plain ASCII addresses judged in polars; every other one by `emails.check_email`."""
    frame = frame.with_columns(pl.col("email").str.to_lowercase())
    email = frame["email"]
    fast = (email.str.contains(ASCII_FAST_PATTERN) & (email.str.len_bytes() <= MAX_LENGTH)
            & ~email.str.contains(LIBRARY_ONLY_PATTERN))
    slow = email.is_not_null() & ~fast.fill_null(False)
    if not slow.any():
        return frame, pl.DataFrame(schema=ISSUE_SCHEMA)
    judged = {v: check_email(v) for v in email.filter(slow).unique().to_list()}
    stored = email.replace({v: r[0] for v, r in judged.items()})
    # (what is said of the slow rows alone: said of every row, a million rows took 0.9 s more)
    asked = email.filter(slow)
    said = pl.DataFrame({
        "index": slow.arg_true().cast(pl.Int64),
        "field": pl.repeat("email", asked.len(), eager=True),
        "value": stored.filter(slow),
        "message": asked.replace_strict({v: r[1] or r[2] for v, r in judged.items()}, default=None, return_dtype=pl.String),
        "severity": asked.replace_strict({v: "error" if r[1] else "warning" for v, r in judged.items()}, default=None,
                                         return_dtype=pl.String),
    }, schema=ISSUE_SCHEMA)
    return frame.with_columns(stored.alias("email")), said.filter(said["message"].is_not_null())


def _has(frame: pl.DataFrame, *fields: str) -> pl.Series:
    present = [frame[f].is_not_null() for f in fields if f in frame.columns]
    if not present:
        return pl.Series([False] * frame.height, dtype=pl.Boolean)
    out = present[0]
    for series in present[1:]:
        out = out | series
    return out


def _record_issues(frame: pl.DataFrame, kind: str | None, allow_private: bool) -> list[pl.DataFrame]:
    none = pl.lit(None, dtype=pl.String)
    found = [
        _issues(~_has(frame, "first_name", "last_name", "company"), frame, "name", none, pl.lit(NAME_ERROR), "error"),
        _issues(~_has(frame, "email", "phone", "mobile"), frame, "email", none, pl.lit(REACH_ERROR), "error"),
    ]
    missing_company = company_error(kind, allow_private)
    if missing_company:
        found.append(_issues(~_has(frame, "company"), frame, "company", none, pl.lit(missing_company), "error"))
    return found


_SEAL = object()


class Checked:
    """Proof that a frame's values were cleaned and judged by `clean_frame` under the
    given rule settings (kind, private customers allowed, phone region). Only
    `checked_frame` makes one: a batch carrying it is spared a second check, and no
    caller can claim a check its values did not pass. The values themselves are
    taken from here, not from the batch's records, so they cannot drift after it."""

    __slots__ = ("_errors", "_values", "frame", "settings")

    def __init__(self, frame: pl.DataFrame, settings: tuple[str | None, bool, str | None], errors: frozenset[int],
                 *, seal: object) -> None:
        if seal is not _SEAL:
            raise TypeError("only checked_frame vouches for values")
        self.frame, self.settings, self._errors = frame, settings, errors
        self._values: dict[tuple[str, ...], list[dict[str, object]]] = {}

    def take(self, positions: list[int]) -> Checked:
        """The proof for these rows (in this order) of the frame."""
        index = {old: new for new, old in enumerate(positions)}
        return Checked(self.frame[positions], self.settings,
                       frozenset(index[e] for e in self._errors if e in index), seal=_SEAL)

    def values(self, fields: Iterable[str]) -> list[dict[str, object]] | None:
        """Every row's cleaned fields (those of `fields` it holds), or None when a row failed
        the check. Built once (a plan and the store both ask): copy before changing one."""
        held = self.columns(fields)
        if held is None:
            return None
        key = tuple(held.columns)
        if key not in self._values:
            self._values[key] = held.to_dicts()
        return self._values[key]

    def columns(self, fields: Iterable[str]) -> pl.DataFrame | None:
        """The cleaned fields (those of `fields` it holds) as a frame, or None when a row failed the check."""
        if self._errors:
            return None
        return self.frame.select([f for f in fields if f in self.frame.columns])


def checked_frame(frame: pl.DataFrame, *, kind: str | None, allow_private: bool,
                  default_country: str | None) -> tuple[pl.DataFrame, pl.DataFrame, Checked]:
    """`clean_frame`, and the proof of it for `Store.apply_batch`."""
    cleaned, issues = clean_frame(frame, kind=kind, allow_private=allow_private, default_country=default_country)
    errors = frozenset(issues.filter(pl.col("severity") == "error")["index"].to_list())
    return cleaned, issues, Checked(cleaned, (kind, allow_private, default_country), errors, seal=_SEAL)
