"""The rows of the customer table or the source list read from a PostgreSQL server a page at
a time: the server searches, filters, sorts and counts, and the session holds only the page
it shows; the same rows in the same order as the polars view's (`store.views.records`) for
the same query (`shown_sql` says how).

The next page starts after the last row's (sort value, id): keyset pagination, which
reads from the index where the page starts, never the rows before it (OFFSET would).

A search is read one of three ways, and the planner cannot tell which is quicker (it does
not know how many rows a `LIKE '%…%'` matches):
- walking the order's index and keeping the rows that match, quick when many do (a page
  of "m" is found in the first few hundred rows);
- finding every match through the grams index (every three characters of the searched
  text, `shown_sql.GRAMS`), then ordering them, quick when few do (a name, "b l") and
  the only quick way then: the walk would read the whole table past rows that do not match;
- in id order, through the grams index between bounds (`_bounded_page`: any page of
  matches the index reaches first bounds the page), quick however many match where the
  table's order is much the id's (rows written once, or long ago), as the first matches
  reached then bound the page closely: "ehl" (22,000 spread over 10M) in 17 ms where
  ordering them all took 150 ms, customer numbers C-01… (a million of them after a
  million that do not match) in 0.15 s, too many for the index to order in time and too
  far for a short walk. Where rows of high ids were written early in the table, the bound
  is loose, and up to every match is read twice. A page of matches found first through
  the sort indexes, where the text starts a value (`_probe`), bounds it instead where its
  ids are gathered in one stretch: customer numbers C-01… are read in 0.08 s, where the
  bitmap of the first bound took 0.05 s more; C-09… in 0.25 s, where a bound loosened by
  rows written anew early in the table had every match read (1.4 s). The rows between
  such a probe's least id and its greatest are the page unless a match lies before them:
  read by walking those few ids (`_between`), they are given early (the app shows them),
  then the page is read as ever to make sure (C-01…: shown after 9-11 ms, made sure of
  after 0.14 s on a slower machine; C-09…, 0.38 s; C-012…, where the probe follows a
  walk of 50,000 rows, 18 ms, then 0.12 s through the index).
So a search walks for `WALK_SECONDS` at most (where the server has statistics of the
grams index, and the query no filter, for `WALK_SLACK` times the rows that should hold a
page of its matches instead: a walk stopped by the clock on a busy server stops early, its
reading wasted), and reads through the grams index when the walk has not filled its page
(remembering it for the next page): every match, ordered, for `INDEX_SECONDS` at most
(`READ_WHOLE_SECONDS` where the statistics say it ends, `READ_WHOLE`); in id order,
then, or at once where the statistics say it is quicker (`_bounds_first`), between
bounds, for `BOUNDED_SECONDS` at most (customer numbers C-09…, nine million along:
1.0-2.1 s, walked 6 s). A page no way gave in time is walked to the end. Where the server's statistics of
the grams index say at most `FEW_MATCHES` rows hold the text (as many as hold its rarest
gram: ANALYZE keeps the share of the 10,000 most held grams, and every other is rarer than
the least of those), it is read through the index at once. Grams most rows hold are left
out of the read where the text has rarer ones (`COMMON_GRAM`). Text shorter than a gram
(one or two letters), and any search of a table without a grams index, is only walked:
no index narrows it, and reading all of it to find that out is the slowest way of all. A count walks, then asks the planner, each
for `COUNT_SECONDS`: one that neither ends in time is not known (None); a way that cannot
end in time is not tried (a walk whose page's pace shows it, an index read of more than
`READ_WHOLE`: at 10M a capped count of 22,000 took 20 ms, of 358,000 110 ms). A search
whose matches were all ordered through the grams index is counted by its page (every
match was found before the page was ordered), one read between bounds only where its
first page holds them all.

What a search is read by (the searched text, the grams index and its statistics), and
what the server is given to read it fast (`prepare`), is `store.views.searched`'s.
"""
from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from psycopg import sql

from store.base.sorting import sort_prefix
from store.engine import counts_trusted, storable_in
from store.model import LATER_COUNTS, META, META_ID, TAG_COUNTS
from store.views.counts import filtered_count
from store.views.query import Interrupted, Query, Row
from store.views.searched import FEW_MATCHES, Searched
from store.views.shown_sql import CUSTOMER_ROWS, GRAM_LETTERS, ServedTable

