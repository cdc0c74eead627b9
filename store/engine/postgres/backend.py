"""The PostgreSQL backend (see the package): a session on the server, its locks,
reading the store and catching up; the commit lifecycle is `Backend`'s."""
from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import orjson
import psycopg
from psycopg import sql

from store.base.errors import StoreError
from store.engine import tallies as tally
from store.engine.indexes import ServerLookups
from store.engine.lifecycle import Backend
from store.engine.location import without_password
from store.engine.postgres import keys, writes
from store.engine.postgres import tables as server
from store.engine.postgres.blobs import TableBlobs
from store.engine.postgres.connect import connect, first_line, lost, session, storable_in
from store.engine.postgres.listen import Listener
from store.engine.postgres.pages import PageReads
from store.engine.postgres.reads import changed_since, count_table, read_columns, read_holding, read_order, read_text, read_texts
from store.engine.schema import Schema
from store.engine.snapshot import Tables, empty_tables
from store.engine.table import Table
from store.engine.transaction import Transaction

T = TypeVar("T")

LOCK_CLASS = 0x637364  # the advisory lock's first key ("csd"); the second is the schema's hash
# A catch-up of more changes than this (and a quarter of the store) reads the whole store instead.
BULK_CHANGES = 20_000
# Documents a table keeps as dicts (written since it was read) before they are turned back into text.
FOLD_WRITTEN = 20_000
# Seconds a store being closed waits for a reader's statement before cancelling it.
CLOSE_WAIT = 1.0


