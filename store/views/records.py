"""Customers and prospects as a polars frame: search, filter and sort at 100k.

The app's tables read their rows from here. A lower-cased haystack of the
searchable fields is built once, so a keystroke is one `str.contains` over
one column; after a change only the touched rows are rebuilt.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from store.base.sorting import SORTED_CHARACTERS, sort_prefix
from store.domain.signup import SIGN_UP
from store.model import CUSTOMERS, SOURCES
from store.store import Store
from store.views.page import PAGE_ROWS, on_server, signature, write_page
from store.views.query import CUSTOMER_COLUMNS, SOURCE_COLUMNS, Query, Row

if TYPE_CHECKING:
    from store.views.shown import TableRows

_SEARCHED = ("number", "name", "company", "email", "phone")


def _text(name: str) -> pl.Expr:
    """A text field with empty values as null (the store leaves empty fields out)."""
    return pl.when(pl.col(name) != "").then(pl.col(name))


def _joined(parts: Sequence[pl.Expr], separator: str) -> pl.Expr:
    return pl.concat_str(parts, separator=separator, ignore_nulls=True).fill_null("")


_PERSON = _joined([_text("first_name"), _text("last_name")], " ").alias("name")
# `model.display_name` over a view's rows: the company, else the person's name, else the email.
SHOWN_NAME = (pl.when(pl.col("company") != "").then(pl.col("company"))
              .when(pl.col("name") != "").then(pl.col("name")).otherwise(pl.col("email")))
_PHONE = pl.coalesce(_text("phone"), _text("mobile")).fill_null("").alias("phone")


def _plain(name: str) -> pl.Expr:
    return pl.col(name).fill_null("")


_ORIGIN = pl.col("origin").struct
_ORIGIN_TEXT = (
    # (a sign-up not yet confirmed from its mail may be somebody else's address: said in the list)
    pl.when(_ORIGIN.field("profile") == SIGN_UP)
    .then(pl.when(_ORIGIN.field("confirmed_at").fill_null("") == "").then(pl.lit("unconfirmed sign-up"))
          .otherwise(pl.lit("sign-up page")))
    .when(_ORIGIN.field("profile") != "")
    .then(pl.format("{}: {}", _ORIGIN.field("profile"), _ORIGIN.field("file")))
    .otherwise(_joined([
        pl.when(_ORIGIN.field(f) != "").then(_ORIGIN.field(f)) for f in ("file", "sheet")
    ] + [pl.when(~_ORIGIN.field("row").is_in(["", "0"])).then(pl.format("row {}", _ORIGIN.field("row")))], " / "))
    .fill_null("")
    .alias("origin")
)

# What each table's rows show, from the fields decoded in `schema.COLUMNS`.
_COLUMNS = {
    CUSTOMERS: [_plain("number"), _PERSON, _plain("company"), _plain("kind"), _plain("email"), _PHONE,
                _plain("city"), pl.col("tags").list.join(", ").fill_null("").alias("tags"),
                pl.col("active").fill_null(False).alias("active")],
    SOURCES: [_PERSON, _plain("company"), _plain("email"), _PHONE, _plain("city"), _ORIGIN_TEXT,
              _plain("imported_at").alias("imported")],  # (ISO: sorts as time; the app shows it in the user's format)
}


def shown_rows(store: Store, table: str, ids: Iterable[int] | None = None) -> pl.DataFrame:
    """The rows of `table` (customers or sources) as the app shows them, of the given
    documents (all when None), decoded in polars."""
    frame = store.frame(table, ids).select("id", *_COLUMNS[table])
    searched = [c for c in _SEARCHED if c in frame.columns]
    return frame.with_columns(pl.concat_str(searched, separator=" ").str.to_lowercase().alias("_haystack"))


def _sorted(frame: pl.DataFrame, column: str) -> pl.Expr:
    """What a sort by `column` compares: a text's first `SORTED_CHARACTERS`, as a server's index holds it."""
    return pl.col(column).str.slice(0, SORTED_CHARACTERS) if frame.schema[column] == pl.String else pl.col(column)


class RecordView:
    """The rows of one table (customers or sources) as the app shows them."""

    def __init__(self, store: Store, table: str = CUSTOMERS) -> None:
        self.store = store
        self.table = table
        self.frame = self._build()

    @property
    def columns(self) -> tuple[str, ...]:
        return CUSTOMER_COLUMNS if self.table == CUSTOMERS else SOURCE_COLUMNS

    def _build(self, ids: Iterable[int] | None = None) -> pl.DataFrame:
        """The shown rows of the given documents (all when None), decoded in polars."""
        return shown_rows(self.store, self.table, ids)

    def refresh(self, ids: Iterable[int] | None = None) -> None:
        """Rebuild the given rows (all when None) from the store."""
        if ids is None:
            self.frame = self._build()
            return
        ids = set(ids)
        if not ids:
            return
        if len(ids) > self.frame.height // 4:
            self.frame = self._build()  # a bulk change: one pass is cheaper
            return
        kept = self.frame.filter(~pl.col("id").is_in(list(ids)))
        self.frame = pl.concat([kept, self._build(ids)]).sort("id")

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
            # Ties in id order (the frame's); descending reverses the whole order, ties too,
            # as a server's index on (value, id) is read backwards (`served`).
            frame = frame.sort(_sorted(frame, query.sort), nulls_last=True, maintain_order=True)
            if query.descending:
                frame = frame.reverse()
        return frame

    def page(self, query: Query, after: Row | None = None, limit: int = PAGE_ROWS) -> list[Row]:
        """The first `limit` rows the query selects, after the row `after` (its sort column's
        value and id), as the server's rows give them (`served.ServerRows.page`)."""
        frame = self.select(query)
        if after is not None:
            later = (pl.col("id") < after["id"]) if query.reversed else (pl.col("id") > after["id"])
            if query.sort:
                value, sorted_ = pl.lit(sort_prefix(after[query.sort])), _sorted(frame, query.sort)
                beyond = (sorted_ < value) if query.reversed else (sorted_ > value)
                later = beyond | ((sorted_ == value) & later)
            frame = frame.filter(later)
        return frame.head(limit).drop("_haystack").rows(named=True)

    def count(self, query: Query, cap: int | None = None) -> int:
        """How many rows the query selects (up to `cap`, as the server counts)."""
        found = self.select(query).height
        return found if cap is None else min(found, cap)