# The connection the rows are read on, for one query at a time.
Connection = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]
# `_read` on a connection, stopped once a newer read made it moot (`ServerRows._reading`).
Reader = Callable[..., list[Any] | None]
# Counts stop here: counting every match of a one-letter search would read the whole table.
COUNT_CAP = 10_000
# How long a search walks the order's index before it reads through the grams index, where
# the server has no statistics of it; with them, it walks `WALK_SLACK` times the rows that
# hold a page of its matches on average (`_walk_of`), `WALKED_MOST` at most (its matches may
# be gathered further along the order: first names sorted by name; then the index reads them).
WALK_SECONDS = 0.03
WALK_SLACK = 3
WALKED_MOST = 50_000
# How long a search reads every match through the grams index, ordered, before another way,
# unless the statistics say at most `READ_WHOLE` rows hold its text: that read is given longer
# (on a busy server it may take longer, and the walk to the end would take longer still).
INDEX_SECONDS = 0.15
READ_WHOLE = 100_000
READ_WHOLE_SECONDS = 2.0
# How long a page in id order is read through the grams index between bounds (`_bounded_page`)
# before it is walked to the end: customer numbers C-09… (a million after nine million that do
# not match) took 1.0-2.1 s, walked 6 s; a loose bound (rows of high ids written early in the
# table) may make it slower than the walk.
BOUNDED_SECONDS = 5.0
# That read builds the
# bitmap of the grams a search is narrowed by twice: it comes first (`_bounds_first`) where
# they are held by this many rows at most (at 10M: 22,000 spread matches of "ehl" in 17 ms,
# ordered all in 150 ms; those of "c-012", whose grams are held a million times, in 150 ms,
# ordered all in 75 ms) …
BOUNDED_POSTINGS = 300_000
# … or where its one gram is held by more rows than are ordered in `INDEX_SECONDS`, about
# ("c-01": a million; "c-012", 100,000 gathered in few pages: 75 ms).
ORDERED_IN_TIME = 200_000
# How long the probe for a bound of a page in id order may take (`_probe`: a page of matches that start
# a field's value, read through the sort indexes) before the grams index gives the bound.
PROBE_SECONDS = 0.03
# A probe's page of matches whose ids span at most this many times the page is gathered in
# one stretch of ids (`_gathered`).
GATHERED = 10
# How long what the server's statistics say of the searched text is kept before it is asked
# again (the table grows: an import, another session's).
SEARCHED_SECONDS = 60.0
# How long each way of counting a search's rows may take.
COUNT_SECONDS = 0.05
# A read given seconds that ends before this share of them was cancelled, not out of time.
IN_TIME = 0.8
# How long the ids of a search the statistics say more than the cap may match are read
# through the grams index before the order's index is walked instead (`ServerRows.ids`).
IDS_BY_GRAMS_SECONDS = 0.5
# How long listing the tags (for the tag filter's prompt) may take.
TAGS_SECONDS = 0.3


class _StrayCancel(Exception):
    """A read cancelled by a cancel meant for an older one (`ServerRows._attempt`): read again."""