class PgDatabase(Backend):
    def __init__(self, url: str, schema: Schema, *, lock_timeout: float = 15.0) -> None:
        super().__init__(schema)
        self.url, self.where = url, without_password(url)
        self.lock_timeout = lock_timeout
        self.seq = 0
        self._heard = 0
        self._listener: Listener | None = None
        # Connections of their own for what is read when first needed; the second only for
        # lookups asked two at a time (`_Lookups`), which take a free one from the queue.
        self.readers = (_Reader(url, self.where), _Reader(url, self.where))
        self.free_readers: queue.SimpleQueue[_Reader] = queue.SimpleQueue()
        for reader in self.readers:
            self.free_readers.put(reader)
        self.blobs = TableBlobs(self, server.blobs_table(schema.blobs))
        self.pages = PageReads(url)
        self.conn = connect(url)
        self.storable = storable_in(self.conn)  # (the database's encoding, as the server reported it)
        with self._sql_errors():
            self._start_session()

    def _start_session(self) -> None:
        """Know the schema, make the store's tables when missing, read everything."""
        self.pg_schema = self.conn.execute("SELECT current_schema()").fetchone()[0]  # type: ignore[index]
        if self.pg_schema is None:
            raise StoreError(f"{self.where}: the search_path names no schema that exists")
        self.channel = f"custdesk:{self.pg_schema}"[:63]
        if not server.complete(server.present(self.conn), self.schema, self.blobs.name):
            with self._in_commit(None):
                server.create(self.conn, self.schema, server.present(self.conn), where=self.where, pg_schema=self.pg_schema)
                self.blobs.create()
        kept = keys.kept(self.conn, self.schema.keyed_tables)
        missing = [table for table, (column, _at_once) in kept.items() if not column]
        if missing:  # (a store made before the keys were kept: filled in once, under the lock)
            with self._in_commit(None):
                for table in missing:
                    keys.add_column(self.conn, self.schema, table)
        for table in (table for table, (column, at_once) in kept.items() if column and not at_once):
            keys.tune(self.conn, self.schema, table)
        writes.create_staging(self.conn)
        with self._consistent_read():
            self._load()

    # -- the engine's verbs (`transaction` and `refresh` are the lifecycle's: `Backend`) --
    def changed_on_disk(self) -> bool:
        """Whether another session committed since we last looked: what the listener
        heard (`watch`), else one small query."""
        if self._listener is not None and self._listener.is_alive():
            return self._heard > self.seq
        with self._locked(None), self._sql_errors():
            return server.state(self.conn)[0] != self.seq

    def watch(self, changed: Callable[[], None]) -> None:
        """Call `changed` (from another thread) whenever another session commits."""
        def heard(seq: int) -> None:
            self._heard = max(self._heard, seq)
            if seq > self.seq:
                changed()
        if self._listener is None:
            self._listener = Listener(self.url, self.channel, heard)
            self._listener.start()
            self._listener.ready.wait(5)

    @contextmanager
    def reserved(self, wait: float | None = None) -> Iterator[None]:
        """Hold the store's lock (a session advisory lock) without writing: this session's
        commits, from any thread, take it at once meanwhile."""
        with self._locked(wait), self._sql_errors():
            self._lock(wait, session=True)
        try:
            yield
        finally:
            with self._locked(None), self._sql_errors():
                self.conn.execute("SELECT pg_advisory_unlock(%s, hashtext(current_schema()))", (LOCK_CLASS,))

    def verify(self) -> None:
        """Nothing to check here: the server keeps its own pages whole (checksums, WAL)."""

    def compact(self) -> None:
        """Drop the deleted documents' markers (a session that saw none of them reads the
        store anew) and let the server reclaim the space."""
        with self._locked(None):
            with self._in_commit(None):
                self._catch_up()
                server.forget_deletions(self.conn, self.schema.tables)
            self._vacuum(set(self.schema.tables), full=False)

    def files(self) -> list[Path]:
        """None: the store is on the server."""
        return []

    def server_lookups(self) -> ServerLookups:
        """Lookups asked of the server (`keys`), on the session's readers (two statements of
        one lookup at once): they read what is committed, which under the store's lock is the
        state this session caught up with."""
        return _Lookups(self)

    def page_reads(self) -> PageReads:
        """The session's connection for the pages of its tables, read on the server."""
        return self.pages

    def close(self) -> None:
        """Every commit is on the server already."""
        if self._listener is not None:
            self._listener.stop()
        try:
            for reader in self.readers:
                reader.closed = True  # (both at once: each then waits for its own statement alone)
            for reader in self.readers:
                reader.close()
        finally:
            self.pages.close()
            self.conn.close()

    # -- the lifecycle's steps, locks and errors --------------------------------------
    @contextmanager
    def _locked(self, wait: float | None) -> Iterator[None]:
        """This process's threads take turns on the one connection (made again, and the store
        read anew, when the last statement found it lost: a restarted server)."""
        with self._turn(wait):
            if self.conn.broken:
                self._reconnect()
            yield

    @contextmanager
    def _in_commit(self, wait: float | None) -> Iterator[None]:
        """One SQL transaction under the store's advisory lock."""
        with self._sql_errors(), self.conn.transaction():
            self._lock(wait)
            yield

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """One consistent snapshot of the server, read without waiting for its writers."""
        with self._sql_errors(), self._consistent_read():
            yield

    def _write(self, tx: Transaction, *, rewrite: bool) -> set[str]:
        """Write the transaction's documents (`writes`); returns the tables written (none:
        nothing changed). `rewrite` is done once the commit is in (`_committed`)."""
        return writes.write(self.conn, tx, self.seq + 1, self.schema, where=self.where, channel=self.channel)

    def _committed(self, written: set[str], *, rewrite: bool) -> None:
        """`rewrite`: every table is rewritten (VACUUM FULL), so no old version of a row
        stays anywhere: not of the rows this commit changed, nor of rows deleted earlier
        (a prospect activated into the customer now obfuscated), as a store file's rewrite."""
        self.seq += 1
        for table in written:  # (an import's rows, held until now: the server has them)
            if isinstance(rows := self.tables[table], Table):
                rows.settle()
        self._fold_written(written)
        if rewrite:
            self._vacuum(set(self.tables), full=True)

    def _reconnect(self) -> None:
        self.conn = connect(self.url)
        with self._sql_errors():
            self._start_session()
        if self._listener is not None and not self._listener.is_alive():
            self._listener = Listener(self.url, self.channel, self._listener.heard)
            self._listener.start()

    def _lock(self, wait: float | None, *, session: bool = False) -> None:
        """Take the store's advisory lock: for the transaction, or (`session`) until unlocked."""
        wait = self.lock_timeout if wait is None else wait
        kind = "" if session else "xact_"
        if wait <= 0:
            taken = self.conn.execute(f"SELECT pg_try_advisory_{kind}lock(%s, hashtext(current_schema()))",
                                      (LOCK_CLASS,)).fetchone()
            if not (taken and taken[0]):
                raise self._busy()
            return
        self.conn.execute("SELECT set_config('lock_timeout', %s, %s)", (f"{max(1, round(wait * 1000))}ms", not session))
        try:
            self.conn.execute(f"SELECT pg_advisory_{kind}lock(%s, hashtext(current_schema()))", (LOCK_CLASS,))
        except psycopg.errors.LockNotAvailable:
            raise self._busy() from None
        finally:
            if session:
                self.conn.execute("SELECT set_config('lock_timeout', '0', false)")

    @contextmanager
    def _sql_errors(self) -> Iterator[None]:
        """The server's refusals as the store's: one line naming the database."""
        try:
            yield
        except psycopg.errors.LockNotAvailable:
            raise self._busy() from None
        except psycopg.errors.UntranslatableCharacter as err:
            if "has no equivalent in encoding" in str(err):  # (a database of a narrower encoding than UTF-8)
                raise StoreError(f"{self.where}: a value holds a character the database's encoding cannot store "
                                 f"({first_line(err)}); nothing was changed") from None
            raise StoreError(f"{self.where}: a value holds the character NUL (\\x00), which PostgreSQL cannot store; "
                             "nothing was changed") from None
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as err:
            raise StoreError(f"{self.where}: the server stopped this for another session's work "
                             f"({first_line(err)}); nothing was changed: try again") from None
        except psycopg.Error as err:
            if lost(err):
                raise StoreError(f"{self.where}: the database server is unreachable ({first_line(err)}); "
                                 "nothing was changed: try again") from None
            raise StoreError(f"{self.where}: the database refused the change ({first_line(err)}); "
                             "nothing was changed") from None

    @contextmanager
    def statement(self) -> Iterator[psycopg.Connection[Any]]:
        """The connection for one statement of this process's (`blobs`): in the commit's SQL
        transaction when one is open on this thread."""
        with self._locked(None), self._sql_errors():
            yield self.conn

    @contextmanager
    def _consistent_read(self) -> Iterator[None]:
        with self.conn.transaction():
            self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield

    def _load(self) -> None:
        """Read the store (in the caller's consistent snapshot): the small tables whole (but
        those read when needed, `Schema.read_when_needed`); of each large table nothing yet.
        Its decoded fields and its documents are read when first needed, and until its
        documents are needed whole, each is read alone: a session on ten million customers
        holds only what it shows and changes."""
        seq, _horizon = server.state(self.conn)
        tables: Tables = empty_tables(self.schema)
        for name in self.schema.tables:
            if name in self.schema.columns:
                fields = self.schema.columns[name]
                tables[name] = Table(fields, text=partial(self._later, read_texts, name),
                                     read_columns=partial(self._later, read_columns, name),
                                     read_one=partial(self._later, read_text, name),
                                     read_some=partial(self._later, read_texts, name),
                                     read_order=partial(self._later, read_order, name),
                                     read_holding=partial(self._later, read_holding, name))
            elif name in self.schema.read_when_needed:
                tables[name] = Table({}, text=partial(self._later, read_texts, name), read_one=partial(self._later, read_text, name),
                                     read_some=partial(self._later, read_texts, name))
            else:
                tables[name] = {doc_id: orjson.loads(text) for doc_id, text in read_texts(self.conn, name).iter_rows()}
        self.replace_tables(tables)
        self.seq = seq

    def count_committed(self, table: str) -> tally.Tally:
        """Counted by the server (a store kept before a count was: once): the session holds
        no table whole to count."""
        return self._later(count_table, table, self.schema.tallies[table])

    def _later(self, read: Callable[..., T], *args: Any) -> T:
        """What `read` reads of a large table when first needed, on a connection of its own:
        whichever thread needs it, it waits for no commit (it reads what is committed; documents
        committed since we caught up are caught up again, the same or newer)."""
        return self.read_on(self.readers[0], read, *args)

    def read_on(self, reader: _Reader, read: Callable[..., T], *args: Any) -> T:
        """`_later` on `reader`."""
        with self._sql_errors():
            return reader.read(read, *args)

    def _catch_up(self) -> bool:
        seq, horizon = server.state(self.conn)
        if seq == self.seq:
            return False
        if horizon > self.seq or seq < self.seq:  # deletions we would miss, or another store now
            self._load()
            return True
        rows = changed_since(self.conn, self.schema.tables, self.seq, BULK_CHANGES + 1)
        if len(rows) > BULK_CHANGES:
            # Another session's import: reading the store again costs less than catching up
            # (the large tables are read when first needed, as at open).
            self._load()
            return True
        for table, doc_id, text in rows:
            self.set_in_memory(table, doc_id, None if text is None else orjson.loads(text))
        self.seq = seq
        return True

    def _fold_written(self, tables: set[str]) -> None:
        # The embedded engine turns written documents back into text when it writes a
        # snapshot; here nothing does, so a table does it once it holds many.
        for table in tables:
            rows = self.tables[table]
            if isinstance(rows, Table) and rows.written_count() > FOLD_WRITTEN:
                rows.fold()

    def _vacuum(self, tables: set[str], *, full: bool) -> None:
        with self._sql_errors():
            for table in sorted(tables):
                self.conn.execute(sql.SQL("VACUUM (FULL {}) {}").format(sql.SQL("true" if full else "false"),
                                                                        sql.Identifier(table)))


