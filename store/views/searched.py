"""What a PostgreSQL server's customers and prospects are searched by (`served`): the
searched text's SQL, the grams index and what its statistics tell of a search's text
(`Searched`), and what the server is given to search them fast.

`prepare` (run by the app on a server: `prepare_server`) makes this fast at millions of
rows, for each served table (`shown_sql.SERVED`): the searched text kept as a column
(walked five times faster than worked out from each document), a btree per sortable column
(a page starts where the index says, whatever the sort); for the customers, the grams
index over the searched text and a GIN index over the tags. The source list, which takes a
million rows in one import, has fewer (`shown_sql.SOURCE_ROWS`): each index costs every
row written its upkeep. A server without them answers every query all the same, more slowly.

A server without ICU (a build without it) lower-cases by its database's locale: with
C.UTF-8 the Turkish İ becomes i, not i and a combining dot, and a C locale lower-cases
ASCII letters only, so a search there may find fewer rows.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import psycopg

from store.engine import server_session
from store.model import CUSTOMERS, EXPORTS, SHARED_OWNERS
from store.views.shown_sql import CUSTOMER_ROWS, GRAMS, GRAMS_FUNCTION, SEARCHED_COLUMN, SERVED, UNICODE_LOWER, ServedTable, grams

# A gram this share of the rows hold or more is left out of a search's where it has rarer
# grams: it narrows the matches little, and its long list costs the index read the most
# ("c-0" of every customer number, at 10M: 27 of the 38 ms of "c-012").
COMMON_GRAM = 0.2
# A search the statistics say at most this many rows hold is read through the grams index
# at once, not walked first: a walk finds a page of them only after 10M / 20k * 120 = 60k
# rows (60 ms at 10M), and the index read of 20k is quicker (40 ms, its pages warm).
FEW_MATCHES = 20_000
# How many grams ANALYZE keeps the share of (ten times this); the default (100) keeps those
# over 1.3 % of the rows at 10M, too few to tell a name (0.2 %) from "lan" (3.6 %).
GRAMS_STATISTICS = 1000


@dataclass(frozen=True)
class Searched:
    """How a server's rows are searched: the searched text's SQL; the condition that narrows
    it through the grams index, where there is one; by the server's statistics of the index
    (none where it has none), the grams most often held with the share of the rows that hold
    each, the share every other gram is rarer than, and how many rows there are."""
    text: str
    by_grams: str | None
    shares: dict[str, float]
    rarer: float
    rows: float

    @classmethod
    def on(cls, conn: psycopg.Connection[Any], table: ServedTable = CUSTOMER_ROWS) -> Searched:
        by_grams = _grams_condition(conn, table.name)
        shares, rarer, rows = _gram_shares(conn, table.name) if by_grams else ({}, 0.0, 0.0)
        return cls(searched_text(conn, table), by_grams, shares, rarer, rows)

    def asked(self, needle: str) -> list[str]:
        """The grams a search of `needle` is narrowed by: its uncommon ones, else its rarest."""
        held = grams(needle)
        return [gram for gram in held if self.shares.get(gram, 0.0) < COMMON_GRAM] or [
            min(held, key=self.shares.__getitem__)]

    def expected(self, needle: str) -> float | None:
        """How many rows hold `needle` at most, by the statistics (as many as hold its rarest
        gram); None without statistics."""
        if not self.shares:
            return None
        return min(self.shares.get(gram, self.rarer) for gram in grams(needle)) * self.rows


def _gram_shares(conn: psycopg.Connection[Any], table: str) -> tuple[dict[str, float], float, float]:
    """The grams ANALYZE found most often in the grams index's entries, each with the share of
    the rows that hold it; the share any other gram is rarer than (the least of those); the
    table's rows as the server last counted them. ({}, 0, 0) before any ANALYZE, and for a
    role that may not read the index's statistics (pg_stats shows a role the statistics of
    what it may read: the index's owner): its searches choose their way by the clock."""
    found = conn.execute(
        "SELECT most_common_elems::text::text[], most_common_elem_freqs, "
        "(SELECT reltuples FROM pg_class WHERE oid = %s::regclass) FROM pg_stats "
        "WHERE schemaname = current_schema() AND tablename = %s", (table, _grams_index(table))).fetchone()
    if found is None or found[0] is None:
        return {}, 0.0, 0.0
    grams_held, shares, rows = found
    # (most_common_elem_freqs ends with the least and the most share, and the share of rows with no grams)
    return dict(zip(grams_held, shares, strict=False)), shares[-3], max(0.0, rows)