class ServerRows:
    """A served table's rows on a server (the customers', unless told): pages by keyset,
    counts up to `COUNT_CAP`."""

    def __init__(self, connection: Connection, interrupt: Callable[[], None] | None = None,
                 table: ServedTable = CUSTOMER_ROWS) -> None:
        self._connection = connection
        self._table = table
        self._interrupt = interrupt
        self._generation = 0  # (bumped by `interrupt`: a read started before it stops)
        self._running: int | None = None  # (the generation of the read on the connection now)
        self._searched: Searched | None = None  # (asked with the first search, again after SEARCHED_SECONDS)
        self._searched_at = 0.0
        self._walks_too_long: set[tuple[Any, ...]] = set()  # (searches whose walk ran out of time: read by index)
        # Seconds a search's walk took per matching row, when it filled a page: a count that
        # walking would not finish in time is not tried that way (100 ms of the server's for nothing).
        self._walk_pace: dict[tuple[Any, ...], float] = {}

    def forget_searched(self) -> None:
        """Ask again how the searched text is read (`prepare` may have made its column since)."""
        self._searched = None

    def interrupt(self) -> None:
        """Make the reads under way moot (cheap: call it where the newer query is asked for):
        each stops at its next statement (Interrupted), and `stop_older` cancels the one
        running now. Reads started after go on."""
        self._generation += 1

    def stop_older(self) -> None:
        """Cancel on the server the statement a read made moot by `interrupt` runs now: call it
        from the thread about to read (the cancel waits on the server)."""
        running = self._running
        if self._interrupt is not None and running is not None and running < self._generation:
            self._interrupt()

    @contextlib.contextmanager
    def _reading(self) -> Iterator[tuple[psycopg.Connection[Any], Reader]]:
        """The connection, and `_read` stopped by an `interrupt` from now on."""
        generation = self._generation

        def read(*args: Any, **kwargs: Any) -> list[Any] | None:
            try:
                return self._attempt(generation, args, kwargs, last=False)
            except _StrayCancel:
                return self._attempt(generation, args, kwargs, last=True)

        with self._connection() as conn:
            self._running = generation
            try:
                yield conn, read
            finally:
                self._running = None

    def _attempt(self, generation: int, args: tuple[Any, ...], kwargs: dict[str, Any], *, last: bool) -> list[Any] | None:
        """`_read(*args, **kwargs)`, stopped by Interrupted once a newer read made it moot. A
        cancel in its own generation was meant for an older read: the server cancels what the
        connection runs when the request lands, which may be this statement already (the
        older one ended just then). It is _StrayCancel unless `last`."""
        if generation != self._generation:
            raise Interrupted
        try:
            found = _read(*args, **kwargs)
        except psycopg.errors.QueryCanceled:
            if generation != self._generation:
                raise Interrupted from None
            if last:
                raise
            raise _StrayCancel from None
        if found is None and generation != self._generation:
            raise Interrupted  # (moot, whatever stopped it)
        return found

    @classmethod
    def on(cls, conn: psycopg.Connection[Any], table: ServedTable = CUSTOMER_ROWS) -> ServerRows:
        """The rows read on this one connection, which the caller holds and closes."""
        return cls(lambda: contextlib.nullcontext(conn), table=table)

    def page(self, query: Query, after: Row | None = None, limit: int = 120) -> list[Row]:
        """The first `limit` rows the query selects, in its order, after the row `after`
        (one this gave: its sort column's value and its id), else from the first."""
        return self.counted_page(query, after, limit)[0]

    def counted_page(self, query: Query, after: Row | None = None, limit: int = 120,
                     early: Callable[[list[Row]], None] | None = None) -> tuple[list[Row], int | None]:
        """`page`, and how many rows (after `after`) the query selects when reading the page
        told it: a search read through the grams index finds every match before ordering
        them, so their number comes free (a count of its own would read them all again).
        `early` is given the page first where a probe found it cheaply (`_between`), before
        the read that makes sure no match lies before it: the page then, unless that found one."""
        with self._reading() as (conn, read), conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            where, narrowed, params = self._where(query, conn)
            table = self._table
            keyset = _keyset(table, query, after, params)
            walk = _select(table, query, sql.Identifier(table.name), where + keyset, limit)
            if "needle" not in params:
                return read(conn, cur, walk, params) or [], None
            expected = self._expected(query, narrowed)
            many = expected is None or expected > FEW_MATCHES
            if _matching(query) not in self._walks_too_long and many:
                found = self._walked(read, conn, cur, query, walk, (where, narrowed, keyset), params, limit, expected)
                if found is not None:
                    return found, None
            in_id_order = bool(narrowed) and not query.sort
            bounds_first = in_id_order and expected is not None and many and self._bounds_first(query)
            # (a probe's page is given early however the page is then read: through the index, or between bounds)
            probed = in_id_order and (bounds_first or (many and early is not None))
            gathered = self._probed(read, conn, cur, query, where + keyset, params, limit, early) if probed else None
            if not bounds_first:
                found = read(conn, cur, _found_page(table, query, where + narrowed + keyset, limit), params,
                             narrowed=bool(narrowed),
                             seconds=READ_WHOLE_SECONDS if expected is not None and expected <= READ_WHOLE else INDEX_SECONDS)
                if found is not None:
                    return [_without_count(row) for row in found], found[0][_MATCHES] if found else 0
            if in_id_order:
                if not probed:
                    gathered = self._probed(read, conn, cur, query, where + keyset, params, limit, None)
                found = self._page_in_id_order(read, conn, cur, query, where + narrowed + keyset, params, limit, gathered)
                if found is not None:
                    return found, len(found) if len(found) < limit else None  # (fewer than a page: every match)
            return read(conn, cur, walk, params, walk=True) or [], None

    def _walked(self, read: Reader, conn: psycopg.Connection[Any], cur: psycopg.Cursor[Any], query: Query,
                walk: sql.Composed, conditions: tuple[list[sql.Composable], list[sql.Composable], list[sql.Composable]],
                params: dict[str, Any], limit: int, expected: float | None) -> list[Row] | None:
        """The page walked to along the query's order (`walk`, the page's statement;
        `conditions`: the query's, the grams index's, the keyset's), for `WALK_SECONDS` or the
        rows the statistics say should hold it (`_walk_of`); None where it was not found so
        (remembered: the search is read through the grams index from now on)."""
        table = self._table
        where, narrowed, keyset = conditions
        started = time.perf_counter()
        if expected is None or _filtered(query):  # (the statistics tell where the text is, not the filters')
            # (walked to the end where no grams index narrows it: one or two letters, the
            # source list's search; reading every row unnarrowed first would be wasted)
            found = read(conn, cur, walk, params, walk=True, seconds=WALK_SECONDS if narrowed else None)
        else:  # (not a page in the rows walked: the matches are not where the statistics say)
            found = read(conn, cur, _walk_of(table, query, where, keyset, limit, self._rows_to_walk(expected, limit)),
                         params, walk=True)
            found = found if found is not None and len(found) == limit else None
        if found is None:
            self._walks_too_long.add(_matching(query))
        elif len(found) == limit:
            self._walk_pace[_matching(query)] = (time.perf_counter() - started) / limit
        return found

    def _probed(self, read: Reader, conn: psycopg.Connection[Any], cur: psycopg.Cursor[Any], query: Query,
                conditions: list[sql.Composable], params: dict[str, Any], limit: int,
                early: Callable[[list[Row]], None] | None) -> Row | None:
        """The probe's page of matches that start a value (`_probe`; `conditions`: the query's
        and the keyset's) where it is gathered (`_gathered`: its greatest id then bounds the
        page closely), its rows between its bounds given `early` (`_between`); else None."""
        table = self._table
        probe, starts = _probe(table, query, conditions, limit, storable_in(conn))
        probed = read(conn, cur, probe, {**params, **starts}, seconds=PROBE_SECONDS) if starts else None
        gathered: Row | None = probed[0] if probed and _gathered(probed[0], limit) else None
        if gathered is not None and early is not None:
            between = read(conn, cur, _between(table, query, conditions, limit, gathered["least"], gathered["bound"]),
                           params, walk=True, seconds=PROBE_SECONDS)
            if between is not None and len(between) == limit:  # (fewer: a probed row changed since)
                early(between)
        return gathered

    def _page_in_id_order(self, read: Reader, conn: psycopg.Connection[Any], cur: psycopg.Cursor[Any], query: Query,
                          conditions: list[sql.Composable], params: dict[str, Any], limit: int,
                          gathered: Row | None) -> list[Row] | None:
        """The page in id order read through the grams index between bounds (`conditions`:
        the query's, the grams index's, the keyset's): up to the greatest id of a probe's
        `gathered` page, else up to that of the first matches the index reaches
        (`_bounded_page`); None: not in time."""
        table = self._table
        found = None if gathered is None else read(conn, cur, _page_up_to(table, query, conditions, limit, gathered["bound"]),
                                                   params, narrowed=True, seconds=BOUNDED_SECONDS)
        if gathered is None or (found is not None and len(found) < limit):  # (fewer: a probed row changed since)
            found = read(conn, cur, _bounded_page(table, query, conditions, limit), params, narrowed=True,
                         seconds=BOUNDED_SECONDS)
        return found

    def count(self, query: Query, cap: int = COUNT_CAP) -> int | None:
        """How many rows the query selects, counted up to `cap` (then `cap`); for a search,
        None when neither way of reading it counts it in `COUNT_SECONDS` (many rows match a
        search no index narrows: a long walk, a large bitmap)."""
        with self._reading() as (conn, read), conn.cursor() as cur:
            where, narrowed, params = self._where(query, conn)

            def counting(conditions: list[sql.Composable]) -> sql.Composed:
                return sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} WHERE {} LIMIT {}) AS found").format(
                    sql.Identifier(self._table.name), sql.SQL(" AND ").join(conditions), sql.Literal(cap))

            expected = self._expected(query, narrowed)

            def planned() -> list[Any] | None:
                if (expected or 0.0) > READ_WHOLE and not _filtered(query):
                    return None  # (not in time: no use asking)
                return read(conn, cur, counting(where + narrowed), params, seconds=COUNT_SECONDS,
                            narrowed=bool(narrowed))

            if "needle" not in params:
                counted = read(conn, cur, counting(where), params)
            elif expected is not None and expected <= FEW_MATCHES:
                counted = planned()
            elif (_matching(query) in self._walks_too_long
                  or self._walk_pace.get(_matching(query), 0.0) * cap > COUNT_SECONDS):
                counted = planned() if _narrowable(query) else None  # (no index narrows one or two letters)
            else:
                counted = read(conn, cur, counting(where), params, walk=True, seconds=COUNT_SECONDS)
                if counted is None and _narrowable(query):
                    counted = planned()
        return None if counted is None else int(counted[0][0])

    def tallied(self, query: Query) -> int | None:
        """How many rows a query without text selects, exactly, from the counts the store keeps
        with every commit (`filtered_count`, of the table's counts in the store's meta
        document): no row is read, where a count of a filter would read up to every row
        (`COUNT_CAP`: a million inactive customers showed as "10,000+"). None where those
        counts do not tell (`filtered_count`: a tag with another filter), or the store keeps none."""
        if query.text.strip():
            return None
        tally = self._tally()
        return None if tally is None else filtered_count(tally, *self._filters(query))

    def _tally(self) -> dict[str, Any] | None:
        """The table's counts in the store's meta document (None: none kept), but those an
        older custdesk wrote the store since without (`LATER_COUNTS`: `counts_trusted`)."""
        with self._reading() as (conn, read), conn.cursor() as cur:
            found = read(conn, cur, sql.SQL("SELECT doc FROM {} WHERE id = {}").format(
                sql.Identifier(META), sql.Literal(META_ID)), {})
        meta = found[0][0] if found else {}
        tally = (meta.get("tallies") or {}).get(self._table.name)
        if not isinstance(tally, dict):
            return None
        return tally if counts_trusted(meta) else {name: counts for name, counts in tally.items() if name not in LATER_COUNTS}

    def ids(self, query: Query, cap: int) -> list[int] | None:
        """The ids of every row the query selects, in its order; None when more than `cap` do.
        A search the grams index narrows is read through it (where the statistics say more
        than `cap` rows may hold its text, for `IDS_BY_GRAMS_SECONDS` at most), else the
        order's index is walked until `cap` match: walked, a search of ten million customers
        for "müller" (11,134) took 4 s, the app's `*` and `x` waiting on it."""
        with self._connection() as conn, conn.cursor() as cur:
            where, narrowed, params = self._where(query, conn)

            def selected(conditions: list[sql.Composable]) -> sql.Composed:
                return sql.SQL("SELECT id FROM {} WHERE {} ORDER BY {} LIMIT {}").format(
                    sql.Identifier(self._table.name), sql.SQL(" AND ").join(conditions), _order(self._table, query),
                    sql.Literal(cap + 1))

            expected = self._expected(query, narrowed)
            rows = _read(conn, cur, selected(where + narrowed), params, narrowed=True,
                         seconds=None if expected is None or expected <= cap else IDS_BY_GRAMS_SECONDS) if narrowed else None
            if rows is None:
                rows = _read(conn, cur, selected(where), params) or []
        return None if len(rows) > cap else [int(row[0]) for row in rows]

    def held(self, ids: Collection[int]) -> dict[int, bool]:
        """Of these rows, those that still exist, each with whether it is active."""
        with self._connection() as conn:
            rows = conn.execute(sql.SQL("SELECT id, {} FROM {} WHERE id = ANY(%s) AND doc IS NOT NULL").format(
                sql.SQL(self._table.active or "true"), sql.Identifier(self._table.name)), (list(ids),)).fetchall()
        return {int(row[0]): bool(row[1]) for row in rows}

    def tags(self, seconds: float = TAGS_SECONDS) -> list[str] | None:
        """The tags the rows carry (a table without tags: none), from the store's counts; kept
        before those counted tags, None when the server cannot list them in `seconds` (the GIN
        index over the tags cannot list them: every document is read)."""
        if "tags" not in self._table.shown:
            return []
        counted = (self._tally() or {}).get(TAG_COUNTS)
        if isinstance(counted, dict):  # (kept with every commit: ten million customers' tags are not read)
            return sorted(tag for tag in counted if tag)
        with self._reading() as (conn, read), conn.cursor() as cur:
            found = read(conn, cur, sql.SQL(
                "SELECT DISTINCT tag FROM {}, jsonb_array_elements_text(doc -> 'tags') AS tag "
                "WHERE doc IS NOT NULL AND jsonb_typeof(doc -> 'tags') = 'array' ORDER BY tag").format(
                sql.Identifier(self._table.name)), {}, seconds=seconds)
        return None if found is None else [str(row[0]) for row in found]

    def _expected(self, query: Query, narrowed: list[sql.Composable]) -> float | None:
        """How many rows hold the search's text at most, where it is narrowed by the grams
        index and the server has statistics of it (`Searched.expected`); else None. At most
        `FEW_MATCHES`: a read through the index is quicker than a walk, and its count ends in
        time; at most `READ_WHOLE`: a capped count through the index ends in time; more: the
        index would count them too slowly."""
        if not narrowed or self._searched is None:
            return None
        return self._searched.expected(query.text.strip().lower())

    def _bounds_first(self, query: Query) -> bool:
        """Whether a page in id order is read between bounds before every match is ordered:
        where the server's statistics say the grams the search is narrowed by are held by
        few enough rows that the two bitmaps of them that read builds are quick
        (`BOUNDED_POSTINGS`), or that its one gram is held by more rows than are ordered in
        time (`ORDERED_IN_TIME`; a gram they do not list is only said to be rarer)."""
        searched = self._searched
        if searched is None:
            return False
        asked = searched.asked(query.text.strip().lower())
        held = [searched.shares.get(gram, searched.rarer) * searched.rows for gram in asked]
        return sum(held) <= BOUNDED_POSTINGS or (len(asked) == 1 and asked[0] in searched.shares
                                                 and held[0] > ORDERED_IN_TIME)

    def _rows_to_walk(self, expected: float, limit: int) -> int:
        """How many rows a walk reads for a page of `limit` matches of a search `expected` rows
        hold, spread over the table's (`WALK_SLACK` times those it takes on average, at most
        `WALKED_MOST`)."""
        assert self._searched is not None
        return min(WALKED_MOST, math.ceil(self._searched.rows / max(expected, 1.0) * limit * WALK_SLACK))

    def _filters(self, query: Query) -> tuple[str | None, bool | None, str | None]:
        """The query's kind, status and tag filters the table has columns for (a filter of a
        column the table lacks filters nothing, as in the polars view); None: not filtered."""
        shown = self._table.shown
        return (query.kind if query.kind and "kind" in shown else None,
                query.active if query.active is not None and self._table.active else None,
                query.tag if query.tag and "tags" in shown else None)

    def _where(self, query: Query, conn: psycopg.Connection[Any]
               ) -> tuple[list[sql.Composable], list[sql.Composable], dict[str, Any]]:
        """The query's conditions, written as the indexes are (`shown_sql`); the condition that
        narrows its search through the grams index (none: no index, or text too short), which
        a walk does without (it would work out every walked row's grams); their values."""
        where: list[sql.Composable] = [sql.SQL("doc IS NOT NULL")]
        narrowed: list[sql.Composable] = []
        params: dict[str, Any] = {}
        needle = query.text.strip().lower()
        if needle:
            if self._searched is None or time.monotonic() - self._searched_at > SEARCHED_SECONDS:
                try:
                    searched = Searched.on(conn, self._table)
                except psycopg.errors.QueryCanceled:
                    if self._running is not None and self._running != self._generation:
                        raise Interrupted from None  # (this read is moot: the cancel was meant for it)
                    searched = Searched.on(conn, self._table)  # (a cancel meant for an older read: `_attempt`)
                self._searched, self._searched_at = searched, time.monotonic()
            where.append(sql.SQL(self._searched.text + " LIKE %(needle)s"))
            params["needle"] = f"%{like_escaped(needle)}%"
            if self._searched.by_grams and _narrowable(query):
                narrowed.append(sql.SQL(self._searched.by_grams))
                params["grams"] = self._searched.asked(needle)
        kind, active, tag = self._filters(query)
        if kind is not None:
            where.append(sql.SQL(self._table.shown["kind"] + " = %(kind)s"))
            params["kind"] = kind
        if active is not None:
            assert self._table.active is not None
            where.append(sql.SQL(self._table.active + " = %(active)s"))
            params["active"] = active
        if tag is not None:
            # (a tag holds no comma, `clean_tags`: the polars view's split of the joined tags finds
            # the same; a document whose tags are not a list shows none, and matches none)
            where.append(sql.SQL("jsonb_typeof(doc -> 'tags') = 'array' AND doc -> 'tags' ? %(tag)s"))
            params["tag"] = tag
        storable = storable_in(conn)  # (no stored text holds what the database cannot: a query of it matches no row)
        if not all(storable(value) for value in params.values() if isinstance(value, str)):
            return [sql.SQL("false")], [], {}
        return where, narrowed, params


