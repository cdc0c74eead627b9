"""The store's tables as every engine keeps them in memory: read from there, written
there first by a transaction, and made durable by the engine (a file, a server)."""
from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from store.engine import tallies as tally
from store.engine.indexes import Indexes, ServerLookups
from store.engine.saved_keys import SavedKeys
from store.engine.schema import META, META_ID, Schema
from store.engine.snapshot import Tables, empty_tables
from store.engine.table import Table

if TYPE_CHECKING:
    from store.base.json_rows import ObjectTexts
    from store.engine.pages import PageReads


def empty_meta(version: int) -> dict[str, Any]:
    return {"seq": 0, "next_ids": {}, "counters": {}, "schema_version": version}


# From this many documents written since the snapshot, a table read whole keeps them as text.
FOLD_IN_MEMORY = 1_000
# The changed ids of a table kept for a reader until it takes them (`take_changes`); past
# this, it is told that everything changed (a selection's reader takes them only while there
# is one: a day of other sessions' commits would pile up).
CHANGES_HELD = 100_000


class InMemory:
    """Tables, indexes and the record of what changed; what `Transaction` writes to."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._mutex = threading.RLock()
        self.tables: Tables = empty_tables(schema)
        self.indexes = Indexes(self.tables, schema, self._mutex, counted=self._counted)
        # Per reader (the app's views, the matcher …): the documents changed since it last took
        # them, by table; None when everything must be read again.
        self._changes: dict[str, dict[str, set[int]] | None] = {}

    @property
    def meta(self) -> dict[str, Any]:
        return self.tables[META].get(META_ID) or empty_meta(self.schema.version)

    def _counted(self, table: str) -> int | None:
        """How many documents the table holds as of the last commit, when the store counts it
        (a store never committed to holds none)."""
        meta = self.tables[META].get(META_ID)
        if meta is None:
            return 0
        held = (meta.get("tallies") or {}).get(table)
        return held.get("*") if isinstance(held, dict) else None

    def tallies(self) -> Mapping[str, Any]:
        """The counts kept with every commit (`Schema.tallies`), by table; a table of a store
        written before counts were kept is counted now (one kept before some of its counts
        were has them counted at its next write, `Transaction`: a read of the counts, at
        every redraw, must not count ten million customers)."""
        found: dict[str, Any] = dict(self.meta.get("tallies") or {})
        for table in self.schema.tallies.keys() - found.keys():
            found[table] = self.count_committed(table)
        return found

    def count_committed(self, table: str) -> tally.Tally:
        """The table's counts as committed, where the store kept none (or not all): counted
        once (a server counts its own table)."""
        return self.count_table(table)

    def count_table(self, table: str) -> tally.Tally:
        rows = self.tables[table]
        return tally.count(rows, rows.frame() if isinstance(rows, Table) else None, self.schema.tallies[table])

    def prepare(self, tables: tuple[str, ...], key_tables: tuple[str, ...], child_tables: tuple[str, ...]) -> None:
        """Read these tables' text (unless their documents are read from the file one by one,
        `Table.load_unless_located`) and build these indexes now (else done when first
        needed). Under the mutex: a thread doing this must not race a commit's writes."""
        with self._mutex:
            for table in tables:
                rows = self.tables[table]
                if isinstance(rows, Table):
                    rows.load_unless_located()
                    if rows.written_count() >= FOLD_IN_MEMORY:
                        rows.fold()  # (the change log replayed at open: 100k prospects held 400 MB)
            self.indexes.build_all(key_tables, child_tables)

    def frame(self, table: str, ids: Iterable[int] | None = None) -> pl.DataFrame:
        """The decoded fields (`Schema.columns`) of a large table's documents, all or these."""
        return self._large(table).frame(ids)

    def docs(self, table: str, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """Of a large table, the documents of these ids that exist, read at once (`Table.docs`)."""
        return self._large(table).docs(ids)

    def ids_by(self, table: str, field: str) -> pl.Series:
        """Of a large table, every document's id by a text field's bytes, then id (`Table.ids_by`)."""
        return self._large(table).ids_by(field)

    def ids_holding(self, table: str, field: str, values: Collection[int | str]) -> list[int]:
        """Of a large table, the ids of the documents whose field holds one of these values (`Table.ids_holding`)."""
        return self._large(table).ids_holding(field, values)

    def _large(self, table: str) -> Table:
        rows = self.tables[table]
        assert isinstance(rows, Table), f"{table} keeps no decoded fields"
        return rows

    def server_lookups(self) -> ServerLookups | None:
        """Where the documents' keys are looked up on a server (`Indexes`); None: in memory."""
        return None

    def page_reads(self) -> PageReads | None:
        """Where the pages of the tables are read on a server (`Engine.page_reads`); None
        here: the tables are read from memory."""
        return None

    def state(self) -> tuple[str, int] | None:
        """What a file kept beside the store is tagged with (`Database.state`); None here: a
        backend with no files keeps nothing beside them."""
        return None

    def changes_since(self, state: tuple[str, int]) -> dict[str, set[int]] | None:
        """The documents changed since `state`, by table (`Database.changes_since`); None: unknown."""
        return None

    def side_file(self, suffix: str) -> Path | None:
        """Where a file derived from the store is kept beside it (`Database.side_file`); None: nowhere."""
        return None

    def saved_keys(self) -> SavedKeys | None:
        """The keys of the snapshot's documents kept beside it (`Database.saved_keys`); None here."""
        return None

    def take_changes(self, reader: str = "views") -> dict[str, set[int]] | None:
        """The documents changed (here or by catch-up) since `reader` last took them, by table;
        None when the whole store was reloaded, or on a reader's first call. For views and
        indexes that rebuild only what changed."""
        with self._mutex:
            changes = self._changes.get(reader)
            self._changes[reader] = {}
        return changes

    def _changed(self, table: str, ids: Iterable[int]) -> None:
        ids = ids if isinstance(ids, Collection) else list(ids)  # (read once per reader: a run's range is not listed)
        for reader, changes in list(self._changes.items()):  # (a reader may be added meanwhile, by another thread)
            if changes is not None:
                held = changes.setdefault(table, set())
                held.update(ids)
                if len(held) > CHANGES_HELD:  # (a reader that takes them seldom: told everything changed)
                    self._changes[reader] = None

    def _everything_changed(self) -> None:
        self._changes = dict.fromkeys(self._changes)

    def replace_tables(self, tables: Tables) -> None:
        """Everything read anew: indexes are built again when first needed, views rebuild."""
        self.tables = tables
        self.indexes = Indexes(self.tables, self.schema, self._mutex, self.saved_keys(), self.server_lookups(),
                               self._counted)
        self._everything_changed()

    def set_in_memory(self, table: str, doc_id: int, doc: dict[str, Any] | None) -> None:
        """Put a document (None: remove it) in the tables and indexes; committing is the
        transaction's business (`Transaction`), catching up the engine's."""
        self._changed(table, (doc_id,))
        rows = self.tables[table]
        if self.indexes.tracks(table):
            self.indexes.update(table, doc_id, rows.get(doc_id), doc)
        if doc is None:
            rows.pop(doc_id, None)
        else:
            rows[doc_id] = doc

    def add_rows(self, table: str, ids: list[int], texts: ObjectTexts) -> None:
        """Add new documents to a large table and its indexes (`Transaction.insert_rows`)."""
        rows = self.tables[table]
        if not isinstance(rows, Table):
            raise TypeError(f"{table} keeps no decoded fields: its documents are inserted one by one")
        added = rows.extend(ids, texts)
        self._changed(table, ids)
        if not self.indexes.tracks(table):
            return  # (no index of it is built: nothing to add to, nor any table to count)
        if rows.reads_alone or len(ids) >= len(rows) - len(ids):
            # As many new documents as there were (or a table of a server, whose index was
            # built here while it was small): building the indexes again when next needed
            # costs no more than adding to them now, and nothing may need them (an import
            # into a new store, from the command line).
            self.indexes.forget(table)
        else:
            self.indexes.add_rows(table, added)

    def patch_rows(self, table: str, values: pl.DataFrame) -> None:
        """Change documents of a table read from a server field by field (`Transaction.patch`:
        `values`, their id and a column per field), its readers told."""
        rows = self.tables[table]
        assert isinstance(rows, Table)
        self._changed(table, values["id"].to_list())
        rows.patch(values)

    def unpatch(self, table: str, ids: Iterable[int]) -> None:
        """Undo `patch_rows` (a rolled-back transaction)."""
        rows = self.tables[table]
        assert isinstance(rows, Table)
        self._changed(table, ids)
        rows.unpatch()

    def remove_run(self, table: str, first: int, stop: int) -> dict[int, dict[str, Any] | None]:
        """Delete the documents of ids [first, stop) from a table read from a server
        (`Transaction.delete_run`); returns what `restore_run` puts back."""
        rows = self._run_table(table, first, stop)
        return rows.forget_run(first, stop)

    def restore_run(self, table: str, first: int, stop: int, held: Mapping[int, dict[str, Any] | None]) -> None:
        self._run_table(table, first, stop).recall_run(first, stop, held)

    def _run_table(self, table: str, first: int, stop: int) -> Table:
        """The table whose run of documents is deleted or put back, its readers told and its
        indexes built again when next needed."""
        rows = self.tables[table]
        assert isinstance(rows, Table)
        self._changed(table, range(first, stop))
        if self.indexes.tracks(table):
            self.indexes.forget(table)
        return rows

    def drop_rows(self, table: str, first: int) -> None:
        """Undo `add_rows` from id `first` on (a rolled-back transaction)."""
        rows = self.tables[table]
        assert isinstance(rows, Table)
        rows.drop_new(first)
        self.indexes.forget(table)
        self._everything_changed()  # readers rebuild everything: rare, and simplest to get right

    def document_count(self) -> int:
        return sum(len(rows) for rows in self.tables.values())
