"""Each planned row judged against the store and the rest of its file.

A row is judged as what it will write: a new record as its cleaned cells, a
matched record (update, upsert) as the stored record with the row's non-empty
cells laid over it, through the store's own single-record check — the one the
commit runs — so a dry run and the real run see the same rows refused. Rows
that would create a record whose email, phone or VAT id already belongs to a
customer or a prospect, or to an earlier row, are duplicates, and say whose.
"""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from store import FieldIssue, Store
from store.emails import email_key
from store.indexes import normalise_key
from store.model import CUSTOMERS, SOURCES

# Fields whose value names one person or company: a second record with the
# same is a duplicate. A phone counts only in E.164: "0", "n/a" and the like,
# kept as typed, would make strangers duplicates.
DUPLICATE_FIELDS = ("email", "phone", "mobile", "vat_id")
NUMBER_TAKEN = "customer number {} is already used by another customer"


@dataclass
class Verdict:
    status: str
    match: int | None = None
    note: str | None = None
    field: str | None = None  # for an error note: the field it is about (an issue of the row)


def key_values(rows: pl.DataFrame, key: str) -> list[str | None]:
    """The key of each row as the store's indexes normalise it."""
    if key not in rows.columns:
        return [None] * rows.height
    if key == "email":
        emails = rows["email"].to_list()
        return [None if e is None else email_key(e) for e in emails]
    return [normalise_key(key, v) for v in rows[key].to_list()]


class Judge:
    """Statuses, notes and diffs of one plan's rows."""

    def __init__(self, store: Store, *, target: str, mode: str, key: str, country: str | None) -> None:
        self.store = store
        self.target, self.mode, self.key, self.country = target, mode, key, country
        self.table = SOURCES if target == SOURCES else CUSTOMERS

    def as_stored(self, current: dict, cells: dict) -> tuple[dict, list[FieldIssue]]:
        """The stored record with the row's non-empty cells over it, cleaned and judged."""
        merged = {**current, **{f: v for f, v in cells.items() if v not in (None, "")}}
        if self.table == SOURCES:
            return self.store.check_source(merged, self.country)
        return self.store.check_customer(current["kind"], merged, self.country)

    def diff(self, current: dict, cleaned: dict, cells: dict) -> dict[str, tuple[object, object]]:
        """Old → new of the fields the row fills; an empty cell never erases a stored value."""
        changes = {}
        for name, cell in cells.items():
            if cell in (None, ""):
                continue
            new = cleaned.get(name, cell)
            if name == "tags":
                new = list(dict.fromkeys([*(current.get("tags") or []), *(new or [])]))
            if new != current.get(name):
                changes[name] = (current.get(name), new)
        return changes

    def matched(self, found: list[int], is_error: bool) -> Verdict | None:
        """The verdict a key match decides alone, or None when the row may be new or an update."""
        if len(found) > 1:
            return Verdict("error", None, f"{self.key} matches {len(found)} existing records; merge them first or choose another key", self.key)
        if found and self.mode == "create":
            return Verdict("skipped", found[0], f"{self.key} exists already (mode create)")
        if not found and self.mode == "update":
            return Verdict("skipped", None, f"no existing record with this {self.key} (mode update)")
        if is_error:
            return Verdict("error")
        return None

    def holders(self, field: str, values: list[str | None]) -> list[str | None]:
        """Per value, who already holds it in either list: 'customer C-000012', 'prospect #7' or None."""
        out: list[str | None] = [None] * len(values)
        for table in (SOURCES, CUSTOMERS):  # a customer, if any, is the one to name
            for pos, ids in enumerate(self.store.lookup(table, field, values)):
                if ids:
                    out[pos] = f"customer {self.store.customer(ids[0])['number']}" if table == CUSTOMERS else f"prospect #{ids[0]}"
        return out

    def number_holder(self, number: object, skip: int | None) -> str | None:
        """The customer number's holder other than `skip`, when the target is customers."""
        if self.table != CUSTOMERS or not number:
            return None
        held = [i for i in self.store.lookup(CUSTOMERS, "number", [normalise_key("number", number)])[0] if i != skip]
        return self.store.customer(held[0])["number"] if held else None


def duplicate_keys(rows: pl.DataFrame) -> dict[str, list[str | None]]:
    """Per identifying field (mobile folded into phone), each row's value as the indexes hold it."""
    keys: dict[str, list[str | None]] = {}
    for field in DUPLICATE_FIELDS:
        if field not in rows.columns:
            continue
        if field in ("phone", "mobile"):
            values = [v if v is not None and v.startswith("+") else None for v in rows[field].to_list()]
            keys["phone" if field == "phone" else "mobile"] = values
        else:
            keys[field] = key_values(rows, field)
    return keys