def _keyset(table: ServedTable, query: Query, after: Row | None, params: dict[str, Any]) -> list[sql.Composable]:
    """The condition of the rows after `after` in the query's order (none: from the first),
    a row comparison, which the index on (value, id) starts at; its values go in `params`."""
    if after is None:
        return []
    params["after_id"] = after["id"]
    if query.sort:
        params["after_value"] = sort_prefix(after[query.sort])
        order, mark = sql.SQL(table.sort_key(query.sort) + ", id"), sql.SQL("%(after_value)s, %(after_id)s")
    else:
        order, mark = sql.SQL("id"), sql.SQL("%(after_id)s")
    return [sql.SQL("({}) {} ({})").format(order, sql.SQL("<" if query.reversed else ">"), mark)]


def _select(table: ServedTable, query: Query, rows: sql.Composable, conditions: list[sql.Composable], limit: int,
            order: sql.Composable | None = None) -> sql.Composed:
    """The shown columns of the first `limit` of `rows` meeting `conditions`, in the query's
    order (written as `order`, where given)."""
    return sql.SQL("SELECT id, {} FROM {} WHERE {} ORDER BY {} LIMIT {}").format(
        table.columns, rows, sql.SQL(" AND ").join(conditions), order or _order(table, query), sql.Literal(limit))


