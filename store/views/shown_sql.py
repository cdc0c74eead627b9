"""The rows of the customer table and of the source list as SQL over the stored document,
for a server to search, sort and index them (`served`).

What a row shows is the polars view's (`store.views.records`), so that the server gives the
same rows in the same order for the same query:
- text is compared and sorted by its bytes (`COLLATE "C"`, polars' order), and searched
  lower-cased by Unicode's rules (ICU's root locale, as polars and Python lower-case: the
  Turkish capital İ is i and a combining dot in all three) where the server has ICU;
- a sort runs over (the column, id), reversed whole when descending; a text is sorted by its
  first `SORTED_CHARACTERS` (`store.base.sorting`: a longer index entry could not be written).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from psycopg import sql

from store.base.sorting import SORTED_CHARACTERS
from store.domain.signup import SIGN_UP
from store.model import CUSTOMERS, SOURCES
from store.views.query import CUSTOMER_COLUMNS, CUSTOMER_SORTABLE, SOURCE_COLUMNS, SOURCE_SORTABLE

# The searched text kept as a column of each served table, where the server keeps it (`searched.prepare`).
SEARCHED_COLUMN = "searched"
# Lower-casing by Unicode's rules; a server built without ICU lower-cases by its own locale.
UNICODE_LOWER = 'COLLATE "und-x-icu"'


def _field(name: str) -> str:
    return f"coalesce(doc ->> '{name}', '')"


def _filled(name: str) -> str:
    """The field, None when empty (the polars view's `_text`)."""
    return f"nullif(doc ->> '{name}', '')"


_FIRST, _LAST = _filled("first_name"), _filled("last_name")
_NAME = f"coalesce({_FIRST} || ' ' || {_LAST}, {_FIRST}, {_LAST}, '')"
_PHONE = f"coalesce({_filled('phone')}, {_filled('mobile')}, '')"
# Each shown column as SQL over `doc`; all but the tags immutable, so an index can hold them.
SHOWN: dict[str, str] = {
    "number": _field("number"),
    "name": _NAME,
    "company": _field("company"),
    "kind": _field("kind"),
    "email": _field("email"),
    "phone": _PHONE,
    "city": _field("city"),
    "tags": ("coalesce(array_to_string(ARRAY(SELECT jsonb_array_elements_text(CASE jsonb_typeof(doc -> 'tags') "
             "WHEN 'array' THEN doc -> 'tags' END)), ', '), '')"),
    "active": "coalesce(doc -> 'active' = 'true'::jsonb, false)",
}
assert tuple(SHOWN) == CUSTOMER_COLUMNS


def _origin(name: str) -> str:
    """A field of the prospect's origin as text: a number as JSON writes it without a
    fraction of nothing (polars reads 5.0 as '5')."""
    field = f"(doc -> 'origin' -> '{name}')"
    return (f"(CASE jsonb_typeof({field}) WHEN 'number' THEN trim_scale(({field} #>> '{{}}')::numeric)::text "
            f"ELSE {field} #>> '{{}}' END)")


_PROFILE, _FILE, _SHEET, _ROW = _origin("profile"), _origin("file"), _origin("sheet"), _origin("row")
# Where a prospect came from, as the polars view says it (`records._ORIGIN_TEXT`); joined
# by hand, not by concat_ws: an index holds only what IMMUTABLE functions work out.
_ORIGIN_TEXT = (
    f"(CASE WHEN {_PROFILE} = '{SIGN_UP}' THEN CASE WHEN coalesce({_origin('confirmed_at')}, '') = '' "
    f"THEN 'unconfirmed sign-up' ELSE 'sign-up page' END "
    f"WHEN {_PROFILE} <> '' THEN coalesce({_PROFILE} || ': ' || {_FILE}, '') "
    f"ELSE substr(coalesce(' / ' || nullif({_FILE}, ''), '') || coalesce(' / ' || nullif({_SHEET}, ''), '') || "
    f"coalesce(CASE WHEN {_ROW} NOT IN ('', '0') THEN ' / row ' || {_ROW} END, ''), 4) END)")
SOURCE_SHOWN: dict[str, str] = {
    "name": _NAME,
    "company": _field("company"),
    "email": _field("email"),
    "phone": _PHONE,
    "city": _field("city"),
    "origin": _ORIGIN_TEXT,
    "imported": _field("imported_at"),
}
assert tuple(SOURCE_SHOWN) == SOURCE_COLUMNS


@dataclass(frozen=True)
class ServedTable:
    """A table whose rows a server serves: its shown columns as SQL, those its search reads
    (in the polars view's order), those one may sort by, those of them with an index (a page
    starts where it says; another sort reads the table through), whether a row is active
    (None: every row is), and whether its search is narrowed by a grams index
    (`searched.prepare`; else walked)."""
    name: str
    shown: dict[str, str]
    searched: tuple[str, ...]
    sortable: tuple[str, ...]
    indexed: tuple[str, ...]
    active: str | None
    grams: bool

    def haystack(self, lower: str = UNICODE_LOWER) -> str:
        """The searched text of a row, lower-cased."""
        searched = " || ' ' || ".join(self.shown[c] for c in self.searched)
        return f"lower(({searched}) {lower})"

    def sort_key(self, column: str) -> str:
        """The sorted value of a column: text by its bytes, its first `SORTED_CHARACTERS`."""
        if column == "active":
            return self.shown[column]
        return f"(left({self.shown[column]}, {SORTED_CHARACTERS})) COLLATE \"C\""

    @cached_property
    def columns(self) -> sql.Composable:
        """The shown columns, each named."""
        return sql.SQL(", ").join(sql.SQL("{} AS {}").format(sql.SQL(self.shown[c]), sql.Identifier(c))
                                  for c in self.shown)


CUSTOMER_ROWS = ServedTable(CUSTOMERS, SHOWN, ("number", "name", "company", "email", "phone"), CUSTOMER_SORTABLE,
                            CUSTOMER_SORTABLE, SHOWN["active"], grams=True)
# The source list takes a million rows at once (an import, into this table alone), and each
# index costs that import its upkeep: its search walks it (a grams index made an import of
# 100,000 prospects 2.9 s → 28 s, 8.5 s with GIN's queue of new entries on), and it is sorted
# through an index by name and by when imported only (each of six cost an import of a million
# 4.5 s: 42 s → 68 s; a page of another sort of a million prospects takes 1–5 s).
SOURCE_ROWS = ServedTable(SOURCES, SOURCE_SHOWN, ("name", "company", "email", "phone"), SOURCE_SORTABLE,
                          ("name", "imported"), None, grams=False)
SERVED = {table.name: table for table in (CUSTOMER_ROWS, SOURCE_ROWS)}


# Every run of `GRAM_LETTERS` characters of a text, as the server works them out to index
# the searched text (`searched.prepare`): a row holds a search's text only if it holds each of
# the text's grams. Not pg_trgm's trigrams: those are of each word apart, so text across a
# space or a dash ("b l", "c-01") has none that narrow it. (Names qualified: an index's
# function must not depend on who calls it, by their search_path.)
GRAMS = "custdesk_grams"
GRAM_LETTERS = 3
GRAMS_FUNCTION = (
    f"CREATE FUNCTION {GRAMS}(text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
    f"SELECT ARRAY(SELECT pg_catalog.substr($1, i, {GRAM_LETTERS}) "
    f"FROM pg_catalog.generate_series(1, pg_catalog.length($1) - {GRAM_LETTERS - 1}) AS i) $$")
# A text this long is narrowed by its first grams: a row holding them all is read to be sure.
GRAMS_ASKED = 32


def grams(text: str) -> list[str]:
    """The grams a row's searched text holds when it holds `text` (`GRAMS_FUNCTION`'s, in Python)."""
    return sorted({text[i:i + GRAM_LETTERS] for i in range(len(text) - GRAM_LETTERS + 1)})[:GRAMS_ASKED]