class Views(Mapping[str, RecordView]):
    """The customers' and the source list's views, each built when first asked for: the
    first screen waits for its own table's rows only (the source list's are ~0.1 s at 100k)."""

    def __init__(self, store: Store, tables: Sequence[str] = (CUSTOMERS, SOURCES)) -> None:
        self._store = store
        self._tables = tuple(tables)
        self._built: dict[str, RecordView] = {}
        self._rows: dict[str, TableRows] = {}

    def __getitem__(self, table: str) -> RecordView:
        if table not in self._tables:
            raise KeyError(table)
        if table not in self._built:
            self._built[table] = RecordView(self._store, table)
        return self._built[table]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def rows(self, table: str) -> TableRows:
        """How the app reads `table`'s rows (`shown.rows_of`): from memory, or a server's pages."""
        if table not in self._rows:
            from store.views.shown import rows_of

            self._rows[table] = rows_of(self._store, table, lambda: self[table])
        return self._rows[table]

    def built(self) -> dict[str, RecordView]:
        """The views built so far (those not built yet will read the store as it is then)."""
        return dict(self._built)


def first_rows(view: RecordView, count: int = PAGE_ROWS) -> list[dict[str, Any]]:
    """The view's first rows as the table shows them unsorted and unfiltered (id order)."""
    return view.frame.head(count).drop("_haystack").rows(named=True)


def keep_first_page(store: Store, view: RecordView, *, after: Callable[[], None] | None = None) -> None:
    """Save the customers' first rows beside the store file for the next start's first paint
    (`store.views.page`), when this process holds the store as it is on disk; `after` (closing
    the store, which may fold its log) runs between reading the rows and tagging them with
    the files as closing leaves them. A server's first page is read from the server."""
    if on_server(store.location) or view.table != CUSTOMERS or store.changed_elsewhere():
        if after:
            after()
        return
    rows, counts, pictures = first_rows(view), store.stats(), store.has_pictures()
    if after:
        after()
    write_page(store.location, signature(store.location), store.title, counts, pictures, rows)
