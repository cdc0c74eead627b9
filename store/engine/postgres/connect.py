"""Connecting to a PostgreSQL store, and reading its counts or its first page without loading it.

Kept apart from the backend (`backend`): `custdesk stats` reads the meta document
through here, and the app its first page before anything else (`peek_server`);
neither imports polars nor any table (the package imports nothing).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson
import psycopg
from psycopg import sql
from psycopg._encodings import pg2pyenc  # (psycopg's own names of the server's encodings, kept with it)

from store.base.errors import StoreError
from store.engine.location import without_password
from store.engine.postgres.tables import blobs_table
from store.engine.schema import META, META_ID

T = TypeVar("T")

# Seconds `peek_server` waits for the server to answer a connection (libpq's least: 1 is taken as 2).
PEEK_TIMEOUT = 2

# psycopg logs what it could not tidy up after a lost connection ("error ignored terminating
# <psycopg.Copy …>"); with no handler Python prints that on stderr, a second line beside the
# refusal that already says the server is unreachable (and text over the app's screen).
logging.getLogger("psycopg").addHandler(logging.NullHandler())


def storable_in(conn: psycopg.Connection[Any]) -> Callable[[str], bool]:
    """Whether the database `conn` is connected to can hold a text: not one with NUL (no
    PostgreSQL text can), nor with a lone surrogate (a terminal's undecodable byte: not
    UTF-8), nor with a character the database's encoding lacks ("ş" or "€" in LATIN1; the
    server refuses a statement carrying one). No stored text holds any of them: a search
    or a lookup of one finds nothing. The encoding is the one the server reports at
    connecting; one psycopg has no codec of, and SQL_ASCII (which stores the bytes it is
    sent), are taken as UTF-8 (the server then says what it refuses)."""
    name = conn.info.parameter_status("server_encoding") or "UTF8"
    try:
        codec = "utf-8" if name == "SQL_ASCII" else pg2pyenc(name.encode())
    except psycopg.NotSupportedError:
        codec = "utf-8"

    def storable(text: str) -> bool:
        try:
            text.encode(codec)
        except UnicodeEncodeError:
            return False
        return "\x00" not in text
    return storable


def connect(url: str) -> psycopg.Connection[Any]:
    try:
        # (UTF-8 whatever the database's encoding: COPY parts are sent and read as UTF-8 bytes)
        return psycopg.connect(url, autocommit=True, application_name="custdesk", client_encoding="utf8")
    except psycopg.Error as err:
        raise StoreError(f"{without_password(url)}: cannot connect ({first_line(err)})") from None


def first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


@contextmanager
def refused(url: str) -> Iterator[None]:
    """The server's errors as the store's: one line naming the database (its URL without the password)."""
    try:
        yield
    except psycopg.errors.QueryCanceled as err:  # (an OperationalError, but the server is there)
        raise StoreError(f"{without_password(url)}: the server stopped the read ({first_line(err)}); try again") from None
    except psycopg.errors.LockNotAvailable as err:  # (the same)
        raise StoreError(f"{without_password(url)}: the table is busy ({first_line(err)}); try again") from None
    except psycopg.Error as err:
        if lost(err):
            raise StoreError(f"{without_password(url)}: the database server is unreachable ({first_line(err)})") from None
        raise StoreError(f"{without_password(url)}: {first_line(err)}") from None


def lost(err: psycopg.Error) -> bool:
    """Whether the error is the connection's (none made, or lost: the client's own, a
    connection exception, the server shutting down), not the server refusing a statement
    (psycopg calls those operational too: a value longer than an index entry holds, a full disk)."""
    return isinstance(err, psycopg.OperationalError) and (err.sqlstate is None or err.sqlstate.startswith(("08", "57P")))


@contextmanager
def session(url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection of its own (autocommit), closed after; its errors as the store's (`refused`)."""
    with refused(url), connect(url) as conn:
        yield conn


def holds_any_table(url: str, names: Iterable[str]) -> bool:
    """Whether the connection's schema (its search_path) holds a table of one of these names."""
    with connect(url) as conn:
        try:
            row = conn.execute("SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() "
                               "AND tablename = ANY(%s))", (list(names),)).fetchone()
        except psycopg.Error as err:
            raise StoreError(f"{without_password(url)}: {first_line(err)}") from None
    return bool(row and row[0])


def peek_meta(url: str) -> dict[str, Any] | None:
    """The committed meta document (with the counts), or None when the database holds no store."""
    with connect(url) as conn:
        try:
            row = conn.execute(sql.SQL("SELECT doc::text FROM {} WHERE id = %s AND doc IS NOT NULL").format(
                sql.Identifier(META)), (META_ID,)).fetchone()
        except psycopg.errors.UndefinedTable:
            return None
        except psycopg.Error as err:
            raise StoreError(f"{without_password(url)}: {first_line(err)}") from None
    return None if row is None else dict(orjson.loads(row[0]))


def peek_server(url: str, blobs: str, read: Callable[[psycopg.Connection[Any]], T]) -> tuple[dict[str, Any], bool, T] | None:
    """(the committed meta document, whether the store keeps any of its blobs `blobs`, `read` of the
    connection) in one consistent snapshot, on a connection that waits `PEEK_TIMEOUT` at
    most to connect and as long for each statement (a table locked by a rewrite, a server
    that stalls); None when they cannot be read (no server, no store, a refusal, too
    slow): the caller then does without (opening the store says why)."""
    waited = f"{PEEK_TIMEOUT * 1000}"
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=PEEK_TIMEOUT, application_name="custdesk",
                             options=f"-c statement_timeout={waited} -c lock_timeout={waited}") as conn:
            conn.isolation_level, conn.read_only = psycopg.IsolationLevel.REPEATABLE_READ, True
            with conn.transaction():  # (one BEGIN, of a snapshot: the counts are the rows')
                found = conn.execute(sql.SQL("SELECT (SELECT doc::text FROM {} WHERE id = %s AND doc IS NOT NULL), "
                                             "EXISTS (SELECT 1 FROM {})").format(
                    sql.Identifier(META), sql.Identifier(blobs_table(blobs))), (META_ID,)).fetchone()
                if found is None or found[0] is None:
                    return None
                return dict(orjson.loads(found[0])), bool(found[1]), read(conn)
    except psycopg.Error:
        return None
