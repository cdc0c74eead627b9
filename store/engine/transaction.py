"""One commit's changes: applied to the tables at once, remembered so that a failure
(or a savepoint's) puts every document back, and counted (`Schema.tallies`) as they go."""
from __future__ import annotations

import copy
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl

from store.base.errors import ConcurrentChange
from store.base.json_rows import JSON_TEXT, ObjectTexts
from store.engine import tallies as tally
from store.engine.schema import COUNTED_AT, META, META_ID, Schema, counts_trusted
from store.engine.table import Table

if TYPE_CHECKING:
    from store.engine.memory import InMemory

# More documents than this that `Transaction.patch` changes in a table read from a server
# are changed column-wise (fewer are put one by one: a journal entry lists their edits).
PATCHED_FROM = 1_000


class Transaction:
    """The changes of one verb; applied to memory at once, undone on failure."""

    def __init__(self, db: InMemory) -> None:
        self.db = db
        # Each document written one by one, as it was before the transaction (None: absent).
        # The documents `insert_rows` added are not in it (an import's 100k would make every
        # look over the changes walk them): they are `inserted_runs`, and `size` counts both.
        self.before: dict[tuple[str, int], dict[str, Any] | None] = {}
        self._meta: dict[str, Any] | None = None
        self._tallied = db.schema.tallies
        self._tallies: dict[str, tally.Tally] | None = None  # this transaction's, once touched
        self._savepoints: list[dict[tuple[str, int], dict[str, Any] | None]] = []
        # Documents inserted column-wise (`insert_rows`): (table, first id, stop id, their JSON
        # text with the fields it is written from); those written again afterwards are told
        # by `_rewritten`.
        self._blocks: list[tuple[str, int, int, ObjectTexts]] = []
        self._rewritten: set[tuple[str, int]] = set()
        # Runs of documents deleted column-wise (`delete_run`): (table, first id, stop id, their
        # rev, the documents of the run the session held before).
        self._deleted: list[tuple[str, int, int, int, dict[int, dict[str, Any] | None]]] = []
        # Documents changed field by field column-wise (`patch`): (table, their ids, their
        # id and new values with rev and schema version, row for row their id, rev read and
        # changed fields' JSON text before: null, absent).
        self._patched: list[tuple[str, set[int], pl.DataFrame, pl.DataFrame]] = []

    def get(self, table: str, doc_id: int) -> dict[str, Any] | None:
        return self.db.tables[table].get(doc_id)

    @contextmanager
    def reading_ahead(self, table: str, ids: Collection[int]) -> Iterator[None]:
        """Within it, these documents of a large table are read from a server together, not
        each alone (`Table.hold`): a verb over many chosen records."""
        rows = self.db.tables[table]
        if not isinstance(rows, Table):
            yield
            return
        previous = rows.hold(ids)
        try:
            yield
        finally:
            rows.let_go(previous)

    def table(self, name: str) -> Mapping[int, dict[str, Any]]:
        """The table as this transaction sees it (its own writes included)."""
        return self.db.tables[name]

    @property
    def meta(self) -> dict[str, Any]:
        if self._meta is None:
            current = self.db.meta
            self._meta = {**current, "next_ids": dict(current["next_ids"]), "counters": dict(current["counters"])}
            if "tallies" in current:
                self._meta["tallies"] = copy.deepcopy(current["tallies"])
        return self._meta

    def _count(self, table: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        # Runs for every write (100k times in an import): the lookups are kept at hand.
        fields = self._tallied.get(table)
        if fields is not None:
            tally.adjust(self._tally(table), fields, old, new)

    def _tally(self, table: str) -> tally.Tally:
        if self._tallies is None:
            self._tallies = self.meta.setdefault("tallies", {})
            # A store written before tallies (or before one of a table's, or by an older custdesk
            # since): count the table once, before this change.
            trusted = counts_trusted(self.db.meta)
            for table_name, names in self._tallied.items():
                if not trusted or not tally.complete(self._tallies.get(table_name), names):
                    self._tallies[table_name] = self.db.count_committed(table_name)
        return self._tallies[table]

    def next_id(self, table: str) -> int:
        doc_id: int = self.meta["next_ids"].get(table, 1)
        self.meta["next_ids"][table] = doc_id + 1
        return doc_id

    def next_counter(self, name: str) -> int:
        return self.take_counters(name, 1)[0]

    def take_counters(self, name: str, count: int) -> range:
        """The counter's next `count` values."""
        counters = self.meta["counters"]
        first: int = counters.get(name, 0) + 1
        counters[name] = first + count - 1
        return range(first, first + count)

    def _remember(self, table: str, doc_id: int) -> dict[str, Any] | None:
        if self._deleted and any(t == table and first <= doc_id < stop for t, first, stop, *_ in self._deleted):
            # (its deletion is written after the transaction's other writes, and undone apart from them)
            raise ValueError(f"{table} #{doc_id} was deleted with its run in this transaction: it is not written again")
        if self._patched and any(t == table and doc_id in ids for t, ids, *_ in self._patched):
            # (the patch is written after the transaction's other writes; its undo data holds the fields it changed only)
            raise ValueError(f"{table} #{doc_id} was patched column-wise in this transaction: it is not written again")
        inserted = bool(self._blocks) and self._in_block(table, doc_id)
        if inserted:
            self._rewritten.add((table, doc_id))
        current = self.db.tables[table].get(doc_id)
        self.before.setdefault((table, doc_id), None if inserted else current)  # (inserted: absent before)
        for marks in self._savepoints:
            marks.setdefault((table, doc_id), current)
        return current

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Part of a transaction that is undone alone if it fails (the rest stays)."""
        marks: dict[tuple[str, int], dict[str, Any] | None] = {}
        self._savepoints.append(marks)
        try:
            yield
        except BaseException:
            for (table, doc_id), doc in reversed(marks.items()):
                self.db.set_in_memory(table, doc_id, doc)
            self._rewritten.update(marks)
            for table in {t for t, _ in marks} & set(self.db.schema.tallies):
                if table in self.meta.get("tallies", {}):  # counted again, the documents being back
                    self.meta["tallies"][table] = self.db.count_table(table)
            raise
        finally:
            self._savepoints.remove(marks)

    def insert(self, table: str, doc: dict[str, Any]) -> int:
        doc_id = self.next_id(table)
        self.put(table, doc_id, doc)
        return doc_id

    def insert_rows(self, table: str, rows: pl.DataFrame, *, objects: Collection[str] = ()) -> list[int]:
        """Insert one new document per row of `rows` (a column per field; null: left out;
        the `objects`, struct columns, stored as objects of their fields that hold a value
        other than "": `json_rows.object_texts`), built,
        counted and indexed column-wise: an import's 100k documents without a dict each.
        Only into a large table (`Schema.columns`). Returns their ids, in row order."""
        first: int = self.meta["next_ids"].get(table, 1)
        ids = list(range(first, first + rows.height))
        if not ids:
            return ids
        self.meta["next_ids"][table] = first + rows.height
        docs = rows.with_columns(pl.lit(1).alias("rev"), pl.lit(self.db.schema.version).alias("schema_version"))
        texts = ObjectTexts(docs, frozenset(objects))
        if not (isinstance(held := self.db.tables[table], Table) and held.reads_alone):
            # (a table of a store file keeps every document's text: made once, here, not under
            # the table's lock nor again for the change log)
            texts = texts.built()
        fields = self._tallied.get(table)
        # (taken first: a table not counted yet is counted as it was, without these rows)
        counted = self._tally(table) if fields is not None else None
        self.db.add_rows(table, ids, texts)
        for marks in self._savepoints:
            marks.update(dict.fromkeys((table, doc_id) for doc_id in ids))
        self._blocks.append((table, first, first + rows.height, texts))
        if counted is not None and fields is not None:
            tally.add_rows(counted, fields, docs)
        return ids

    def fields(self, table: str, ids: Iterable[int], fields: Mapping[str, pl.DataType]) -> pl.DataFrame:
        """The id, rev and these fields of the documents of `ids` there are (each once, in the
        order given): of a table read from a server, read there column-wise, no document held
        (a verb over 90,000 chosen customers held each: 0.7 GB), unless this transaction
        wrote one of them; else from the documents."""
        wanted = list(dict.fromkeys(ids))
        schema = {"rev": pl.Int64(), **fields}
        rows = self.db.tables[table]
        found = None
        if isinstance(rows, Table) and not any((table, doc_id) in self.before for doc_id in wanted):
            found = rows.fields_of(wanted, schema)
        if found is None:
            with self.reading_ahead(table, wanted):
                docs = [(doc_id, self.get(table, doc_id)) for doc_id in wanted]
            found = pl.DataFrame([{"id": doc_id, **{field: doc.get(field) for field in schema}}
                                  for doc_id, doc in docs if doc is not None],
                                 schema={"id": pl.Int64(), **schema}, strict=False)
        order = pl.DataFrame({"id": wanted}, schema={"id": pl.Int64()})
        return order.join(found, on="id", how="inner", maintain_order="left")

    def patch(self, table: str, changes: pl.DataFrame, *, back: bool = False) -> None:
        """Change documents field by field: `changes` holds each one's id, the rev it was read
        at (`fields`) and a column per field changed, whose null leaves the field out (as
        `put` does); ConcurrentChange if one is no longer at that rev. `back`: put documents
        a patch changed back as they were (undo), their schema version among the fields and
        their rev one less, as `restore` does. More than `PATCHED_FROM` documents of a table
        read from a server, none of their fields indexed, are changed column-wise: written
        there as one statement (`patched`), none held, and counted from the fields changed;
        else (and for values of no one type: an `Object` column) each is put (or restored),
        read ahead."""
        fields = [name for name in changes.columns if name not in ("id", "rev")]
        rows = self.db.tables[table]
        counted = self._tallied.get(table)
        if counted:
            self._tally(table)  # (a store written before tallies counts the table first: read whole, it is no longer patched)
        if not self._column_wise(table, rows, changes, fields):
            self._patch_each(table, changes, back=back)
            return
        assert isinstance(rows, Table)
        # (a count of fields together that one changed reads the others too: the documents' keys before and after)
        touched = [name for name in counted or () if set(tally.fields_of(name)) & set(fields)]
        others = [f for f in dict.fromkeys(f for name in touched for f in tally.fields_of(name)) if f not in fields]
        read = rows.fields_of(changes["id"], {"rev": pl.Int64(), **dict.fromkeys([*fields, "schema_version", *others], JSON_TEXT)})
        assert read is not None
        joined = changes.select("id").join(read, on="id", how="left", maintain_order="left")  # (row for row)
        before = joined.drop(others)
        stale = _stale(changes, before)
        if stale:
            raise ConcurrentChange(f"{len(stale):,} {table} record(s) were changed by someone else meanwhile, "
                                   f"e.g. #{stale[0]}; try again")
        values = changes.with_columns(pl.col("rev") - 1) if back else changes.with_columns(
            pl.col("rev") + 1, pl.lit(self.db.schema.version).alias("schema_version"))
        if touched:
            old = [{f: None if text is None else orjson.loads(text) for f, text in row.items()}
                   for row in joined.select(*fields, *others).iter_rows(named=True)]
            new = [{**doc, **changed} for doc, changed in zip(old, changes.select(fields).iter_rows(named=True), strict=True)]
            tally.change_docs(self._tally(table), touched, old, new)
        self._patched.append((table, set(changes["id"].to_list()), values, before))
        self.db.patch_rows(table, values)

    def _column_wise(self, table: str, rows: Mapping[int, dict[str, Any]], changes: pl.DataFrame, fields: list[str]) -> bool:
        """Whether `patch` changes these documents column-wise: more than `PATCHED_FROM` of a
        table read from a server, no savepoint open, none of their fields indexed, values of
        one type each, and nothing else of the table written in this transaction."""
        return (changes.height > PATCHED_FROM and isinstance(rows, Table) and rows.patchable() and not self._savepoints
                and not set(fields) & _indexed(self.db.schema) and pl.Object not in changes.dtypes
                and not any(t == table for t, _doc_id in self.before) and not any(t == table for t, *_ in self._blocks)
                and not any(t == table for t, *_ in self._patched))

    def not_at(self, table: str, expected: pl.DataFrame) -> list[int]:
        """Of these documents (`expected`: id and rev), the ids of those gone or at another
        rev, read column-wise (`fields`)."""
        found = self.fields(table, expected["id"], {})
        return _stale(expected, expected.select("id").join(found, on="id", how="left", maintain_order="left"))

    def _patch_each(self, table: str, changes: pl.DataFrame, *, back: bool) -> None:
        """`patch` one document at a time: each put, or (`back`) restored."""
        with self.reading_ahead(table, changes["id"].to_list()):
            for row in changes.iter_rows(named=True):
                doc_id, rev = row.pop("id"), row.pop("rev")
                doc = self.get(table, doc_id)
                if doc is None or doc.get("rev") != rev:
                    raise ConcurrentChange(f"{table} #{doc_id} was changed by someone else meanwhile; try again")
                if back:
                    merged = {**doc, **row, "rev": rev - 1}
                    self.restore(table, doc_id, {field: value for field, value in merged.items() if value is not None})
                else:
                    self.put(table, doc_id, {**doc, **row})

    def patched(self) -> list[tuple[str, pl.DataFrame, pl.DataFrame]]:
        """(table, id and new values with rev and schema version, row for row: id, rev read and
        the JSON text before of the fields changed and the schema version: null, absent) of
        the documents `patch` changed column-wise."""
        return [(table, values, before) for table, _ids, values, before in self._patched]

    def delete_run(self, table: str, first: int, stop: int, rev: int) -> list[int] | None:
        """Delete the documents of ids [first, stop), each of which must be there at `rev`,
        column-wise: read from the server by their revs and counted fields alone, none held
        (undoing an import of a million prospects held each as it was: 4.3 GB), and written
        as one statement per run (`deleted_runs`). Returns the ids that are not at `rev`
        (absent, or changed since: then nothing is deleted); None where the table is not read
        from a server, a savepoint is open, or this transaction wrote documents of the run:
        the caller deletes them one by one. Keeps no undo data (undo's own)."""
        rows = self.db.tables[table]
        if self._savepoints or not isinstance(rows, Table) or any(
                t == table and first <= i < stop for t, i in self.before) or self._in_blocks(table, first, stop):
            return None
        fields = self._tallied.get(table)
        found = rows.run_fields(first, stop, {"rev": pl.Int64(), **tally.read_types(fields or ())})
        if found is None:
            return None
        other = found.filter(pl.col("rev") != rev)["id"]
        run = pl.Series("id", range(first, stop), dtype=pl.Int64)
        absent = run.filter(~run.is_in(found["id"].implode()))
        if other.len() or absent.len():
            return sorted([*other.to_list(), *absent.to_list()])
        counted = self._tally(table) if fields is not None else None
        self._deleted.append((table, first, stop, rev, self.db.remove_run(table, first, stop)))
        if counted is not None and fields is not None:
            tally.remove_rows(counted, fields, found)
        return []

    def deleted_runs(self) -> list[tuple[str, int, int, int]]:
        """(table, first id, stop id, rev) of the runs `delete_run` deleted."""
        return [(table, first, stop, rev) for table, first, stop, rev, _held in self._deleted]

    def _in_blocks(self, table: str, first: int, stop: int) -> bool:
        """Whether documents `insert_rows` added lie in ids [first, stop)."""
        return any(held == table and start < stop and first < end for held, start, end, *_ in self._blocks)

    def _in_block(self, table: str, doc_id: int) -> bool:
        return any(held == table and first <= doc_id < stop for held, first, stop, *_ in self._blocks)

    def is_inserted(self, table: str, doc_id: int) -> bool:
        """Whether the document is one `insert_rows` added and nothing wrote since (rev 1,
        absent before)."""
        for held, first, stop, *_ in self._blocks:  # (runs for every document of a large commit)
            if held == table and first <= doc_id < stop:
                return (table, doc_id) not in self._rewritten
        return False

    def size(self) -> int:
        """How many documents the transaction changed (written one by one, or inserted)."""
        # (A document inserted and written since is in `before` too; one a savepoint put back is gone.)
        inserted = sum(stop - first for _table, first, stop, *_ in self._blocks)
        deleted = sum(stop - first for _table, first, stop, *_ in self._deleted)
        patched = sum(len(ids) for _table, ids, *_ in self._patched)
        return len(self.before) + inserted + deleted + patched - sum(
            1 for table, doc_id in self._rewritten if self._in_block(table, doc_id))

    def tables_changed(self) -> set[str]:
        """The tables of the documents the transaction changed."""
        return ({table for table, _doc_id in self.before} | {table for table, *_ in self._blocks}
                | {table for table, *_ in self._deleted} | {table for table, *_ in self._patched})

    def inserted_runs(self) -> list[tuple[str, int, int]]:
        """(table, first id, stop id) of the documents `insert_rows` added and nothing wrote
        since, as runs of consecutive ids: each such document has rev 1 and was absent before."""
        runs = []
        for table, first, stop, *_ in self._blocks:
            cuts = sorted(i for t, i in self._rewritten if t == table and first <= i < stop)
            start = first
            for cut in [*cuts, stop]:
                if start < cut:
                    runs.append((table, start, cut))
                start = cut + 1
        return runs

    def rev(self, table: str, doc_id: int) -> int | None:
        """The document's rev as this transaction leaves it (None: absent)."""
        if self._blocks and self.is_inserted(table, doc_id):
            return 1
        doc = self.get(table, doc_id)
        return None if doc is None else int(doc["rev"])

    def put(self, table: str, doc_id: int, doc: dict[str, Any]) -> dict[str, Any]:
        """Store a new version of a document (never mutate a stored one in place)."""
        current = self._remember(table, doc_id)
        rev = (current or {}).get("rev", 0) + 1
        # Empty fields are left out: readers use .get(); the store stays small.
        stored = {k: v for k, v in doc.items() if v is not None}
        stored["rev"] = rev
        stored["schema_version"] = self.db.schema.version
        self._count(table, current, stored)
        self.db.set_in_memory(table, doc_id, stored)
        return stored

    def delete(self, table: str, doc_id: int) -> None:
        self._count(table, self._remember(table, doc_id), None)
        self.db.set_in_memory(table, doc_id, None)

    def restore(self, table: str, doc_id: int, doc: dict[str, Any] | None) -> None:
        """Put back a document exactly as it was (undo)."""
        self._count(table, self._remember(table, doc_id), doc)
        self.db.set_in_memory(table, doc_id, doc)

    def adopt_meta(self, meta: dict[str, Any]) -> None:
        """Take another store's next ids and counters as this one's (a migration). The counts
        stay this transaction's own, of the documents it restored: the other store's may be
        stale (an older custdesk wrote it since: `counts_trusted`)."""
        tallies = self._tallies
        self._meta = {key: value for key, value in copy.deepcopy(meta).items() if key not in ("tallies", COUNTED_AT)}
        self._meta["seq"] = self.db.meta.get("seq", 0)
        if tallies is not None:
            self._meta["tallies"] = tallies

    def seal(self) -> None:
        """Write the meta document (ids, counters, tallies) as the transaction left it; call once, last."""
        if self._meta is None:
            return
        trusted, counted = counts_trusted(self.db.meta), self._tallies is not None
        # (counted anew here and found as they were: written all the same, to be believed from now on)
        if self._meta != self.db.meta or (counted and not trusted):
            if counted or trusted:  # (counted here, or kept so: believed)
                self._meta[COUNTED_AT] = (self.db.tables[META].get(META_ID) or {}).get("rev", 0) + 1
            self.put(META, META_ID, self._meta)

    def written(self) -> Iterator[tuple[str, int, dict[str, Any] | None, dict[str, Any] | None]]:
        """(table, id, before, after; None: absent) of every document changed, but those
        `insert_rows` added and nothing wrote since (`inserted`)."""
        tables = self.db.tables
        for (t, i), old in self.before.items():
            if (new := tables[t].get(i)) is not old:
                yield t, i, old, new

    def inserted(self) -> Iterator[tuple[str, pl.Series, ObjectTexts]]:
        """(table, ids, their documents' JSON text and the fields it is written from, row for
        row) of the documents `insert_rows` added and nothing wrote since: each has rev 1 and
        was absent before."""
        for table, first, stop, texts in self._blocks:
            ids = pl.Series("id", range(first, stop), dtype=pl.Int64)
            rewritten = [i for t, i in self._rewritten if t == table and first <= i < stop]
            kept = ~ids.is_in(rewritten) if rewritten else None
            yield (table, ids, texts) if kept is None else (table, ids.filter(kept), texts.filter(kept))

    def changes(self) -> list[list[Any]]:
        """[table, id, document (None: deleted)] of every document changed, for the change log."""
        ops: list[list[Any]] = [[t, i, new] for t, i, _old, new in self.written()]
        for table, ids, texts in self.inserted():
            # Their text goes into the log as it is (a Fragment is written verbatim).
            ops += [[table, doc_id, orjson.Fragment(text)] for doc_id, text in zip(ids, texts.series(), strict=True)]
        return ops

    def rollback(self) -> None:
        for table, ids, *_ in reversed(self._patched):
            self.db.unpatch(table, ids)
        self._patched = []
        for table, first, stop, _rev, held in reversed(self._deleted):
            self.db.restore_run(table, first, stop, held)
        self._deleted = []
        for table, first, _stop, *_ in reversed(self._blocks):
            self.db.drop_rows(table, first)
        for (table, doc_id), doc in reversed(self.before.items()):
            if not (self._blocks and self._in_block(table, doc_id)):
                self.db.set_in_memory(table, doc_id, doc)
        self._blocks = []


def _indexed(schema: Schema) -> set[str]:
    """The fields an index of the session or the server reads (keys, owners, numbers): a
    patch of one would have to be indexed, so it is put one document at a time."""
    return {*schema.keys, schema.owner_field, *(f for f in (schema.owners_field, schema.numbered) if f is not None)}


def _stale(expected: pl.DataFrame, found: pl.DataFrame) -> list[int]:
    """The ids whose rev `found` (row for row with `expected`) lacks or differs from the expected one."""
    now = found["rev"]
    return expected.filter(now.is_null() | (now != expected["rev"]))["id"].to_list()
