"""The storage engine: documents by table and id, committed atomically, shared
between processes. The domain (`store.domain`) talks to it only through what
this module names; a second backend (PostgreSQL) implements the same.

The contract:
- `open_engine(location, schema)` opens (or creates) a store and returns an `Engine`:
  the embedded one over a file path, or PostgreSQL's (`postgres`) for a
  `postgresql://` URL (`location` tells them apart, and imports nothing of the
  project). An `Engine` is three protocols in one: `EngineReader` (what the store
  holds, kept in step), `EngineWriter` (transactions, the lock) and `EngineAdmin`
  (files, checks, upkeep, close). With `create=False` a location that holds no store is
  refused (`NoStore`) before anything is made there.
- `where` names the store for people (a URL without its password, as
  `shown_location` shows any location); `files()` lists the files that hold
  it (none on a server).
- Reads are served from memory (on a server, a large table's documents are read
  one at a time until something needs the table whole): `tables[name]` is a read-only mapping
  id → document (a dict; never mutate one: writes replace documents);
  `frame(name, ids)` gives the large tables' decoded fields (`Schema.columns`)
  as a polars frame; `indexes` finds ids by key or by owner.
- Every write happens inside `with engine.transaction() as tx:`, which takes
  the store lock, catches up with other processes first, and commits all of
  the block's changes at once, or none if it raises. `tx.put` stamps each
  document with a new `rev` (optimistic concurrency: a verb compares the rev
  it was given with the current one) and the schema version.
- `reserved(wait)` holds the store's lock without writing: an app waits for
  other processes there, on a worker thread, then runs its verbs at once.
- `peek_meta(path)` reads the committed meta document (with the counts kept
  per `Schema.tallies`) without the lock and without loading any table;
  `peek_server(url, blobs, read)` a PostgreSQL store's counts and what `read` reads, at once.
- `page_reads()`: where a server's tables are read a page at a time (`store.views.served`),
  None for tables read from memory.
- `refresh()` catches up without writing; `take_changes(reader)` tells each reader
  (views, the matcher's index) which documents changed since it last asked;
  `changed_on_disk()` is a lock-free look for pollers; `watch(callback)` is told at once
  of other sessions' commits where the backend can tell (PostgreSQL's NOTIFY), else
  never (pollers look).
- What is derived from the store and kept beside it in a file (`side_file(suffix)`: the
  matcher's index) is tagged with the `state()` it was derived from, and catches up by
  `changes_since(state)`; a backend without files keeps none (`side_file`: None, `state()`:
  None).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from store.base.files import check_regular
from store.base.text import path_text
from store.engine import peek
from store.engine.blobs import Blobs
from store.engine.location import is_database_url, without_password
from store.engine.pages import PageReads
from store.engine.peek import Peeked
from store.engine.schema import META, META_ID, Schema, counts_trusted

T = TypeVar("T")

if TYPE_CHECKING:
    import polars as pl

    from store.engine.keyed import Keys

Document = dict[str, Any]

__all__ = ["META", "META_ID", "Blobs", "Document", "Engine", "EngineAdmin", "EngineReader", "EngineWriter", "KeyIndex",
           "Lookups", "PageReads", "Peeked", "Schema", "Transaction", "containing", "counts_trusted", "is_database_url", "open_engine",
           "peek_document", "peek_meta", "peek_server", "peek_tables", "peek_where", "read_ahead", "repair", "server_session",
           "shown_location", "storable_in"]


def containing(rows: Mapping[int, Document], fragments: Collection[str], lacking: Collection[str] = ()) -> list[int]:
    """The ids of a table's documents whose JSON text may hold one of `fragments` (literally)
    or nothing one of the patterns `lacking` matches: of a table held as text, those
    (`Table.ids_containing`); else every id."""
    from store.engine.table import Table  # (polars: not imported by every command)

    return rows.ids_containing(fragments, lacking) if isinstance(rows, Table) else sorted(rows)


class KeyIndex(Protocol):
    """Normalised key → ids of the documents holding it."""

    def ids(self, key: object) -> AbstractSet[int]: ...
    def first(self, key: object) -> int | None: ...
    def __contains__(self, key: object) -> bool: ...
    def __len__(self) -> int: ...


class Lookups(Protocol):
    def key_map(self, table: str, field: str) -> KeyIndex: ...
    def find(self, table: str, field: str, value: object) -> AbstractSet[int]: ...
    def holders(self, table: str, name: str, keys: Keys) -> list[AbstractSet[int]]: ...
    def first_holders(self, table: str, name: str, keys: Keys) -> list[int | None]: ...
    def holds(self, table: str, name: str, keys: Keys) -> list[bool]: ...
    def child_ids(self, owner_id: int, table: str) -> set[int]: ...
    def shared(self, tables: list[str], names: list[str], most: int) -> list[tuple[str, str, list[tuple[str, int]]]]: ...


class Transaction(Protocol):
    """The changes of one commit, applied to memory at once and undone on failure."""

    @property
    def before(self) -> Mapping[tuple[str, int], Document | None]: ...
    def get(self, table: str, doc_id: int) -> Document | None: ...
    def table(self, name: str) -> Mapping[int, Document]: ...
    def reading_ahead(self, table: str, ids: Collection[int]) -> AbstractContextManager[None]: ...
    def insert(self, table: str, doc: Document) -> int: ...
    def insert_rows(self, table: str, rows: pl.DataFrame, *, objects: Collection[str] = ()) -> list[int]: ...
    def rev(self, table: str, doc_id: int) -> int | None: ...
    def inserted_runs(self) -> list[tuple[str, int, int]]: ...
    def delete_run(self, table: str, first: int, stop: int, rev: int) -> list[int] | None: ...
    def deleted_runs(self) -> list[tuple[str, int, int, int]]: ...
    def fields(self, table: str, ids: Iterable[int], fields: Mapping[str, pl.DataType]) -> pl.DataFrame: ...
    def patch(self, table: str, changes: pl.DataFrame, *, back: bool = False) -> None: ...
    def patched(self) -> list[tuple[str, pl.DataFrame, pl.DataFrame]]: ...
    def not_at(self, table: str, expected: pl.DataFrame) -> list[int]: ...
    def is_inserted(self, table: str, doc_id: int) -> bool: ...
    def put(self, table: str, doc_id: int, doc: Document) -> Document: ...
    def delete(self, table: str, doc_id: int) -> None: ...
    def restore(self, table: str, doc_id: int, doc: Document | None) -> None: ...
    def adopt_meta(self, meta: Document) -> None: ...
    def next_counter(self, name: str) -> int: ...
    def take_counters(self, name: str, count: int) -> range: ...
    def savepoint(self) -> AbstractContextManager[None]: ...


class EngineReader(Protocol):
    """What the store holds, read from memory and kept in step with other sessions' commits."""

    where: str

    @property
    def tables(self) -> Mapping[str, Mapping[int, Document]]: ...
    @property
    def indexes(self) -> Lookups: ...
    @property
    def blobs(self) -> Blobs: ...
    def frame(self, table: str, ids: Iterable[int] | None = None) -> pl.DataFrame: ...
    def docs(self, table: str, ids: Iterable[int]) -> dict[int, Document]: ...
    def ids_by(self, table: str, field: str) -> pl.Series: ...
    def ids_holding(self, table: str, field: str, values: Collection[int | str]) -> list[int]: ...
    def tallies(self) -> Mapping[str, Any]: ...
    def refresh(self, wait: float | None = None) -> bool: ...
    def take_changes(self, reader: str = "views") -> dict[str, set[int]] | None: ...
    def changed_on_disk(self) -> bool: ...
    def watch(self, changed: Callable[[], None]) -> None: ...
    def page_reads(self) -> PageReads | None: ...