def unicode_collation(conn: psycopg.Connection[Any]) -> str:
    """The COLLATE clause that lower-cases by Unicode's rules on this server: ICU's root
    locale where it has ICU, else none (its database's locale)."""
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu')").fetchone()
    return UNICODE_LOWER if row and row[0] else ""


def _keeps_searched_column(conn: psycopg.Connection[Any], table: str = CUSTOMERS) -> bool:
    """Whether the server keeps the table's searched text as a column (`prepare`)."""
    kept = conn.execute("SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = "
                        "current_schema() AND table_name = %s AND column_name = %s)",
                        (table, SEARCHED_COLUMN)).fetchone()
    return bool(kept and kept[0])


def searched_text(conn: psycopg.Connection[Any], table: ServedTable = CUSTOMER_ROWS) -> str:
    """The searched text of a row: its column where the server keeps one (`prepare`), else
    worked out from the document for each row read (five times slower to walk)."""
    return SEARCHED_COLUMN if _keeps_searched_column(conn, table.name) else table.haystack(unicode_collation(conn))


def _sort_index(table: str, column: str) -> str:
    return f"{table}_order_{column}"


def _grams_index(table: str) -> str:
    return f"{table}_grams"


def _grams_condition(conn: psycopg.Connection[Any], table: str) -> str | None:
    """The condition a search is narrowed by through the table's grams index (its grams in
    `%(grams)s`), where the server has the index (`prepare`)."""
    index = _indexes(conn).get(_grams_index(table))
    return f"{GRAMS}({SEARCHED_COLUMN}) @> %(grams)s::text[]" if index is not None and index.valid else None


@dataclass(frozen=True)
class _Index:
    valid: bool  # (made: an index whose CONCURRENTLY build was cut short is not, and is never read)
    queueing: bool  # (a GIN index that queues its new entries: fastupdate on)
    building: bool  # (being made by a session now)


def _indexes(conn: psycopg.Connection[Any]) -> dict[str, _Index]:
    """The indexes in the store's schema, by name."""
    return {name: _Index(valid, not off, building) for name, valid, off, building in conn.execute(
        "SELECT c.relname, i.indisvalid, coalesce(c.reloptions, '{}') @> array['fastupdate=off'], "
        "EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = c.oid) "
        "FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
        "WHERE c.relnamespace = current_schema()::regnamespace")}


def _has_grams_function(conn: psycopg.Connection[Any]) -> bool:
    held = conn.execute("SELECT EXISTS (SELECT 1 FROM pg_proc WHERE proname = %s "
                        "AND pronamespace = current_schema()::regnamespace)", (GRAMS,)).fetchone()
    return bool(held and held[0])


_AT_ONCE = "WITH (fastupdate = off)"
# The share of a served table's rows the server's upkeep lets be dead row versions (each
# change leaves one, and an index walk reads each entry's) before it clears them: by default
# 20 %, two million at 10M customers. A few bulk changes there left 1.4 million; with them 20
# sessions' search p95 was 753 ms once (the server's memory emptied by an import besides)
# and 215 ms with 0.9 million, within the 146-276 ms of runs with none. Clearing 0.9 million
# took the server's upkeep 3 minutes in the background (a VACUUM: 39 s).
VACUUM_SHARE = 0.02
_UPKEEP = f"autovacuum_vacuum_scale_factor={VACUUM_SHARE}"
# How long the change of the customers' table (its searched column) waits for the table, and
# how often it tries (`_when_the_table_is_free`).
TABLE_LOCK_SECONDS = 0.5
TABLE_LOCK_TRIES = 20
# The customers an export names (`Schema.owners_field`), which each customer's lookup of its
# exports reads; a new store has it from the start (`store.engine.postgres.tables.owners_index`).
_OWNERS_INDEX = f"{EXPORTS}_{SHARED_OWNERS}"
_TRIGRAMS_INDEX = f"{CUSTOMERS}_search"  # (pg_trgm's, of each word apart: text across a space had no trigram)


