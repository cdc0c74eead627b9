"""The customer table's rows read from a PostgreSQL server a page at a time: the server
searches, filters, sorts and counts, and the session holds only the page it shows; the
same rows in the same order as the polars view's (`store.views.records`) for the same
query (`shown_sql` says how).

The next page starts after the last row's (sort value, id): keyset pagination, which
reads from the index where the page starts, never the rows before it (OFFSET would).

A search is read one of two ways, and the planner cannot tell which is quicker (it does
not know how many rows a `LIKE '%…%'` matches):
- walking the order's index and keeping the rows that match, quick when many do (a page
  of "m" is found in the first few hundred rows);
- finding every match through the trigram index, then ordering them, quick when few do
  (a name) and the only quick way then: the walk would read the whole table past rows
  that do not match.
So a search walks for `WALK_SECONDS` at most, and reads through the trigram index when
the walk has not filled its page by then (remembering it for the next page). Text
shorter than a trigram (one or two letters) is only walked: the trigram index cannot
narrow it, and reading all of it to find that out is the slowest way of all. A count
walks, then asks the planner, each for `COUNT_SECONDS`: one that neither ends in time
is not known (None).

`prepare` makes this fast at millions of customers: the searched text kept as a column
(walked five times faster than worked out from each document), a trigram index over it,
a btree per sortable column (a page starts where the index says, whatever the sort), a
GIN index over the tags. A server without them, or without pg_trgm or ICU, answers every
query all the same, more slowly. They are not made with a store yet: they cost a 100k
import on the server 2.5 times its time (2.8 → 7.0 s, most of it the trigram index), and
the app reads only its first page from the server so far (`store.views.page`). The bench
(`bench/pg_scale.py`) and the tests make them.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from psycopg import sql

from store.model import CUSTOMERS
from store.views.query import Query
from store.views.shown_sql import SEARCHED, SHOWN, SORTABLE, UNICODE_LOWER, haystack, sort_key

Row = dict[str, Any]
# The connection the rows are read on, for one query at a time.
Connection = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]
# Counts stop here: counting every match of a one-letter search would read the whole table.
COUNT_CAP = 10_000
# How long a search walks the order's index before it reads through the trigram index.
WALK_SECONDS = 0.03
# How long each way of counting a search's rows may take.
COUNT_SECONDS = 0.05
TRIGRAM = 3  # letters: shorter text has no trigram to look up


class ServerRows:
    """The customer table's rows on a server: pages by keyset, counts up to `COUNT_CAP`."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._searched: str | None = None  # (the searched text's SQL here: asked with the first search)
        self._few: set[tuple[Any, ...]] = set()  # (the searches whose walk ran out of time: few match)

    def page(self, query: Query, after: Row | None = None, limit: int = 120) -> list[Row]:
        """The first `limit` rows the query selects, in its order, after the row `after`
        (one this gave: its sort column's value and its id), else from the first."""
        order = [sql.SQL(sort_key(query.sort)), sql.SQL("id")] if query.sort else [sql.SQL("id")]
        with self._connection() as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            where, params = self._where(query, conn)
            keyset: list[sql.Composable] = []
            if after is not None:
                # (a row comparison: the index on (value, id) starts the page where it is)
                mark = [sql.Placeholder("after_value"), sql.Placeholder("after_id")][-len(order):]
                keyset.append(sql.SQL("({}) {} ({})").format(sql.SQL(", ").join(order),
                                                             sql.SQL("<" if query.reversed else ">"),
                                                             sql.SQL(", ").join(mark)))
                params.update(after_id=after["id"], after_value=after[query.sort] if query.sort else None)
            direction = sql.SQL(" DESC" if query.reversed else "")

            def select(rows: sql.Composable, conditions: list[sql.Composable]) -> sql.Composed:
                return sql.SQL("SELECT id, {} FROM {} WHERE {} ORDER BY {} LIMIT {}").format(
                    sql.SQL(", ").join(sql.SQL("{} AS {}").format(sql.SQL(SHOWN[c]), sql.Identifier(c)) for c in SHOWN),
                    rows, sql.SQL(" AND ").join(conditions),
                    sql.SQL(", ").join(sql.SQL("{}{}").format(part, direction) for part in order), sql.Literal(limit))

            walk = select(sql.Identifier(CUSTOMERS), where + keyset)
            if "needle" not in params:
                return _read(conn, cur, walk, params) or []
            if _searched(query) not in self._few:
                found = _read(conn, cur, walk, params, walk=True, seconds=WALK_SECONDS if _trigrams(query) else None)
                if found is not None:
                    return found
                self._few.add(_searched(query))
            matches = sql.SQL("(SELECT * FROM {} WHERE {} OFFSET 0) AS found").format(  # (OFFSET 0: found first)
                sql.Identifier(CUSTOMERS), sql.SQL(" AND ").join(where))
            return _read(conn, cur, select(matches, keyset or [sql.SQL("true")]), params) or []

    def count(self, query: Query, cap: int = COUNT_CAP) -> int | None:
        """How many rows the query selects, counted up to `cap` (then `cap`); for a search,
        None when neither way of reading it counts it in `COUNT_SECONDS` (many rows match a
        search no index narrows: a long walk, a large bitmap)."""
        with self._connection() as conn, conn.cursor() as cur:
            where, params = self._where(query, conn)
            statement = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} WHERE {} LIMIT {}) AS found").format(
                sql.Identifier(CUSTOMERS), sql.SQL(" AND ").join(where), sql.Literal(cap))
            if "needle" not in params:
                counted = _read(conn, cur, statement, params)
            elif _searched(query) in self._few:
                counted = _read(conn, cur, statement, params, seconds=COUNT_SECONDS)
            else:
                counted = _read(conn, cur, statement, params, walk=True, seconds=COUNT_SECONDS)
                if counted is None and _trigrams(query):
                    counted = _read(conn, cur, statement, params, seconds=COUNT_SECONDS)
        return None if counted is None else int(counted[0][0])

    def _where(self, query: Query, conn: psycopg.Connection[Any]) -> tuple[list[sql.Composable], dict[str, Any]]:
        """The query's conditions, written as the indexes are (`shown_sql`), and their values."""
        where: list[sql.Composable] = [sql.SQL("doc IS NOT NULL")]
        params: dict[str, Any] = {}
        needle = query.text.strip().lower()
        if needle:
            if self._searched is None:
                self._searched = searched_text(conn)
            where.append(sql.SQL(self._searched + " LIKE %(needle)s"))
            params["needle"] = f"%{like_escaped(needle)}%"
        if query.kind:
            where.append(sql.SQL(SHOWN["kind"] + " = %(kind)s"))
            params["kind"] = query.kind
        if query.active is not None:
            where.append(sql.SQL(SHOWN["active"] + " = %(active)s"))
            params["active"] = query.active
        if query.tag:
            # (a tag holds no comma, `clean_tags`: the polars view's split of the joined tags finds the same)
            where.append(sql.SQL("doc -> 'tags' ? %(tag)s"))
            params["tag"] = query.tag
        if any("\x00" in value for value in params.values() if isinstance(value, str)):
            # No stored text holds NUL (the server refuses it), and no statement may carry one.
            return [sql.SQL("false")], {}
        return where, params