class _Reader:
    """A connection of its own, made when first needed and again when found lost; none
    after `close`."""

    def __init__(self, url: str, where: str) -> None:
        self.url, self.where = url, where
        self.conn: psycopg.Connection[Any] | None = None
        self.lock = threading.Lock()
        self.closed = False

    def read(self, read: Callable[..., T], *args: Any) -> T:
        with self.lock:
            # (a read of a closed store would leave a connection no one closes, or run a
            # statement none cancels: a thread waiting for the lock may take it before `close`)
            self._refuse_if_closed()
            if self.conn is not None:
                try:
                    return self._asked(self.conn, read, args)
                except psycopg.Error as err:
                    if not lost(err):  # (the server refusing the statement: asked again, the same)
                        raise
                self.conn.close()  # (lost since: a read is safe to repeat)
                self.conn = None
                self._refuse_if_closed()
            conn = connect(self.url)
            if self.closed:  # (closed while connecting: `close` had no connection to cancel)
                conn.close()
                self._refuse_if_closed()
            self.conn = conn
            return self._asked(conn, read, args)

    def _refuse_if_closed(self) -> None:
        if self.closed:
            raise StoreError(f"{self.where}: the store was closed")

    def _asked(self, conn: psycopg.Connection[Any], read: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            return read(conn, *args)
        except psycopg.Error:
            self._refuse_if_closed()  # (its statement cancelled by `close`)
            raise

    def close(self) -> None:
        """Closed once its statement in flight, if any, is over (a lookup on a worker thread),
        cancelled each `CLOSE_WAIT` seconds it is not (a table read whole): a connection closed
        under a statement on another thread is not safe in libpq."""
        self.closed = True
        while not self.lock.acquire(timeout=CLOSE_WAIT):
            conn = self.conn
            if conn is not None:
                with contextlib.suppress(psycopg.Error):  # (a server gone: the statement fails by itself)
                    conn.cancel_safe(timeout=CLOSE_WAIT)  # (made to be called from another thread)
        try:
            if self.conn is not None:
                self.conn.close()
                self.conn = None
        finally:
            self.lock.release()


class _Lookups:
    """`ServerLookups` of one session (`PgDatabase.server_lookups`): asked from two threads
    at once, each is answered on a reader of its own (the session's two, shared by every
    lookup object it makes)."""

    def __init__(self, db: PgDatabase) -> None:
        self.db = db
        self._kept = keys.KeptAnswers()

    def holders(self, table: str, wanted: list[str]) -> list[tuple[int, list[str]]]:
        if not self.db.storable("".join(wanted)):  # (all looked at once: a million keys one by one took 0.15 s)
            wanted = [key for key in wanted if self.db.storable(key)]  # (a key the database cannot hold, no document holds)
        if not wanted:
            return []
        asked = orjson.dumps(wanted).decode()
        kept = self._kept.given(table, asked)
        reader = self.db.free_readers.get()
        try:
            # (the last commit asked of the server: a round trip, where the keys' probes take
            # 0.4 s for 50,000 at 10,000,000 customers)
            if kept is not None and kept[0] == self.db.read_on(reader, keys.last_commit):
                return kept[1]
            commit, found = self.db.read_on(reader, keys.holders, table, asked)
        finally:
            self.db.free_readers.put(reader)
        self._kept.keep(table, wanted, asked, commit, found)
        return found

    def children(self, table: str, owner_id: int) -> list[int]:
        return self.db._later(keys.children, self.db.schema, table, owner_id)

    def shared(self, tables: list[str], names: list[str], most: int) -> list[tuple[str, list[tuple[str, int]]]]:
        with session(self.db.url) as conn:  # (a connection of its own: half a minute at millions)
            return keys.shared(conn, tables, names, most)