def prepare(conn: psycopg.Connection[Any]) -> list[str]:
    """The statements that make what the server reads the pages of each served table
    (`shown_sql.SERVED`: the customers, the source list) through, leaving out what it has:
    the searched text kept as a column of its own (computed by the server with each write;
    adding it rewrites the table, which no one reads or writes meanwhile: minutes at 10M);
    the server's upkeep set to clear each table's dead row versions sooner (`VACUUM_SHARE`);
    where the table's search is narrowed by one (`ServedTable.grams`: the customers'), an
    index of its grams (`shown_sql.GRAMS`, with the function that works them out); a btree
    per sortable column it names (`ServedTable.indexed`); for the customers, a GIN index over
    the tags; and one over
    the customers each export record names (`_OWNERS_INDEX`: a store made before it). The indexes
    are made CONCURRENTLY (commits go on meanwhile): run each on its own, out of any
    transaction. The GIN indexes take each new entry at once (`fastupdate = off`, also set
    on those made before): by default they queue them, every search reads the whole queue,
    and the commit that overflows it (4 MB) empties it under the store's lock. The grams
    index's statistics keep `GRAMS_STATISTICS` (the table analyzed once that is set: a search
    reads them to choose its way). The indexes of earlier versions these replace are dropped
    once these are made (`_superseded`). An index left invalid by a build cut short (the
    app closed meanwhile) is dropped and made again; a table whose grams index another
    session is making is left to it."""
    made: list[tuple[ServedTable | None, str, str]] = [
        (table, name, definition) for table in SERVED.values() for name, definition in _made(table)]
    made.append((None, _OWNERS_INDEX, f"ON {EXPORTS} USING gin ((doc -> '{SHARED_OWNERS}') jsonb_path_ops) {_AT_ONCE}"))
    indexes = _indexes(conn)
    present = {name: index for name, index in indexes.items() if index.valid or index.building}
    columns = [f"ALTER TABLE {table.name} ADD COLUMN {SEARCHED_COLUMN} text GENERATED ALWAYS AS "
               f"({table.haystack(unicode_collation(conn))}) STORED"
               for table in SERVED.values() if not _keeps_searched_column(conn, table.name)]
    queueing = [statement for _, name, definition in made if _AT_ONCE in definition and name in present
                and present[name].queueing and present[name].valid
                for statement in (f'ALTER INDEX "{name}" SET (fastupdate = off)',
                                  f"SELECT gin_clean_pending_list('\"{name}\"'::regclass)")]
    function = [] if _has_grams_function(conn) else [GRAMS_FUNCTION]
    upkeep = [f"ALTER TABLE {name} SET ({_UPKEEP.replace('=', ' = ')})" for name in SERVED if not _kept_up(conn, name)]
    # (the rest of a table whose grams index another session is making: once it is done)
    ready = {name for name in SERVED if not (_grams_index(name) in present and not present[_grams_index(name)].valid)}
    made = [(table, name, definition) for table, name, definition in made if table is None or table.name in ready]
    broken = [f'DROP INDEX CONCURRENTLY "{name}"' for _, name, _ in made if name in indexes and name not in present]
    superseded = [f'DROP INDEX CONCURRENTLY "{name}"' for table in SERVED.values() if table.name in ready
                  for name in _superseded(table) if name in indexes]
    counted = [statement for name, table in SERVED.items() if name in ready and table.grams
               and not (_grams_index(name) in present and _statistics_kept(conn, name) == GRAMS_STATISTICS)
               for statement in (f'ALTER INDEX "{_grams_index(name)}" ALTER COLUMN 1 SET STATISTICS {GRAMS_STATISTICS}',
                                 f"ANALYZE {name}")]
    return columns + function + upkeep + queueing + broken + [
        f'CREATE INDEX CONCURRENTLY "{name}" {definition}'
        for _, name, definition in made if name not in present] + counted + superseded


