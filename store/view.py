"""Customers and prospects as a polars frame: search, filter and sort at 100k.

The app's tables read their rows from here. A lower-cased haystack of the
searchable fields is built once, so a keystroke is one `str.contains` over
one column; after a change only the touched rows are rebuilt.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import polars as pl

from .model import CUSTOMERS, SOURCES
from .store import Store

CUSTOMER_COLUMNS = ("number", "name", "company", "kind", "email", "phone", "city", "tags", "active")
SOURCE_COLUMNS = ("name", "company", "email", "phone", "city", "origin", "imported")
_SEARCHED = ("number", "name", "company", "email", "phone")


def _person(doc: dict) -> str:
    return " ".join(p for p in (doc.get("first_name"), doc.get("last_name")) if p)


def _origin(doc: dict) -> str:
    origin = doc.get("origin") or {}
    if origin.get("profile"):
        return f"sync {origin['profile']}"
    parts = [origin.get("file"), origin.get("sheet"), f"row {origin['row']}" if origin.get("row") else None]
    return " / ".join(p for p in parts if p)


def _customer_row(doc_id: int, doc: dict) -> dict:
    return {"id": doc_id, "number": doc.get("number") or "", "name": _person(doc), "company": doc.get("company") or "",
            "kind": doc["kind"], "email": doc.get("email") or "", "phone": doc.get("phone") or doc.get("mobile") or "",
            "city": doc.get("city") or "", "tags": ", ".join(doc.get("tags") or []), "active": bool(doc.get("active"))}


def _source_row(doc_id: int, doc: dict) -> dict:
    return {"id": doc_id, "name": _person(doc), "company": doc.get("company") or "", "email": doc.get("email") or "",
            "phone": doc.get("phone") or doc.get("mobile") or "", "city": doc.get("city") or "",
            "origin": _origin(doc), "imported": (doc.get("imported_at") or "")[:16].replace("T", " ")}


_SCHEMAS = {
    CUSTOMERS: {"id": pl.Int64, **{c: pl.String for c in CUSTOMER_COLUMNS if c != "active"}, "active": pl.Boolean},
    SOURCES: {"id": pl.Int64, **{c: pl.String for c in SOURCE_COLUMNS}},
}
_ROW = {CUSTOMERS: _customer_row, SOURCES: _source_row}


@dataclass
class Query:
    text: str = ""
    kind: str | None = None  # corporate / private
    active: bool | None = None
    tag: str | None = None
    sort: str | None = None
    descending: bool = False


class RecordView:
    """The rows of one table (customers or sources) as the app shows them."""

    def __init__(self, store: Store, table: str = CUSTOMERS) -> None:
        self.store = store
        self.table = table
        self.frame = self._build(self.store.db.tables[table].items())

    @property
    def columns(self) -> tuple[str, ...]:
        return CUSTOMER_COLUMNS if self.table == CUSTOMERS else SOURCE_COLUMNS

    def _build(self, items: Iterable[tuple[int, dict]]) -> pl.DataFrame:
        make = _ROW[self.table]
        frame = pl.DataFrame([make(i, d) for i, d in items], schema=_SCHEMAS[self.table])
        searched = [c for c in _SEARCHED if c in frame.columns]
        return frame.with_columns(pl.concat_str(searched, separator=" ").str.to_lowercase().alias("_haystack"))

    def refresh(self, ids: Iterable[int] | None = None) -> None:
        """Rebuild the given rows (all when None) from the store."""
        rows = self.store.db.tables[self.table]
        if ids is None:
            self.frame = self._build(rows.items())
            return
        ids = set(ids)
        if not ids:
            return
        if len(ids) > self.frame.height // 4:
            self.frame = self._build(rows.items())  # a bulk change: one pass is cheaper
            return
        kept = self.frame.filter(~pl.col("id").is_in(list(ids)))
        fresh = self._build((i, rows[i]) for i in sorted(ids) if i in rows)
        self.frame = pl.concat([kept, fresh]).sort("id")

    def tags(self) -> list[str]:
        if self.table != CUSTOMERS or self.frame.height == 0:
            return []
        return sorted(set(self.frame["tags"].str.split(", ").explode().drop_nulls().to_list()) - {""})

    def select(self, query: Query) -> pl.DataFrame:
        """The rows matching the query, in its order."""
        frame = self.frame
        conditions = []
        if query.text.strip():
            conditions.append(pl.col("_haystack").str.contains(query.text.strip().lower(), literal=True))
        if query.kind and "kind" in frame.columns:
            conditions.append(pl.col("kind") == query.kind)
        if query.active is not None and "active" in frame.columns:
            conditions.append(pl.col("active") == query.active)
        if query.tag and "tags" in frame.columns:
            conditions.append(pl.col("tags").str.split(", ").list.contains(query.tag))
        if conditions:
            frame = frame.filter(pl.all_horizontal(conditions))
        if query.sort:
            frame = frame.sort(query.sort, descending=query.descending, nulls_last=True, maintain_order=True)
        return frame
