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

# The searched text kept as a column of the customers' table, where the server keeps it (`served.prepare`).
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
    """The searched text of a row, lower-cased: what the trigram index holds."""
    return f"lower(({_SEARCHED}) {lower})"


def sort_key(column: str) -> str:
    """The sorted value of a column: text by its bytes."""
    return SHOWN[column] if column == "active" else f"({SHOWN[column]}) COLLATE \"C\""
