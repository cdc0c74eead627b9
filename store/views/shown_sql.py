"""The customer table's rows as SQL over the stored document, for a server to search, sort
and index them (`served`).

What a row shows is the polars view's (`store.views.records`), so that the server gives the
same rows in the same order for the same query:
- text is compared and sorted by its bytes (`COLLATE "C"`, polars' order), and searched
  lower-cased by Unicode's rules (ICU's root locale, as polars and Python lower-case: the
  Turkish capital İ is i and a combining dot in all three) where the server has ICU;
- a sort runs over (the column, id), reversed whole when descending.
"""
from __future__ import annotations

from store.views.query import CUSTOMER_COLUMNS

# The searched text kept as a column of the customers' table, where the server keeps it (`searched.prepare`).
SEARCHED_COLUMN = "searched"
# Lower-casing by Unicode's rules; a server built without ICU lower-cases by its own locale.
UNICODE_LOWER = 'COLLATE "und-x-icu"'


def _field(name: str) -> str:
    return f"coalesce(doc ->> '{name}', '')"


def _filled(name: str) -> str:
    """The field, None when empty (the polars view's `_text`)."""
    return f"nullif(doc ->> '{name}', '')"


_FIRST, _LAST = _filled("first_name"), _filled("last_name")
# Each shown column as SQL over `doc`; all but the tags immutable, so an index can hold them.
SHOWN: dict[str, str] = {
    "number": _field("number"),
    "name": f"coalesce({_FIRST} || ' ' || {_LAST}, {_FIRST}, {_LAST}, '')",
    "company": _field("company"),
    "kind": _field("kind"),
    "email": _field("email"),
    "phone": f"coalesce({_filled('phone')}, {_filled('mobile')}, '')",
    "city": _field("city"),
    "tags": ("coalesce(array_to_string(ARRAY(SELECT jsonb_array_elements_text(CASE jsonb_typeof(doc -> 'tags') "
             "WHEN 'array' THEN doc -> 'tags' END)), ', '), '')"),
    "active": "coalesce(doc -> 'active' = 'true'::jsonb, false)",
}
assert tuple(SHOWN) == CUSTOMER_COLUMNS
_SEARCHED = " || ' ' || ".join(SHOWN[c] for c in ("number", "name", "company", "email", "phone"))


def haystack(lower: str = UNICODE_LOWER) -> str:
    """The searched text of a row, lower-cased."""
    return f"lower(({_SEARCHED}) {lower})"


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


def sort_key(column: str) -> str:
    """The sorted value of a column: text by its bytes."""
    return SHOWN[column] if column == "active" else f"({SHOWN[column]}) COLLATE \"C\""