_MATCHES = "_matches"


def _walk_of(table: ServedTable, query: Query, where: list[sql.Composable], keyset: list[sql.Composable],
             limit: int, rows: int) -> sql.Composed:
    """`_select` of the first `limit` rows meeting `where` among the first `rows` in the
    query's order (after the keyset): a walk that stops after as many rows, on a busy server
    too (one stopped after so many milliseconds stops early there, its reading wasted). The
    walked rows carry their sort value (`_SORTED`): ordered by it, the page is the first
    matches as walked, the walk stops at the page's last (ordered by the value worked out
    again, every walked row would be sorted)."""
    carried = sql.SQL(", {} AS {}").format(sql.SQL(table.sort_key(query.sort)), sql.Identifier(_SORTED)) \
        if query.sort else sql.SQL("")
    walked = sql.SQL("(SELECT *{} FROM {} WHERE {} ORDER BY {} LIMIT {}) AS walked").format(
        carried, sql.Identifier(table.name), sql.SQL(" AND ").join([sql.SQL("doc IS NOT NULL"), *keyset]),
        _order(table, query), sql.Literal(rows))
    return _select(table, query, walked, where, limit, _order(table, query, _SORTED))


_SORTED = "_sorted"


def _found_page(table: ServedTable, query: Query, conditions: list[sql.Composable], limit: int) -> sql.Composed:
    """`_select` of the customers for every row found first (through the grams index: read
    with `narrowed`), then ordered, each with how many rows meet the conditions (`_MATCHES`,
    before the limit). Only the matches' ids are carried to the order (100,000 whole rows
    held for the count spill to disk), the shown columns read for the page's alone."""
    return sql.SQL("WITH page AS MATERIALIZED (SELECT id, count(*) OVER () AS {matches} FROM {table} WHERE {conditions} "
                   "ORDER BY {order} LIMIT {limit}) "
                   "SELECT id, {columns}, {matches} FROM page JOIN {table} USING (id) ORDER BY {order}").format(
        matches=sql.Identifier(_MATCHES), table=sql.Identifier(table.name), conditions=sql.SQL(" AND ").join(conditions),
        order=_order(table, query), limit=sql.Literal(limit), columns=table.columns)