class EngineWriter(Protocol):
    """Changes, each committed whole or not at all, under the store's lock."""

    def transaction(self, *, rewrite: bool = False) -> AbstractContextManager[Transaction]: ...
    def reserved(self, wait: float | None = None) -> AbstractContextManager[None]: ...


class EngineAdmin(Protocol):
    """The store as a whole: its files, its checks, its upkeep, its end."""

    def files(self) -> list[Path]: ...
    def state(self) -> tuple[str, int] | None: ...
    def changes_since(self, state: tuple[str, int]) -> dict[str, set[int]] | None: ...
    def side_file(self, suffix: str) -> Path | None: ...
    def prepare(self, tables: tuple[str, ...], key_tables: tuple[str, ...], child_tables: tuple[str, ...]) -> None: ...
    def verify(self) -> None: ...
    def compact(self) -> None: ...
    def close(self) -> None: ...


class Engine(EngineReader, EngineWriter, EngineAdmin, Protocol):
    """Every backend: a reader, a writer and an admin of one store."""


def shown_location(location: str | Path) -> str:
    """A store's location without a password: fit for a title bar, a message or a log."""
    return without_password(str(location)) if is_database_url(location) else path_text(location)


def open_engine(location: str | Path, schema: Schema, *, lock_timeout: float = 15.0, verify: bool = True,
                create: bool = True) -> Engine:
    """The engine of the store at `location`: the embedded one over a file, or PostgreSQL's
    for a `postgresql://` URL. A missing store is created, or with `create=False` refused
    (NoStore) with nothing made: no folder, lock, log or table. `verify` (a file): check
    every table's checksum now (StoreCorrupt); else each large table's when first read, or
    all at `Engine.verify()` (an app paints its first screen first)."""
    if not create and not store_exists(location, schema):
        from store.base.errors import NoStore

        raise NoStore(f"no store at {shown_location(location)}")
    if is_database_url(location):
        from store.engine.postgres.backend import PgDatabase

        return PgDatabase(str(location), schema, lock_timeout=lock_timeout)
    from store.engine.database import Database

    _refuse_odd_file(Path(location))
    return Database(Path(location), schema, lock_timeout=lock_timeout, verify=verify)


