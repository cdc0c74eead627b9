"""The store on a PostgreSQL server: `--db postgresql://user@host:port/database`.

The tables live in memory as with the embedded engine (`memory`); the server,
not a file, makes them durable and shares them between machines:

- Every store table is a SQL table `(id, rev, seq, updated_at, doc jsonb)` in
  the connection's schema (one database holds several stores, a schema each:
  `?options=-csearch_path%3Dshop2`). `doc` NULL marks a deleted document until
  `compact`: sessions catching up must learn of the deletion.
- A commit is one SQL transaction under an advisory lock (the embedded file
  lock's counterpart): catch up, run the verb in memory, COPY its documents
  into a staging table, then write them set-based. An update or delete
  matches `id` and the `rev` the verb read, so a row changed behind the lock
  is refused by the server, never overwritten. The journal's entries are
  documents of the same commit.
- `custdesk_state.seq` numbers the commits and every row carries the seq that
  last wrote it: catching up reads the rows `WHERE seq > last`. Each commit
  NOTIFYs the seq it wrote, so a listening app catches up at once.
"""
from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import psycopg
from psycopg import sql

from store.engine.blobs import TableBlobs
from store.engine.lifecycle import Backend
from store.engine.location import without_password
from store.engine.pg_connect import connect, first_line
from store.engine.schema import Schema
from store.engine.snapshot import Tables, empty_tables
from store.engine.table import Table, dumps
from store.engine.transaction import Transaction
from store.errors import ConcurrentChange, StoreError

STATE = "custdesk_state"
STAGING = "custdesk_staging"
LOCK_CLASS = 0x637364  # the advisory lock's first key ("csd"); the second is the schema's hash
# A catch-up of more changes than this (and a quarter of the store) reads the whole store instead.
BULK_CHANGES = 20_000
# Documents a table keeps as dicts (written since it was read) before they are turned back into text.
FOLD_WRITTEN = 20_000
_STAGED = {"tbl": pl.String(), "id": pl.Int64(), "old_rev": pl.Int64(), "rev": pl.Int64(), "doc": pl.String()}
_TEXTS = {"id": pl.Int64(), "doc": pl.String()}