def lower_clause(conn: psycopg.Connection[Any]) -> str:
    """How this server lower-cases the searched text: by Unicode's rules where it has ICU."""
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu')").fetchone()
    return UNICODE_LOWER if row and row[0] else ""


def trigram_ops(conn: psycopg.Connection[Any]) -> str | None:
    """pg_trgm's operator class for GIN, qualified by the schema it is in, installing it
    when missing and allowed (a trusted extension: the database's owner may); None when not."""
    found = conn.execute("SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n "
                         "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'").fetchone()
    if found is None:
        try:
            with conn.transaction():  # (a savepoint inside the caller's transaction)
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except psycopg.Error:  # (refused: no privilege; not installed on the server)
            return None
        return trigram_ops(conn)
    return f"{found[0]}.gin_trgm_ops"


def searched_text(conn: psycopg.Connection[Any]) -> str:
    """The searched text of a row: its column where the server keeps one (`prepare`), else
    worked out from the document for each row read (five times slower to walk)."""
    kept = conn.execute("SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = "
                        "current_schema() AND table_name = %s AND column_name = %s)", (CUSTOMERS, SEARCHED)).fetchone()
    return SEARCHED if kept and kept[0] else haystack(lower_clause(conn))


def prepare(conn: psycopg.Connection[Any]) -> list[str]:
    """The statements that make what the server reads the customers' pages through, as this
    server can, leaving out what it has: the searched text kept as a column of its own
    (computed by the server with each write) and, where pg_trgm can be installed, its
    trigram index; a btree per sortable column; a GIN index over the tags."""
    made = [(f"{CUSTOMERS}_by_{column}", f"(({sort_key(column)}), id) WHERE doc IS NOT NULL") for column in SORTABLE]
    made.append((f"{CUSTOMERS}_tags", "USING gin ((doc -> 'tags')) WHERE doc IS NOT NULL"))
    ops = trigram_ops(conn)
    if ops:
        made.append((f"{CUSTOMERS}_search", f"USING gin ({SEARCHED} {ops}) WHERE doc IS NOT NULL"))
    present = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}
    column = [] if searched_text(conn) == SEARCHED else [
        f"ALTER TABLE {CUSTOMERS} ADD COLUMN {SEARCHED} text GENERATED ALWAYS AS ({haystack(lower_clause(conn))}) STORED"]
    return column + [f'CREATE INDEX "{name}" ON {CUSTOMERS} {definition}' for name, definition in made
                     if name not in present]


def _read(conn: psycopg.Connection[Any], cur: psycopg.Cursor[Any], statement: sql.Composed, params: dict[str, Any],
          *, walk: bool = False, seconds: float | None = None) -> list[Any] | None:
    """The statement's rows, planned for a screen's page: nothing compiled (JIT costs tens of
    milliseconds, more than the page) and no parallel workers started. `walk`: read by
    walking an index in order, never through the trigram index nor by reading the table
    whole to sort it (which the planner, not knowing how many rows match, may think
    quicker). None when that took longer than `seconds`."""
    settings = ["jit", "max_parallel_workers_per_gather"] + (["enable_bitmapscan", "enable_seqscan", "enable_sort"]
                                                              if walk else [])
    try:
        with conn.transaction():
            for setting in settings:
                cur.execute(sql.SQL("SET LOCAL {} = 0").format(sql.Identifier(setting)))
            if seconds is not None:
                cur.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(
                    sql.Literal(f"{max(1, round(seconds * 1000))}ms")))
            return list(cur.execute(statement, params))
    except psycopg.errors.QueryCanceled:
        if seconds is None:
            raise
        return None


def _searched(query: Query) -> tuple[Any, ...]:
    """What decides how many rows a search matches (not the sort)."""
    return query.text.strip().lower(), query.kind, query.active, query.tag


def _trigrams(query: Query) -> bool:
    """Whether the search is long enough for the trigram index to narrow."""
    return len(query.text.strip()) >= TRIGRAM


def like_escaped(text: str) -> str:
    """`text` matched literally by LIKE (its default escape, the backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
