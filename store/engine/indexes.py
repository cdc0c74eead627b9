"""In-memory lookups kept in step with every write, so no verb scans a table.

Each index is built from the table's columns the first time it is needed
(opening a store builds none) and updated by every write after that.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from contextlib import closing
from functools import partial
from typing import Any, Protocol, TypeVar

import polars as pl

from store.base.bulk import worked_at_once
from store.engine.keyed import NO_IDS, KeyedIds, Keys
from store.engine.owned import OwnedIds
from store.engine.saved_keys import SavedKeys
from store.engine.schema import Schema
from store.engine.table import Table

# (field, key name, normaliser) of each identifying field (`Schema.keys`).
Keyed = tuple[tuple[str, str, Callable[[str], str]], ...]


def keyed_fields(schema: Schema) -> Keyed:
    return tuple((field, name, normalise) for field, (name, normalise) in schema.keys.items())


def keys_of(keyed: Keyed, doc: Mapping[str, object]) -> list[tuple[str, str]]:
    """(key name, key) of each identifying field the document holds, as the index keys it."""
    # Runs for every write of a keyed document (100k times in an import).
    get = doc.get
    return [(name, key) for field, name, normalise in keyed
            if (value := get(field)) and (key := normalise(value))]  # type: ignore[arg-type]


_Built = TypeVar("_Built")
# Up to this many keys, and this many times per table, a look-up reads the key's columns
# instead of building the table's key index: a small command on a large store (a 3-row
# import, a sync of a few records) builds none (~0.3 s at 100,000 documents).
FEW_KEYS = 64
SCANS = 16
# Keys a look-up asks the server that keeps them in one query (an import's million in several).
SERVER_KEYS = 50_000


class ServerLookups(Protocol):
    """What a server that keeps the documents answers (`postgres.keys`)."""

    def holders(self, table: str, wanted: list[str]) -> list[tuple[int, list[str]]]:
        """(id, its "name:key" entries) of each stored document holding any of `wanted`.
        Asked from two threads at once, it answers both (each on a connection of its own)."""
        ...

    def children(self, table: str, owner_id: int) -> list[int]:
        """The ids of the stored documents of `table` that `owner_id` owns."""
        ...

    def shared(self, tables: list[str], names: list[str], most: int) -> list[tuple[str, list[tuple[str, int]]]]:
        """Each "name:key" of `names` held by two to `most` stored documents of `tables`, with them."""
        ...


class Indexes:
    """Key indexes of the keyed tables; the children of each owner, by table."""

    def __init__(self, tables: Mapping[str, object], schema: Schema, lock: threading.RLock,
                 saved: SavedKeys | None = None, server: ServerLookups | None = None,
                 counted: Callable[[str], int | None] | None = None) -> None:
        self._tables = tables
        self._saved = saved
        # How many documents a table holds, when the store keeps count (`tallies`): a look-up
        # of more keys than that builds the table's index (once) instead of asking the server.
        self._counted = counted
        # Where a server keeps each document's keys (`postgres.keys`): a table whose documents
        # are read one at a time is looked up there, and no index of it is built.
        self._server = server
        self._schema = schema
        self._keyed = keyed_fields(schema)
        self._lock = lock
        self._keys: dict[str, dict[str, KeyedIds]] = {}
        self._children: dict[str, OwnedIds] = {}
        self._scans: dict[str, int] = {}
        self._normalised: dict[str, tuple[pl.DataFrame, pl.DataFrame]] = {}
        self._keyed_written: dict[str, tuple[object, dict[int, tuple[dict[str, Any], list[tuple[str, str]]]]]] = {}

    def _built(self, built: dict[str, _Built], table: str, build: Callable[[str, Table], _Built]) -> _Built:
        found = built.get(table)
        if found is None:
            with self._lock:  # a commit on another thread must not slip in between
                found = built.get(table)
                if found is None:
                    rows = self._tables[table]
                    assert isinstance(rows, Table), f"{table} keeps no decoded fields to index"
                    found = built[table] = build(table, rows)
        return found

    def key_map(self, table: str, field: str) -> KeyedIds:
        """The index of keyed `table` on identifying field `field`."""
        return self._built(self._keys, table, self._build_keys)[field]

    def find(self, table: str, field: str, value: object) -> AbstractSet[int]:
        key = self._schema.normalise(field, value)
        return NO_IDS if key is None else self.holders(table, field, [key])[0]

    def holders(self, table: str, name: str, keys: Keys) -> list[AbstractSet[int]]:
        """For each normalised key of key name `name` (None: none), the ids of `table` holding
        it: from the table's key index, or while it is not built and the keys are few
        (`FEW_KEYS`, `SCANS`), from one column-wise pass over the fields of that key."""
        scanned = self._scanned(table, name, keys)
        if scanned is not None:
            return [NO_IDS if key is None else scanned.get(key, NO_IDS) for key in keys]
        index = self.key_map(table, name)
        if not len(index):
            return [NO_IDS] * len(keys)
        ids = index.ids
        return [NO_IDS if key is None else ids(key) for key in keys]

    def first_holders(self, table: str, name: str, keys: Keys) -> list[int | None]:
        """`holders`' lowest id of each key (None: none holds it)."""
        scanned = self._scanned(table, name, keys)
        if scanned is not None:
            return [None if key is None or key not in scanned else min(scanned[key]) for key in keys]
        index = self.key_map(table, name)
        if not len(index):
            return [None] * len(keys)
        first = index.first
        return [None if key is None else first(key) for key in keys]

    def holds(self, table: str, name: str, keys: Keys) -> list[bool]:
        """Whether any document of `table` holds each key (`holders`, told without the ids)."""
        scanned = self._scanned(table, name, keys)
        if scanned is not None:
            return [key is not None and key in scanned for key in keys]
        index = self.key_map(table, name)
        if not len(index):
            return [False] * len(keys)
        return [key is not None and key in index for key in keys]

    def _scanned(self, table: str, name: str, keys: Keys) -> dict[str, set[int]] | None:
        """The holders of each key held (a key held by none is absent): asked of the server
        where it keeps the keys of a table read one document at a time (however many: an
        index of ten million customers built here would hold GBs); else read from the
        columns, when the index is not built and the keys are few; else None."""
        rows = self._tables[table]
        if (self._server is not None and table not in self._keys and isinstance(rows, Table) and rows.reads_alone
                and not self._holds_fewer(table, len(keys))):
            return self._ask_server(self._server, table, rows, name, keys)
        if table not in self._keys and len(keys) <= FEW_KEYS and self._scans.get(table, 0) < SCANS:
            with self._lock:  # (a commit on another thread must not change the columns meanwhile)
                if table not in self._keys:
                    self._scans[table] = self._scans.get(table, 0) + 1
                    return self._scan(table, name, keys)
        return None

    def _holds_fewer(self, table: str, keys: int) -> bool:
        """Whether a look-up of more keys than one statement asks holds more keys than the
        table documents: its index, built here once, then costs less than a probe of the
        server's per key of this look-up and the next (an import of 100,000 rows into a new
        store: 2.4 s of probes)."""
        held = None if self._counted is None else self._counted(table)
        return held is not None and keys > SERVER_KEYS and held < keys

    def _scan(self, table: str, name: str, keys: Keys) -> dict[str, set[int]]:
        wanted = {key for key in keys if key is not None}
        found: dict[str, set[int]] = {}
        rows = self._tables[table]
        assert isinstance(rows, Table), f"{table} keeps no decoded fields to look up"
        if wanted:
            # The snapshot's documents by their decoded fields (normalised once per snapshot),
            # those written since (a change log replayed, this commit's) one by one, as `update` keys them.
            base, written = rows.columns(), rows.written_docs()
            self._frame_holders(found, self._base_keyed(table, base), name, wanted, written)
            self._written_holders(found, table, base, written, name, wanted)
        return found

    def _ask_server(self, server: ServerLookups, table: str, rows: Table, name: str,
                    keys: Keys) -> dict[str, set[int]]:
        """`_scan`, the stored documents asked of the server by their kept keys, those written
        here since (this commit's, those caught up with) by their own. The keys are asked
        in order (neighbours in the server's index), column-wise: an import's million."""
        prefix = f"{name}:"
        # (a list a part at a time: a million keys as str objects at once took 80 MB)
        asked = prefix + pl.Series(keys, dtype=pl.String).drop_nulls().unique().sort()
        found: dict[str, set[int]] = {}
        written = rows.written_docs()
        chunks = (asked.slice(start, SERVER_KEYS).to_list() for start in range(0, len(asked), SERVER_KEYS))
        # (two statements at once: the server probes on both its cores; an import's two lookups
        # of a million keys at 10,000,000 customers took 6.8 s one statement at a time, 4.8 s so)
        with closing(worked_at_once(partial(server.holders, table), chunks)) as answers:  # (its threads ended here)
            for chunk, answer in answers:
                entries = set(chunk)
                for doc_id, held in answer:
                    if doc_id not in written:
                        for entry in held:
                            if entry in entries:
                                found.setdefault(entry[len(prefix):], set()).add(doc_id)
        self._forget_keyed(table, written)
        fresh = rows.unsettled_fields()
        if len(asked) and (written or fresh is not None):
            wanted = set(asked.str.strip_prefix(prefix))
            self._written_holders(found, table, rows, written, name, wanted)
            if fresh is not None:  # (this transaction's import, not on the server before its commit)
                self._frame_holders(found, self._normalise_keyed(table, fresh), name, wanted, written)
        return found

    def _frame_holders(self, found: dict[str, set[int]], keyed: pl.DataFrame, name: str, wanted: set[str],
                       written: Mapping[int, object]) -> None:
        """Add to `found` the documents of `keyed` (`id` and the identifying fields normalised)
        holding a key of name `name` in `wanted`, column-wise; those written since are keyed
        by `_written_holders` instead."""
        for field, key_name, _normalise in self._keyed:
            if key_name == name and field in keyed.columns:
                for key, doc_id in keyed.select(field, "id").filter(pl.col(field).is_in(list(wanted))).iter_rows():
                    if doc_id not in written:
                        found.setdefault(key, set()).add(doc_id)

    def _written_holders(self, found: dict[str, set[int]], table: str, base: object,
                         written: Mapping[int, dict[str, Any] | None], name: str, wanted: set[str]) -> None:
        """Add to `found` the documents written since `base` holding a key of name `name` in `wanted`."""
        for doc_id, pairs in self._written_keys(table, base, written):
            for key_name, key in pairs:
                if key_name == name and key in wanted:
                    found.setdefault(key, set()).add(doc_id)

    def _forget_keyed(self, table: str, written: Mapping[int, object]) -> None:
        """Forget the keys of the documents a table read from a server let go (`Table.fold`):
        kept with them, every document a session wrote and a lookup keyed stayed in memory
        for good, however many the table had let go."""
        held = self._keyed_written.get(table)
        if held is not None and len(held[1]) > len(written):
            known = held[1]
            for doc_id in [i for i in known if i not in written]:
                del known[doc_id]

    def _written_keys(self, table: str, base: object,
                      written: Mapping[int, dict[str, Any] | None]) -> Iterator[tuple[int, list[tuple[str, str]]]]:
        """(id, its keys) of each document written since `base` (the snapshot's frame, or the
        table read one document at a time) was read, each document keyed once (a document is
        replaced, never changed, by a write)."""
        held = self._keyed_written.get(table)
        if held is None or held[0] is not base:
            held = self._keyed_written[table] = (base, {})
        known = held[1]
        for doc_id, doc in written.items():
            if doc is not None:
                found = known.get(doc_id)
                if found is None or found[0] is not doc:
                    found = known[doc_id] = (doc, keys_of(self._keyed, doc))
                yield doc_id, found[1]

    def _base_keyed(self, table: str, base: pl.DataFrame) -> pl.DataFrame:
        """`id` and the identifying fields of the snapshot's documents normalised, kept while
        the snapshot's frame is the same."""
        held = self._normalised.get(table)
        if held is None or held[0] is not base:
            held = self._normalised[table] = (base, self._keys_of(table, base))
        return held[1]

    def _keys_of(self, table: str, frame: pl.DataFrame) -> pl.DataFrame:
        """`id` and every keyed field of the documents of `frame` normalised: those the look-ups
        before the index already took, or read from the keys kept beside the snapshot when
        `frame` is the snapshot's (`SavedKeys`), else now."""
        held, rows = self._normalised.get(table), self._tables[table]
        if held is not None and held[0] is frame:
            return held[1]
        if self._saved is not None and isinstance(rows, Table) and frame is rows.snapshot_columns():
            return self._saved.keys(table, frame, self._normalise_keyed)
        return self._normalise_keyed(table, frame)

    def _normalise_keyed(self, _table: str, frame: pl.DataFrame) -> pl.DataFrame:
        """`id` and every keyed field of `frame` normalised (what `SavedKeys` keeps)."""
        return frame.select("id").with_columns(self._schema.normalise_column(field, frame[field]).alias(field)
                                               for field, _name, _normalise in self._keyed if field in frame.columns)

    def shared(self, tables: list[str], names: list[str], most: int) -> list[tuple[str, str, list[tuple[str, int]]]]:
        """(key name, key, its holders as (table, id)) of each key of `names` that two to
        `most` documents of `tables` hold: asked of the server where it keeps the keys of
        tables read one document at a time, else grouped here from their decoded fields."""
        rows = [self._tables[table] for table in tables]
        if self._server is not None and all(isinstance(r, Table) and r.reads_alone for r in rows):
            return [(entry.partition(":")[0], entry.partition(":")[2], holders)
                    for entry, holders in self._server.shared(tables, names, most)]
        held = []
        for table, frame in zip(tables, rows, strict=True):
            assert isinstance(frame, Table), f"{table} keeps no decoded fields to group"
            keyed = self._normalise_keyed(table, frame.frame())
            for field, name, _normalise in self._keyed:
                if name in names and field in keyed.columns:
                    held.append(keyed.select(pl.lit(name).alias("name"), pl.col(field).alias("key"),
                                             pl.lit(table).alias("table"), "id").drop_nulls("key"))
        if not held:
            return []
        groups = (pl.concat(held).unique().group_by("name", "key").agg("table", "id")
                  .filter(pl.col("id").list.len().is_between(2, most)).sort("name", "key"))
        return [(name, key, sorted(zip(tables_, ids, strict=True))) for name, key, tables_, ids in groups.iter_rows()]

    def child_ids(self, owner_id: int, table: str) -> set[int]:
        rows = self._tables[table]
        if self._server is not None and table not in self._children and isinstance(rows, Table) and rows.reads_alone:
            # Asked of the server; the documents written here since, by their own owners.
            written = rows.written_docs()
            found = {i for i in self._server.children(table, owner_id) if i not in written}
            return found | {i for i, doc in written.items() if doc is not None and owner_id in self._schema.owners(doc)}
        return self._built(self._children, table, self._build_children).ids(owner_id)

    def update(self, table: str, doc_id: int, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        by_field = self._keys.get(table)
        if by_field is not None:
            if old is not None:
                for field, key in keys_of(self._keyed, old):
                    by_field[field].discard(key, doc_id)
            if new is not None:
                for field, key in keys_of(self._keyed, new):
                    by_field[field].add(key, doc_id)
        children = self._children.get(table)
        if children is not None:
            if old is not None:
                for owner in self._schema.owners(old):
                    children.discard(owner, doc_id)
            if new is not None:
                for owner in self._schema.owners(new):
                    children.add(owner, doc_id)

    def build_all(self, key_tables: Iterable[str], child_tables: Iterable[str]) -> None:
        """Build now what the first lookups would otherwise wait for."""
        for table in key_tables:
            self._built(self._keys, table, self._build_keys)
        for table in child_tables:
            self._built(self._children, table, self._build_children)

    def add_rows(self, table: str, frame: pl.DataFrame) -> None:
        """Index new documents given by their decoded fields (`Table.extend`), column-wise."""
        by_name = self._keys.get(table)
        if by_name is not None:
            self._add_keys(by_name, self._normalise_keyed(table, frame))
        children = self._children.get(table)
        if children is not None:
            self._add_children(children, frame)

    def _build_keys(self, table: str, rows: Table) -> dict[str, KeyedIds]:
        by_name = {name: KeyedIds() for name in self._schema.key_names}
        base, written = rows.snapshot_columns(), rows.written_docs()
        if base is None or not written:
            keys = self._keys_of(table, rows.frame())
        else:  # the snapshot's keys (saved beside it) but for the documents written since, and theirs
            kept = self._keys_of(table, base).filter(~pl.col("id").is_in(list(written)))
            live = [doc_id for doc_id, doc in written.items() if doc is not None]
            keys = pl.concat([kept, self._normalise_keyed(table, rows.frame(live))])
        self._add_keys(by_name, keys)
        self._normalised.pop(table, None)  # (no look-up reads the columns once the index is built)
        return by_name

    def _add_keys(self, by_name: dict[str, KeyedIds], keys: pl.DataFrame) -> None:
        """Index documents by their normalised keys (`_normalise_keyed`); the fields of one key
        name (a phone and a mobile) in one call: an index is built column-wise only once."""
        for name, index in by_name.items():
            fields = [field for field, key_name, _normalise in self._keyed if key_name == name and field in keys.columns]
            if fields:
                index.add_all(pl.concat([keys[field] for field in fields]), pl.concat([keys["id"]] * len(fields)))

    def _build_children(self, _table: str, rows: Table) -> OwnedIds:
        index = OwnedIds()
        self._add_children(index, rows.frame())
        return index

    def _add_children(self, index: OwnedIds, frame: pl.DataFrame) -> None:
        index.add_all(frame[self._schema.owner_field], frame["id"])
        shared = self._schema.owners_field
        if shared is not None and shared in frame.columns:  # documents with several owners, under each
            each = frame.select("id", shared).explode(shared).drop_nulls()
            index.add_all(each[shared], each["id"])

    def forget(self, table: str) -> None:
        """Drop the table's indexes (built again when next needed)."""
        self._keys.pop(table, None)
        self._children.pop(table, None)

    def tracks(self, table: str) -> bool:
        """Whether a write to `table` has an index to update (else the old document is not needed)."""
        return table in self._keys or table in self._children