def _probe(table: ServedTable, query: Query, conditions: list[sql.Composable], limit: int,
           storable: Callable[[str], bool]) -> tuple[sql.Composed, dict[str, str]]:
    """The greatest id of the first `limit` rows by id meeting `conditions` among those whose
    value of a searched column the table sorts through an index starts with the search's
    text (as typed, lower-cased, upper-cased, capitalised: a sort index holds the values as
    written), and how many there are (fewer than `limit`: no bound); with the starts' values
    (none: the table has no such column); the least id of them. Each column's index is read
    from where the text would start a value, a page at most: any page of matches bounds the
    page in id order as well as the first the grams index's bitmap reaches, and needs no
    bitmap (customer numbers C-01…: 0.4 ms, where that bitmap took 50 ms at 10M)."""
    text = query.text.strip()
    # (but a variant the database cannot hold: "mÿller" upper-cased is "MŸLLER", which LATIN1 lacks)
    starts = {f"start_{n}": like_escaped(variant) + "%" for n, variant in
              enumerate(v for v in dict.fromkeys((text, text.lower(), text.upper(), text.capitalize())) if storable(v))}
    columns = [column for column in table.searched if column in table.indexed]
    probes = [sql.SQL("(SELECT id FROM {} WHERE {} AND {} LIKE {} ORDER BY {}, id LIMIT {})").format(
        sql.Identifier(table.name), sql.SQL(" AND ").join(conditions), sql.SQL(table.sort_key(column)),
        sql.Placeholder(start), sql.SQL(table.sort_key(column)), sql.Literal(limit))
        for column in columns for start in starts]
    return sql.SQL("SELECT max(id) AS bound, min(id) AS least, count(*) AS held "
                   "FROM (SELECT id FROM ({}) AS probed ORDER BY id LIMIT {}) AS first").format(
        sql.SQL(" UNION ").join(probes), sql.Literal(limit)), starts if columns else {}


