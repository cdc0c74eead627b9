"""SPEC §3 over whole columns: the rules of `validation`, as polars expressions.

Used by every bulk path (the import's plan, `Store.apply_batch`) so that
100,000 rows are judged in a fraction of a second. Messages, patterns and the
per-value functions (phones, Luhn) are `validation`'s own; a test holds both
paths to the same results.
"""
from __future__ import annotations

from typing import Iterable, Mapping

import polars as pl

from .model import PHONE_FIELDS
from .validation import (
    CARD_ERROR, CARD_RUN_PATTERN, EMAIL_PATTERN, NAME_ERROR, REACH_ERROR, company_error, email_error,
    holds_card_number, normalise_phone, phone_warning,
)

ISSUE_SCHEMA = {"index": pl.Int64, "field": pl.String, "value": pl.String, "message": pl.String, "severity": pl.String}
_TEXT_SKIP = frozenset({"tags", "obfuscate_enabled"})


def frame_from_records(records: Iterable[Mapping], fields: tuple[str, ...]) -> pl.DataFrame:
    """The records' values of `fields` as text columns (tags joined by commas)."""
    rows = list(records)
    columns = [f for f in fields if f != "obfuscate_enabled"]

    def text(value: object) -> str | None:
        if isinstance(value, (list, tuple)):
            return ",".join(map(str, value))
        return None if value is None else str(value)

    data = {}
    for field in columns:
        values = [r.get(field) for r in rows]
        if not all(v is None or v.__class__ is str for v in values):
            values = [text(v) for v in values]
        data[field] = values
    return pl.DataFrame(data, schema={f: pl.String for f in columns})


def _issues(mask: pl.Series, frame: pl.DataFrame, field: str, value: pl.Expr, message: pl.Expr, severity: str) -> pl.DataFrame:
    found = frame.with_row_index("index").filter(mask)
    return found.select(
        pl.col("index").cast(pl.Int64), pl.lit(field).alias("field"), value.cast(pl.String).alias("value"),
        message.alias("message"), pl.lit(severity).alias("severity"))


def clean_frame(
    frame: pl.DataFrame, *, kind: str | None, allow_private: bool, default_country: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cleaned columns and every issue (index, field, value, message, severity).

    Text is trimmed (empty → null), emails lower-cased, phones normalised per
    distinct value, tags split into lists; the columns present are judged.
    """
    text_fields = [c for c in frame.columns if c not in _TEXT_SKIP]
    frame = frame.with_columns(pl.col(text_fields).str.strip_chars().replace("", None))
    if "email" in frame.columns:
        frame = frame.with_columns(pl.col("email").str.to_lowercase())
    issues = [pl.DataFrame(schema=ISSUE_SCHEMA)]
    for field in text_fields:
        if field in PHONE_FIELDS:
            frame, found = _normalise_phones(frame, field, default_country)
            issues.append(found)
            continue
        candidates = frame[field].str.contains(CARD_RUN_PATTERN).fill_null(False)
        if candidates.any():
            cards = frame[field].map_elements(holds_card_number, return_dtype=pl.Boolean, skip_nulls=True)
            issues.append(_issues((candidates & cards.fill_null(False)), frame, field, pl.col(field), pl.lit(CARD_ERROR), "error"))
    if "email" in frame.columns:
        bad = frame["email"].is_not_null() & ~frame["email"].str.contains(EMAIL_PATTERN).fill_null(True)
        issues.append(_issues(bad, frame, "email", pl.col("email"),
                              pl.format(email_error("{}"), pl.col("email")), "error"))
    issues += _record_issues(frame, kind, allow_private)
    if "tags" in frame.columns:
        frame = frame.with_columns(
            pl.col("tags").str.replace_all(";", ",").str.split(",")
            .list.eval(pl.element().str.strip_chars().filter(pl.element() != "")).list.unique(maintain_order=True)
            .fill_null(pl.lit([], dtype=pl.List(pl.String))))
    return frame, pl.concat(issues).sort("index", maintain_order=True)


def _normalise_phones(frame: pl.DataFrame, field: str, country: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    distinct = frame[field].drop_nulls().unique()
    normal = {value: normalise_phone(value, country) for value in distinct}
    unparsed = frame[field].is_not_null() & frame[field].replace_strict(normal, default=None, return_dtype=pl.String).is_null()
    found = _issues(unparsed, frame, field, pl.col(field),
                    pl.format(phone_warning("{}", country), pl.col(field)), "warning")
    mapped = {k: v for k, v in normal.items() if v is not None}
    return frame.with_columns(pl.col(field).replace(mapped)), found


def _has(frame: pl.DataFrame, *fields: str) -> pl.Series:
    present = [frame[f].is_not_null() for f in fields if f in frame.columns]
    if not present:
        return pl.Series([False] * frame.height)
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