class PgDatabase(Backend):
    def __init__(self, url: str, schema: Schema, *, lock_timeout: float = 15.0) -> None:
        super().__init__(schema)
        self.url, self.where = url, without_password(url)
        self.lock_timeout = lock_timeout
        self.seq = 0
        self._heard = 0
        self._listener: _Listener | None = None
        self._reader: psycopg.Connection[Any] | None = None
        self._reader_lock = threading.Lock()
        self.blobs = TableBlobs(self, f"custdesk_{schema.blobs}")
        self.conn = connect(url)
        with self._sql_errors():
            self._start_session()

    def _start_session(self) -> None:
        """Know the schema, make the store's tables when missing, read everything."""
        self.pg_schema = self.conn.execute("SELECT current_schema()").fetchone()[0]  # type: ignore[index]
        if self.pg_schema is None:
            raise StoreError(f"{self.where}: the search_path names no schema that exists")
        self.channel = f"custdesk:{self.pg_schema}"[:63]
        if not self._complete(self._present()):
            with self._in_commit(None):
                self._create(self._present())
                self.blobs.create()
        self.conn.execute(f"CREATE TEMP TABLE {STAGING} (tbl text, id bigint, old_rev bigint, rev bigint, doc jsonb)"
                          " ON COMMIT DELETE ROWS")
        with self._consistent_read():
            self._load()

    # -- the engine's verbs (`transaction` and `refresh` are the lifecycle's: `Backend`) --
    def changed_on_disk(self) -> bool:
        """Whether another session committed since we last looked: what the listener
        heard (`watch`), else one small query."""
        if self._listener is not None and self._listener.is_alive():
            return self._heard > self.seq
        with self._locked(None), self._sql_errors():
            return self._state()[0] != self.seq

    def watch(self, changed: Callable[[], None]) -> None:
        """Call `changed` (from another thread) whenever another session commits."""
        def heard(seq: int) -> None:
            self._heard = max(self._heard, seq)
            if seq > self.seq:
                changed()
        if self._listener is None:
            self._listener = _Listener(self.url, self.channel, heard)
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
                for table in self.schema.tables:
                    self.conn.execute(sql.SQL("DELETE FROM {} WHERE doc IS NULL").format(sql.Identifier(table)))
                self.conn.execute(f"UPDATE {STATE} SET horizon = seq")
            self._vacuum(set(self.schema.tables), full=False)

    def files(self) -> list[Path]:
        """None: the store is on the server."""
        return []

    def close(self) -> None:
        """Every commit is on the server already."""
        if self._listener is not None:
            self._listener.stop()
        if self._reader is not None:
            self._reader.close()
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

    def _committed(self, written: set[str], *, rewrite: bool) -> None:
        """`rewrite`: the tables the commit changed are rewritten (VACUUM FULL), so no old
        version of a row stays in them."""
        self.seq += 1
        self._fold_written(written)
        if rewrite:
            self._vacuum(written, full=True)

    def _reconnect(self) -> None:
        self.conn = connect(self.url)
        with self._sql_errors():
            self._start_session()
        if self._listener is not None and not self._listener.is_alive():
            self._listener = _Listener(self.url, self.channel, self._listener.heard)
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
        except psycopg.errors.UntranslatableCharacter:
            raise StoreError(f"{self.where}: a value holds the character NUL (\\x00), which PostgreSQL cannot store; "
                             "nothing was changed") from None
        except psycopg.OperationalError as err:
            raise StoreError(f"{self.where}: the database server is unreachable ({first_line(err)}); "
                             "nothing was changed: try again") from None
        except psycopg.Error as err:
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

    # -- the tables on the server ----------------------------------------------------
    def _present(self) -> set[str]:
        """The tables of the connection's schema."""
        return {str(row[0]) for row in self.conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}

    def _complete(self, present: set[str]) -> bool:
        """Whether every table of the store is there (then opening makes nothing)."""
        return {STATE, *self.schema.tables, self.blobs.name} <= present

    def _create(self, present: set[str]) -> None:
        """The store's tables, made when missing, under the lock (two first sessions at once)."""
        foreign = [t for t in self.schema.tables if t in present]
        if STATE not in present and foreign:
            raise StoreError(f"{self.where}: schema '{self.pg_schema}' already has a table '{foreign[0]}' that is not "
                             "a custdesk store's; choose another database or schema")
        self.conn.execute(f"CREATE TABLE IF NOT EXISTS {STATE} (one boolean PRIMARY KEY DEFAULT true CHECK (one), "
                          "seq bigint NOT NULL, horizon bigint NOT NULL, schema_version integer NOT NULL)")
        self.conn.execute(f"INSERT INTO {STATE} (seq, horizon, schema_version) VALUES (0, 0, %s) "
                          "ON CONFLICT DO NOTHING", (self.schema.version,))
        for table in self.schema.tables:
            name = sql.Identifier(table)
            self.conn.execute(sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (id bigint PRIMARY KEY, rev bigint NOT NULL, seq bigint NOT NULL, "
                "updated_at timestamptz NOT NULL DEFAULT now(), doc jsonb)").format(name))
            self.conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (seq)").format(
                sql.Identifier(f"{table}_seq"), name))
            for field in self._indexed_fields(table):
                # Hash: keys are looked up by equality, and a hash insert compares no text under the
                # database's collation (btrees on the keys took a third of a 100k import's commit;
                # hash ones two thirds of that). Partial: a document
                # without the field costs nothing (most have no VAT id or mobile); `doc ->> 'email' = …`
                # implies the condition, so lookups use it.
                self.conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING hash ((doc ->> {})) "
                                          "WHERE (doc ->> {}) IS NOT NULL").format(
                    sql.Identifier(f"{table}_{field}"), name, sql.Literal(field), sql.Literal(field)))

    def _indexed_fields(self, table: str) -> list[str]:
        """The fields looked up by key (email, phone, number …) and the owner's id."""
        held = self.schema.columns.get(table, {})
        keys = [f for f in self.schema.keys if f in held] if table in self.schema.keyed_tables else []
        return keys + [f for f in (self.schema.owner_field,) if f in held]

    def _state(self) -> tuple[int, int]:
        row = self.conn.execute(f"SELECT seq, horizon FROM {STATE}").fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def _load(self) -> None:
        """Read the store (in the caller's consistent snapshot): the small tables whole; of the
        customers and prospects, the fields the first screen shows; every large table's
        documents when first needed, as the embedded store reads them from its file."""
        seq, _horizon = self._state()
        tables: Tables = empty_tables(self.schema)
        for name in self.schema.tables:
            if name in self.schema.columns:
                fields = self.schema.columns[name]
                columns = read_columns(self.conn, name, fields) if name in self.schema.keyed_tables else None
                tables[name] = Table(fields, text=partial(self._later_texts, name), columns=columns)
            else:
                tables[name] = {doc_id: orjson.loads(text) for doc_id, text in read_texts(self.conn, name).iter_rows()}
        self.replace_tables(tables)
        self.seq = seq

    def _later_texts(self, table: str) -> pl.DataFrame:
        """A large table's documents, read when first needed, on a connection of their own:
        whichever thread needs them, it waits for no commit (it reads what is committed;
        documents committed since we caught up are caught up again, the same or newer)."""
        with self._reader_lock, self._sql_errors():
            if self._reader is not None:
                with contextlib.suppress(psycopg.OperationalError):  # (lost since: a read is safe to repeat)
                    return read_texts(self._reader, table)
                self._reader.close()
            self._reader = connect(self.url)
            return read_texts(self._reader, table)

    def _catch_up(self) -> bool:
        seq, horizon = self._state()
        if seq == self.seq:
            return False
        if horizon > self.seq or seq < self.seq:  # deletions we would miss, or another store now
            self._load()
            return True
        rows = self.conn.execute(self._changed_since(), {"seq": self.seq}).fetchall()
        if len(rows) > BULK_CHANGES and len(rows) > self.document_count() // 4:
            self._load()
            return True
        for table, doc_id, text in rows:
            self.set_in_memory(table, doc_id, None if text is None else orjson.loads(text))
        self.seq = seq
        return True

    def _changed_since(self) -> sql.Composed:
        return sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {}::text, id, doc::text FROM {} WHERE seq > %(seq)s").format(sql.Literal(t), sql.Identifier(t))
            for t in self.schema.tables)

    def _write(self, tx: Transaction, *, rewrite: bool) -> set[str]:
        """Write the transaction's documents; returns the tables written (none: nothing changed)."""
        staged = self._staged(tx)
        fresh = [(table, block) for table, block in tx.inserted() if block.height]
        if staged.height == 0 and not fresh:
            return set()
        seq = self.seq + 1
        with self.conn.cursor() as cur:
            for table, block in fresh:
                # Documents `insert_rows` numbered after every id ever given: nothing to match
                # them against, so they go straight into their table (an import's 100k rows).
                rows = block.select("id", pl.lit(1).alias("rev"), pl.lit(seq).alias("seq"), "doc")
                with cur.copy(sql.SQL("COPY {} (id, rev, seq, doc) FROM STDIN (FORMAT csv)").format(
                        sql.Identifier(table))) as copy:
                    copy.write(rows.write_csv(include_header=False))
            if staged.height:
                with cur.copy(f"COPY {STAGING} (tbl, id, old_rev, rev, doc) FROM STDIN (FORMAT csv)") as copy:
                    copy.write(staged.write_csv(include_header=False))
            for table, statement, expected in self._statements(staged):
                cur.execute(statement, {"seq": seq, "tbl": table})
                if cur.rowcount != expected:
                    raise ConcurrentChange(f"{self.where}: {expected - cur.rowcount:,} record(s) of '{table}' were "
                                           "changed by someone else meanwhile; nothing was saved: try again")
            cur.execute(f"UPDATE {STATE} SET seq = %s", (seq,))
            cur.execute("SELECT pg_notify(%s, %s)", (self.channel, str(seq)))
        return set(staged["tbl"].unique()) | {table for table, _block in fresh}

    def _staged(self, tx: Transaction) -> pl.DataFrame:
        """(table, id, rev before, rev after, document as JSON) of every document written but
        those `insert_rows` added; absent before: no old rev; deleted: no document."""
        rows = [(table, doc_id, None if old is None else old.get("rev", 0), None if new is None else new.get("rev", 0),
                 None if new is None else dumps(new).decode()) for table, doc_id, old, new in tx.written()]
        return pl.DataFrame(rows, schema=_STAGED, orient="row")

    def _statements(self, staged: pl.DataFrame) -> Iterator[tuple[str, sql.Composed, int]]:
        """Per table: the inserts, updates and deletes, each one set-based statement, with how
        many rows each must touch. Updates and deletes match the rev the verb read."""
        kinds = staged.group_by("tbl").agg(
            (pl.col("old_rev").is_null() & pl.col("doc").is_not_null()).sum().alias("insert"),
            (pl.col("old_rev").is_not_null() & pl.col("doc").is_not_null()).sum().alias("update"),
            pl.col("doc").is_null().sum().alias("delete"))
        for table, inserts, updates, deletes in kinds.iter_rows():
            name = sql.Identifier(table)
            if inserts:
                # (a document undone back into existence takes the place of its deletion marker)
                yield table, sql.SQL(
                    "INSERT INTO {} AS t (id, rev, seq, doc) SELECT id, rev, %(seq)s, doc FROM " + STAGING +
                    " WHERE tbl = %(tbl)s AND old_rev IS NULL AND doc IS NOT NULL ON CONFLICT (id) DO UPDATE "
                    "SET rev = excluded.rev, seq = excluded.seq, doc = excluded.doc, updated_at = now() "
                    "WHERE t.doc IS NULL").format(name), inserts
            if updates:
                yield table, sql.SQL(
                    "UPDATE {} AS t SET rev = s.rev, seq = %(seq)s, doc = s.doc, updated_at = now() FROM " + STAGING +
                    " s WHERE s.tbl = %(tbl)s AND s.old_rev IS NOT NULL AND s.doc IS NOT NULL AND t.id = s.id "
                    "AND t.rev = s.old_rev AND t.doc IS NOT NULL").format(name), updates
            if deletes:
                yield table, sql.SQL(
                    "UPDATE {} AS t SET seq = %(seq)s, doc = NULL, updated_at = now() FROM " + STAGING +
                    " s WHERE s.tbl = %(tbl)s AND s.doc IS NULL AND t.id = s.id AND t.rev = s.old_rev "
                    "AND t.doc IS NOT NULL").format(name), deletes

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