def _kept_up(conn: psycopg.Connection[Any], table: str) -> bool:
    """Whether the server's upkeep clears the table's dead row versions at `VACUUM_SHARE`."""
    kept = conn.execute("SELECT coalesce(reloptions, '{}') @> array[%s] FROM pg_class WHERE oid = to_regclass(%s)",
                        (_UPKEEP, table)).fetchone()
    return bool(kept and kept[0])


def _made(table: ServedTable) -> list[tuple[str, str]]:
    """The indexes a served table's pages are read through: (name, definition)."""
    name = table.name
    made = [(_sort_index(name, column), f"ON {name} (({table.sort_key(column)}), id) WHERE doc IS NOT NULL")
            for column in table.indexed]
    if "tags" in table.shown:
        made.append((f"{name}_tags", f"ON {name} USING gin ((doc -> 'tags')) {_AT_ONCE} WHERE doc IS NOT NULL"))
    if table.grams:
        made.append((_grams_index(name), f"ON {name} USING gin ({GRAMS}({SEARCHED_COLUMN})) {_AT_ONCE} "
                                         "WHERE doc IS NOT NULL"))
    return made


def _superseded(table: ServedTable) -> list[str]:
    """The indexes of earlier versions the table's own replace, dropped once those are made:
    the sort indexes of whole texts (a longer entry than a btree holds could not be written,
    `store.base.sorting`), pg_trgm's of the customers' searched text; a grams index, or a
    sort index, the table is read without."""
    unindexed = [_sort_index(table.name, column) for column in table.sortable if column not in table.indexed]
    return [f"{table.name}_by_{column}" for column in table.sortable] + unindexed + (
        [_TRIGRAMS_INDEX] if table.name == CUSTOMERS else []) + ([] if table.grams else [_grams_index(table.name)])


def _statistics_kept(conn: psycopg.Connection[Any], table: str) -> int:
    """How many of the table's grams index's entries ANALYZE keeps statistics of, over ten."""
    kept = conn.execute("SELECT coalesce(attstattarget, -1) FROM pg_attribute "
                        "WHERE attrelid = %s::regclass AND attnum = 1", (_grams_index(table),)).fetchone()
    return int(kept[0]) if kept else -1


# What the lock a session prepares a store under is named by, with the store's schema (the
# lock is the database's: stores in other schemas prepare on); the session's end lets it go.
_PREPARING = "custdesk: preparing the pages of "


def prepare_server(url: str) -> int:
    """Make on the server at `url` what the pages are read through, where it is missing
    (`prepare`), on a connection of its own: the app on a server does it after its first
    screen (the first time: the searched column rewrites the customers' table, seconds at
    100,000 customers, minutes at millions; the indexes are made while the others work on).
    How many statements ran; StoreError when the server refuses (a clerk without the rights:
    the pages are read all the same, more slowly). One session prepares a store at a time
    (`_PREPARING`): two making the same index at once, one fails, or they deadlock; a
    session that finds another at it leaves it the work (0)."""
    with server_session(url) as conn:
        alone = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s || current_schema()))", (_PREPARING,)).fetchone()
        if not (alone and alone[0]):
            return 0
        statements = prepare(conn)
        for statement in statements:
            if statement.startswith("ALTER TABLE"):
                _when_the_table_is_free(conn, statement)
            else:
                conn.execute(statement)
    return len(statements)


def _when_the_table_is_free(conn: psycopg.Connection[Any], statement: str) -> None:
    """Run a change of the table (ALTER TABLE: it waits for every transaction that holds the
    table, and every read waits behind it) only once it gets the table within
    `TABLE_LOCK_SECONDS`, trying `TABLE_LOCK_TRIES` times. Waiting for good, it could wait on
    a session holding the table in a transaction while it reads a document on another
    connection, behind this change: neither would ever go on."""
    conn.execute(f"SET lock_timeout = '{round(TABLE_LOCK_SECONDS * 1000)}ms'")
    try:
        for _ in range(TABLE_LOCK_TRIES - 1):
            try:
                conn.execute(statement)
                return
            except psycopg.errors.LockNotAvailable:
                time.sleep(TABLE_LOCK_SECONDS)
        conn.execute(statement)
    finally:
        conn.execute("RESET lock_timeout")