def _gathered(probed: Row, limit: int) -> bool:
    """Whether a probe (`_probe`) found a page of matches in one stretch of ids: its bound
    then bounds the page closely. A page of matches spread over the table (names starting
    with the text, in the order of names) bounds it loosely: reading every match up to there
    would take longer than the first the grams index's bitmap reaches (`_bounded_page`)."""
    return bool(probed["held"] == limit and probed["bound"] - probed["least"] < limit * GATHERED)


def _between(table: ServedTable, query: Query, conditions: list[sql.Composable], limit: int,
             least: int, bound: int) -> sql.Composed:
    """`_select` of the first `limit` rows meeting `conditions` in id order among those from
    `least` to `bound` (the least and greatest ids of a gathered probe: `_probe`), read by
    walking the id's index there (at most `GATHERED` times the page's rows, each row's text
    matched as is: no bitmap). It is the page unless a match lies before `least` (in a field
    the probe does not read, or not at a value's start), which only the page read through
    the grams index rules out: customer numbers C-01… with their probe in 9-11 ms at 10M,
    where that read (`_page_up_to`) took 0.14 s; C-09…, 0.38 s."""
    assert not query.sort and not query.reversed
    return _select(table, query, sql.Identifier(table.name),
                   [*conditions, sql.SQL("id BETWEEN {} AND {}").format(sql.Literal(least), sql.Literal(bound))], limit)