def read_texts(conn: psycopg.Connection[Any], table: str) -> pl.DataFrame:
    """(id, doc as JSON text) of the table's documents, in id order."""
    query = sql.SQL("COPY (SELECT id, doc::text FROM {} WHERE doc IS NOT NULL ORDER BY id) "
                    "TO STDOUT (FORMAT csv)").format(sql.Identifier(table))
    return _copied(conn, query, _TEXTS)


def read_columns(conn: psycopg.Connection[Any], table: str, fields: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """The decoded fields (`Schema.columns`) of the table's documents, taken out by the server
    (no document is sent whole): what decoding each document would give."""
    exprs = [sql.SQL("id"), *(_field_sql(name, dtype) for name, dtype in fields.items())]
    query = sql.SQL("COPY (SELECT {} FROM {} WHERE doc IS NOT NULL ORDER BY id) TO STDOUT (FORMAT csv)").format(
        sql.SQL(", ").join(exprs), sql.Identifier(table))
    raw = _copied(conn, query, {"id": pl.Int64(), **{name: pl.String() for name in fields}})
    return raw.select("id", *(_typed(pl.col(name), dtype).alias(name) for name, dtype in fields.items()))


def _field_sql(name: str, dtype: pl.DataType) -> sql.Composable:
    field = sql.Literal(name)
    if dtype == pl.String:
        return sql.SQL("doc ->> {}").format(field)
    if dtype in (pl.Boolean, pl.Int64):  # (a value of another JSON type decodes as null)
        kind = sql.Literal("boolean" if dtype == pl.Boolean else "number")
        return sql.SQL("CASE jsonb_typeof(doc -> {}) WHEN {} THEN doc ->> {} END").format(field, kind, field)
    return sql.SQL("(doc -> {})::text").format(field)  # a list or an object: its JSON, decoded here


def _typed(text: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:
        return text
    if dtype == pl.Boolean:
        return text == "true"
    if dtype == pl.Int64:
        return text.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)
    return text.str.json_decode(dtype)


def _copied(conn: psycopg.Connection[Any], query: sql.Composed, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    with conn.cursor() as cur, cur.copy(query) as copy:
        data = b"".join(bytes(block) for block in copy)
    if not data:
        return pl.DataFrame(schema=schema)
    return pl.read_csv(io.BytesIO(data), has_header=False, schema=schema)


class _Listener(threading.Thread):
    """LISTENs on the store's channel on a connection of its own; `heard(seq)` per commit."""

    def __init__(self, url: str, channel: str, heard: Callable[[int], None]) -> None:
        super().__init__(name="custdesk-listen", daemon=True)
        self.url, self.channel, self.heard = url, channel, heard
        self.ready = threading.Event()
        self._stopping = threading.Event()

    def run(self) -> None:
        # A lost connection ends the thread: `changed_on_disk` then asks the server itself.
        with contextlib.suppress(psycopg.Error, StoreError), connect(self.url) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.ready.set()
            while not self._stopping.is_set():
                for note in conn.notifies(timeout=0.5):
                    with contextlib.suppress(ValueError):
                        self.heard(int(note.payload))
        self.ready.set()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=2)