def _refuse_odd_file(path: Path) -> None:
    """A store file that is a folder, a FIFO or a device is refused before it is opened
    (reading a FIFO blocks until someone writes to it)."""
    if os.path.exists(path):
        check_regular(path, what="a store file")


def store_exists(location: str | Path, schema: Schema) -> bool:
    """Whether a store is at `location`: a store file (or the change log of one whose file
    was lost: opening it says so), or a database schema holding any of the store's tables."""
    if is_database_url(location):
        from store.engine.postgres import connect

        return connect.holds_any_table(str(location), schema.tables)
    path = Path(os.path.realpath(location))
    return path.exists() or path.with_name(path.name + ".log").exists()


def read_ahead(location: str | Path) -> None:
    """Start reading a store file's decoded fields on a thread, for the store this process
    opens next (`columns.prefetch_columns`): a command does so before loading its modules.
    Nothing for a server."""
    if is_database_url(location):
        return
    from store.engine.columns import prefetch_columns

    prefetch_columns(Path(location))


def server_session(url: str) -> AbstractContextManager[Any]:
    """A connection of its own to the PostgreSQL store at `url` (autocommit), closed after, its
    errors StoreError in one line: for upkeep that must not hold up the session's own
    (`store.views.searched.prepare_server`)."""
    from store.engine.postgres import connect

    return connect.session(url)


def storable_in(conn: Any) -> Callable[[str], bool]:
    """Whether the PostgreSQL database `conn` is connected to can hold a text (`connect.storable_in`)."""
    from store.engine.postgres import connect

    return connect.storable_in(conn)


def peek_meta(location: str | Path) -> dict[str, Any] | None:
    """The committed meta document (with its counts) without opening the store: None when
    there is none, or it must be read whole (a file TinyDB wrote)."""
    if is_database_url(location):
        from store.engine.postgres import connect

        return connect.peek_meta(str(location))
    _refuse_odd_file(Path(location))
    return peek.peek_meta(location)


def peek_server(url: str, blobs: str, read: Callable[[Any], T]) -> tuple[dict[str, Any], bool, T] | None:
    """The PostgreSQL store at `url` as its server holds it now, without loading it: its meta
    document (the counts), whether it keeps any blob (`Schema.blobs`), and `read(connection)`,
    in one snapshot; neither polars nor any table is imported. None when they cannot be
    read (`connect.peek_server`)."""
    from store.engine.postgres import connect

    return connect.peek_server(url, blobs, read)


def peek_tables(location: str | Path, names: Sequence[str]) -> Peeked | None:
    """The small tables `names` as the store file holds them, read without opening it
    (`peek.peek_tables`): None for a PostgreSQL store (the caller opens it: its server
    reads one table as fast), a missing store, or a file TinyDB wrote."""
    if is_database_url(location):
        return None
    _refuse_odd_file(Path(location))
    return peek.peek_tables(location, names)


def peek_where(peeked: Peeked, table: str, field: str, value: str) -> set[int]:
    """Ids of a large table's documents whose `field` is `value`, as the store file peeked
    holds them (`peek.peek_where`)."""
    return peek.peek_where(peeked, table, field, value)


def peek_document(peeked: Peeked, table: str, doc_id: int) -> dict[str, Any] | None:
    """One document of a large table as the store file peeked holds it (`peek.peek_document`)."""
    return peek.peek_document(peeked, table, doc_id)


def repair(path: str | Path, schema: Schema, *, lock_timeout: float = 15.0) -> dict[str, Any]:
    """Rebuild a damaged store from what is intact (`custdesk repair`); returns the report."""
    from store.engine.salvage import repair_store

    if is_database_url(path):
        from store.base.errors import StoreError

        raise StoreError("a PostgreSQL store has no files to repair: the server keeps its tables whole "
                         "(restore a damaged database from its backup)")

    return repair_store(path, schema, lock_timeout=lock_timeout)