def _page_up_to(table: ServedTable, query: Query, conditions: list[sql.Composable], limit: int,
                bound: int) -> sql.Composed:
    """`_select` of the first `limit` rows meeting `conditions` (narrowed by the grams index)
    in id order, among those up to `bound` (the greatest id of a page of them: `_probe`)."""
    assert not query.sort and not query.reversed
    return _select(table, query, sql.Identifier(table.name),
                   [*conditions, sql.SQL("id <= {}").format(sql.Literal(bound))], limit)


def _bounded_page(table: ServedTable, query: Query, conditions: list[sql.Composable], limit: int) -> sql.Composed:
    """`_select` of the first `limit` rows meeting `conditions` (narrowed by the grams index)
    in id order, among those up to the last id of any `limit` of them (`found`, in the
    table's order: the first the bitmap of the grams index reaches): the page is among them,
    and the bitmap of the id's index up to there leaves the others unread: none of the
    matches is ordered but those below the bound. (Id order is never reversed.)"""
    assert not query.sort and not query.reversed
    found = sql.SQL("WITH found AS MATERIALIZED (SELECT id FROM {} WHERE {} LIMIT {}) ").format(
        sql.Identifier(table.name), sql.SQL(" AND ").join(conditions), sql.Literal(limit))
    bound = sql.SQL("id <= (SELECT max(id) FROM found)")
    return found + _select(table, query, sql.Identifier(table.name), [*conditions, bound], limit)


def _without_count(row: Row) -> Row:
    return {name: value for name, value in row.items() if name != _MATCHES}


def _order(table: ServedTable, query: Query, sorted_as: str | None = None) -> sql.Composable:
    """The query's order: its sort column's then the id, reversed whole when descending; the
    column's value named `sorted_as` where the rows carry it."""
    direction = " DESC" if query.reversed else ""
    order = ([sorted_as or table.sort_key(query.sort)] if query.sort else []) + ["id"]
    return sql.SQL(", ".join(part + direction for part in order))


# What `_read` sets for a page's statement: nothing compiled (JIT costs tens of milliseconds,
# more than the page) and no parallel workers started; for a walk, only an ordered index
# read (the planner, not knowing how many rows match, may think reading the table whole and
# sorting it, or a bitmap of the grams index, quicker); for a read narrowed by grams, only
# a bitmap of the grams index (for text many rows hold it may think reading the table whole,
# or walking an index, quicker: either works out the grams of every row it reads), held
# exactly (a bitmap larger than `work_mem` keeps whole pages, and every row of those has its
# grams worked out again).
_FOR_A_PAGE = {"jit": "0", "max_parallel_workers_per_gather": "0"}
_FOR_A_WALK = {"enable_bitmapscan": "0", "enable_seqscan": "0", "enable_sort": "0"}
_BY_GRAMS = {"enable_seqscan": "0", "enable_indexscan": "0", "work_mem": "64MB"}


def _read(conn: psycopg.Connection[Any], cur: psycopg.Cursor[Any], statement: sql.Composed, params: dict[str, Any],
          *, walk: bool = False, narrowed: bool = False, seconds: float | None = None) -> list[Any] | None:
    """The statement's rows, planned for a screen's page (`_FOR_A_PAGE`), by walking an
    index in order when `walk`, through a bitmap of the grams index when `narrowed`; None
    when that took longer than `seconds` (QueryCanceled: cancelled before). The settings
    are undone with the statement's own (sub)transaction, rolled back once its rows are in
    hand: inside a caller's transaction a released savepoint would keep them."""
    settings = {**_FOR_A_PAGE, **(_FOR_A_WALK if walk else {}), **(_BY_GRAMS if narrowed else {})}
    if seconds is not None:
        settings["statement_timeout"] = f"{max(1, round(seconds * 1000))}ms"
    started = time.perf_counter()
    try:
        with conn.transaction(force_rollback=True):
            cur.execute(sql.SQL("SELECT {}").format(sql.SQL(", ").join(
                sql.SQL("set_config({}, {}, true)").format(sql.Literal(name), sql.Literal(value))
                for name, value in settings.items())))
            return list(cur.execute(statement, params))
    except psycopg.errors.QueryCanceled:
        if seconds is None or time.perf_counter() - started < seconds * IN_TIME:
            raise  # (cancelled by request, not out of time)
        return None


def _matching(query: Query) -> tuple[Any, ...]:
    """What decides which rows a search matches (not their order)."""
    return query.text.strip().lower(), query.kind, query.active, query.tag


def _filtered(query: Query) -> bool:
    """Whether the query filters by more than its text."""
    return bool(query.kind or query.active is not None or query.tag)


def _narrowable(query: Query) -> bool:
    """Whether the search is long enough for the grams index to narrow."""
    return len(query.text.strip()) >= GRAM_LETTERS  # (lower-cased, text is no shorter)


def like_escaped(text: str) -> str:
    """`text` matched literally by LIKE (its default escape, the backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
