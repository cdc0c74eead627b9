"""A table of documents kept as JSON text, parsed only when asked for.

At 100k customers the store holds ~470k documents; as Python dicts they
cost ~1 GB and 1.5 s to parse at every open. Here the snapshot's documents
stay one JSON text each in a polars column (about their size on disk) with
their ids beside them, read from the file only when the table is first
used; a read parses one document (a few µs). Where the columns file tells
where each document's line starts (`LINE_STARTS`), a read takes that line
alone from the file, and the text is held only once something needs the
whole table (new documents added, a fold, every document read): the app at
1,000,000 customers holds 430 MB less. Documents written since the snapshot
live as dicts in `_written` (None: deleted) until the next fold turns them
back into text.

The fields the views and indexes need (`Schema.columns`) are also kept
decoded, as a polars frame (`frame()`): decoded once, or read from the
columns file written beside the snapshot, so opening decodes no JSON.
"""
from __future__ import annotations

import bisect
import contextlib
import heapq
import io
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

import orjson
import polars as pl

from store.base.json_rows import ObjectTexts
from store.base.sorting import text_order
from store.engine.added import Added
from store.engine.slices import int64_array

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

JSON_OPTIONS = orjson.OPT_NON_STR_KEYS
# Rows joined into one string at a time when writing: bounds the memory a fold takes.
WRITE_CHUNK = 50_000
_TEXT_SCHEMA = {"id": pl.Int64, "doc": pl.String}
DECODE_SLICE = 20_000  # rows a slice at least: below that, splitting costs more than it saves
# Up to this many new documents are added to a table read line by line as written ones.
FEW_NEW = 1_000
# Documents `hold` reads a statement.
HOLD_CHUNK = 10_000
# The columns file's column of where each document's line starts in the table's text.
LINE_STARTS = "_at"
# Documents read ahead (`Table.hold`), as JSON text until first asked for (None: absent).
_Held = dict[int, str | dict[str, Any] | None]
# What `Table._find` tells a document it has not written from one it wrote deleted (None).
_NOT_WRITTEN = object()


def dumps(doc: object) -> bytes:
    return orjson.dumps(doc, option=JSON_OPTIONS)


def _text_of(table_text: bytes) -> pl.DataFrame:
    """(id, doc) of a table's JSON text: `{`, its lines `"<id>":{...}` joined by ",\\n", `}`.
    Read whole, its brace lines dropped after: slicing them off copied the text twice (430 MB
    at 1,000,000 customers) in calls that hold the interpreter, and the app's keys waited."""
    if table_text == b"{}":
        return pl.DataFrame(schema=_TEXT_SCHEMA)
    # JSON text never holds a raw newline or \x1f, so each line is one field of one row.
    lines = pl.read_csv(io.BytesIO(table_text), has_header=False, separator="\x1f", quote_char=None,
                        schema={"line": pl.String}).filter(pl.col("line").str.starts_with('"'))
    colon = pl.col("line").str.find(":", literal=True)
    return lines.select(
        pl.col("line").str.slice(1, colon - 2).cast(pl.Int64).alias("id"),
        pl.col("line").str.slice(colon + 1).str.strip_suffix(",").alias("doc"),
    )


def _conformed(frame: pl.DataFrame, name: str, dtype: PolarsDataType) -> pl.Expr:
    """Column `name` of `frame` as `dtype`, the way `str.json_decode` reads it into that type:
    a missing field is null, and a struct keeps the type's fields, each conformed alike."""
    if name not in frame.columns:
        return pl.lit(None, dtype=dtype)
    return _conform(pl.col(name), frame.schema[name], dtype)


def _conform(value: pl.Expr, given: PolarsDataType, dtype: PolarsDataType) -> pl.Expr:
    if isinstance(dtype, pl.Struct):
        held = {f.name: f.dtype for f in given.fields} if isinstance(given, pl.Struct) else {}
        return pl.struct([(_conform(value.struct.field(f.name), held[f.name], f.dtype) if f.name in held
                           else pl.lit(None, dtype=f.dtype)).alias(f.name) for f in dtype.fields])
    return value.cast(dtype)


class Table(Mapping[int, dict[str, Any]]):
    """doc id → document, read from JSON text on demand, written as dicts.

    `schema` names the fields kept decoded for `frame()`; `text` reads the
    table's JSON text from the snapshot, or its (id, doc) rows from a server
    (called once, when first needed); `columns` is the decoded frame when
    already known (the columns file), or `read_columns` reads it when first
    needed (a server takes the fields out itself). `read_one` reads one
    document's JSON text (None: there is none) from a server: until the table's
    text is needed whole, a document is read alone, and a session that shows a
    few customers of millions holds none of the others.
    """

    def __init__(self, schema: Mapping[str, pl.DataType], text: Callable[[], bytes | pl.DataFrame] | None = None,
                 columns: pl.DataFrame | None = None, check: Callable[[], None] | None = None,
                 read_range: Callable[[int, int | None], bytes] | None = None,
                 read_columns: Callable[..., pl.DataFrame] | None = None,
                 read_one: Callable[[int], bytes | str | None] | None = None,
                 read_some: Callable[[Collection[int]], pl.DataFrame] | None = None,
                 read_order: Callable[[str], pl.Series] | None = None,
                 read_holding: Callable[[str, Collection[int | str]], list[int]] | None = None) -> None:
        self._schema = dict(schema)
        self._text = text
        self._check = check
        # (given the fields to read, and the ids: all when none)
        self._read_columns = read_columns
        self._read_one = read_one
        self._read_some = read_some
        self._read_order = read_order
        self._read_holding = read_holding
        # Where each document's line starts in the table's text (`LINE_STARTS`, kept in the
        # columns file): with `read_range`, a document is read from the file alone, and the
        # text is never held (430 MB at 1,000,000 customers) unless the whole table is needed.
        self._at: pl.Series | None = None
        self._read_range = read_range
        if columns is not None and LINE_STARTS in columns.columns:
            at, columns = columns[LINE_STARTS], columns.drop(LINE_STARTS)
            if read_range is not None and text is not None and at.null_count() == 0:
                self._at = at
                self._count = columns.height
                self._max_id = int(columns["id"][-1]) if self._count else -1
        self._columns = columns
        self._written: dict[int, dict[str, Any] | None] = {}
        # Documents of a table read one at a time, read together ahead of a verb that changes
        # them all (`hold`), as JSON text until first asked for (None: absent), until it ends (`let_go`).
        self._held: _Held | None = None
        # Documents added column-wise (`extend`) to a table read one document at a time, until
        # their commit puts them on the server (`settle`): an import of a million rows into ten
        # million customers reads none of the others.
        self._unsettled: Added | None = None
        # Documents changed field by field (`patch`), until their commit puts them on the
        # server (`settle`): their ids, and a frame of id and the values over the server's.
        self._patched: list[tuple[set[int], pl.DataFrame]] = []
        self._lock = threading.RLock()
        # Every document's fields (`frame()`), kept while nothing is written: documents written
        # since the snapshot (a change log replayed at open) are decoded once, not at each call.
        self._whole: pl.DataFrame | None = None
        self._version = 0
        # Whether `columns()` still holds the snapshot's documents only: what the files kept
        # beside the snapshot were derived from (`snapshot_columns`).
        self._as_read = True
        if text is None:
            self._set_base(pl.DataFrame(schema=_TEXT_SCHEMA))

    @classmethod
    def from_docs(cls, schema: Mapping[str, pl.DataType], docs: Mapping[int, dict[str, Any]]) -> Table:
        table = cls(schema)
        for doc_id in sorted(docs):
            table[doc_id] = docs[doc_id]
        table.fold()
        return table

    def _set_base(self, base: pl.DataFrame, *, ordered: bool = False) -> None:
        self._changed()
        self._base = base if ordered else base.sort("id")
        # A plain array, not numpy: the app's first paint does not wait for numpy's import (~0.1 s).
        self._ids = int64_array(self._base["id"])
        self._docs = self._base["doc"]
        self._count = self._base.height
        # New documents come after every stored one: they are told apart without a search.
        self._max_id = int(self._ids[-1]) if self._count else -1

    def load(self) -> None:
        """Read the table's text now (else done the first time anything needs it)."""
        with self._lock:
            if self._text is not None:
                text = self._text()
                base = text if isinstance(text, pl.DataFrame) else _text_of(text)
                unsettled, self._unsettled = self._unsettled, None
                if unsettled is not None:  # (the server's text lacks them until their commit: then it has them)
                    base = pl.concat([base.filter(~pl.col("id").is_in(unsettled.fields["id"].implode())),
                                      unsettled.documents()])
                self._set_base(base)
                # Writes made before (the change log replayed at open) were not counted.
                # (a copy: a catch-up's write may come meanwhile, on another thread)
                self._count += sum((d is not None) - (self._position(i) >= 0) for i, d in dict(self._written).items())
                self._text = None
                self._at = None

    def load_unless_located(self) -> None:
        """`load`, unless each document can be read alone (its line's start in the file known,
        or from a server)."""
        if self._at is None and self._read_one is None:
            self.load()

    def __getattr__(self, name: str) -> object:
        # Only reached while the base attributes are missing, i.e. the text is not read yet.
        if name == "_ids" and self.__dict__.get("_at") is not None:  # (made when first looked up: ~0.1 s per 1M)
            self._ids = int64_array(self.columns()["id"])
            return self._ids
        if name in ("_base", "_ids", "_docs", "_count", "_max_id") and self.__dict__.get("_text") is not None:
            self.load()
            return getattr(self, name)
        raise AttributeError(name)

    def verify(self) -> None:
        """Check the table's text against its checksum, if not read (and so checked) yet."""
        if self.__dict__.get("_text") is not None and self._check is not None:
            self._check()

    @property
    def reads_alone(self) -> bool:
        """Whether each document is read alone from a server (the table's text is not held)."""
        return self._read_one is not None and "_docs" not in self.__dict__

    @property
    def text_read(self) -> bool:
        """Whether the table's text was read from the snapshot (it is read when first needed)."""
        return "_base" in self.__dict__

    # -- reading -------------------------------------------------------------
    def _position(self, doc_id: int) -> int:
        if doc_id > self._max_id:
            return -1
        pos = bisect.bisect_left(self._ids, doc_id)
        return pos if pos < len(self._ids) and self._ids[pos] == doc_id else -1

    def _find(self, doc_id: int) -> dict[str, Any] | None:
        found = self._written.get(doc_id, _NOT_WRITTEN)  # (one look: a patch may let it go meanwhile)
        if found is not _NOT_WRITTEN:
            return cast(dict[str, Any] | None, found)
        if self.reads_alone:
            assert self._read_one is not None
            unsettled = self._unsettled
            if unsettled is not None and doc_id >= unsettled.first:
                added = unsettled.text(doc_id)
                return None if added is None else cast(dict[str, Any], orjson.loads(added))
            patched = self._patched  # (once: a commit's `settle` may run meanwhile)
            if any(doc_id in ids for ids, _values in patched):
                return self._patched_doc(patched, doc_id)
            held = self._held  # (once: the verb's `let_go` may run meanwhile)
            if held is not None and doc_id in held:
                return self._held_doc(held, doc_id)
            text = self._read_one(doc_id)
            return None if text is None else cast(dict[str, Any], orjson.loads(text))
        if doc_id > self._max_id:  # a new id (the hot path of an import): no search
            return None
        pos = self._position(doc_id)
        if pos < 0:
            return None
        at = self._at  # (once: a load on another thread drops it)
        if at is not None and "_docs" not in self.__dict__:
            text = self._read_doc(at, pos, doc_id)
            with contextlib.suppress(orjson.JSONDecodeError):
                if text is not None:
                    return cast(dict[str, Any], orjson.loads(text))
            self.load()  # (a line that is not the document's, or not whole: never another one, the text instead)
        return cast(dict[str, Any], orjson.loads(self._docs[pos]))

    def _patched_doc(self, patched: list[tuple[set[int], pl.DataFrame]], doc_id: int) -> dict[str, Any] | None:
        """A document `patch` changed: the server's, with the patches' values over it (null: left out)."""
        assert self._read_one is not None
        text = self._read_one(doc_id)
        if text is None:
            return None
        doc: dict[str, Any] = orjson.loads(text)
        for ids, values in patched:
            if doc_id in ids:
                row = values.row(by_predicate=pl.col("id") == doc_id, named=True)
                doc.update((field, value) for field, value in row.items() if field != "id")
        return {field: value for field, value in doc.items() if value is not None}

    @staticmethod
    def _held_doc(held: _Held, doc_id: int) -> dict[str, Any] | None:
        """A document `hold` read, decoded once (a verb reads it, then its write remembers it)."""
        doc = held[doc_id]
        if isinstance(doc, str):
            doc = held[doc_id] = cast(dict[str, Any], orjson.loads(doc))
        return doc

    def _read_doc(self, at: pl.Series, pos: int, doc_id: int) -> bytes | None:
        """Document `doc_id`, at `pos`, read from its line in the file, `"<id>":{...},` (the
        last line ends the table: `"<id>":{...}` and a newline, then its closing brace);
        None when the line there is not that document's."""
        last, read = pos + 1 == len(at), self._read_range
        assert read is not None, "line starts are kept only with a way to read the lines"
        line = read(at[pos], None if last else at[pos + 1])
        lead = b'"%d":' % doc_id
        if not line.startswith(lead):
            return None
        return line[len(lead):-1 if last else None].rstrip(b",\n")

    def get(self, doc_id: int, default: None = None) -> dict[str, Any] | None:  # type: ignore[override]
        return self._find(doc_id)

    def docs(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """The documents of these ids that exist, by id: from a server in one read (`read_some`:
        an export's chunk of thousands), not a statement each."""
        wanted = list(ids)
        if not self.reads_alone or self._read_some is None:
            return {i: doc for i in wanted if (doc := self._find(i)) is not None}
        unsettled = self._unsettled
        first_added = unsettled.first if unsettled is not None else None
        patched = self._patched_ids()
        here = {i for i in wanted if i in self._written or i in patched or (first_added is not None and i >= first_added)}
        found = {i: doc for i in here if (doc := self._find(i)) is not None}
        stored = sorted(set(wanted) - here)
        if stored:
            found.update((doc_id, orjson.loads(text)) for doc_id, text in self._read_some(stored).iter_rows())
        return found

    def hold(self, ids: Collection[int]) -> _Held | None:
        """Read these documents from the server together (`HOLD_CHUNK` a statement), and
        answer from them until `let_go`: a verb over 100,000 chosen customers read each of
        them alone, three times (one statement each). Only within a transaction, under the
        store's lock: no other session commits meanwhile, so they stay what the server holds;
        what the transaction writes is the table's own (`_written`), found first. Returns
        what was held before (a read ahead within another: `let_go` puts it back)."""
        previous = self._held
        if not self.reads_alone or self._read_some is None:
            return previous
        wanted = sorted(set(ids) - self._written.keys() - (previous or {}).keys())
        held: _Held = {**(previous or {}), **dict.fromkeys(wanted)}
        for start in range(0, len(wanted), HOLD_CHUNK):
            held.update(self._read_some(wanted[start:start + HOLD_CHUNK]).iter_rows())
        self._held = held
        return previous

    def let_go(self, previous: _Held | None = None) -> None:
        """Forget what `hold` read: hold what was held before it (`previous`)."""
        self._held = previous

    def run_fields(self, first: int, stop: int, fields: Mapping[str, pl.DataType]) -> pl.DataFrame | None:
        """The id and these fields of the documents of ids [first, stop) there are, read from
        the server (`forget_run` takes them away column-wise): the documents this session
        wrote are committed, the server has them (the caller leaves out a transaction's own);
        None where the table is not read from one, or holds documents of the run added here
        and not committed yet."""
        if not self.reads_alone or self._read_columns is None:
            return None
        unsettled = self._unsettled
        if unsettled is not None and unsettled.last >= first:
            return None
        return self._read_columns(fields, range(first, stop))

    def fields_of(self, ids: Collection[int], fields: Mapping[str, pl.DataType]) -> pl.DataFrame | None:
        """The id and these fields of the documents of `ids` there are, in id order, read from
        the server column-wise (`read_columns`: `JSON_TEXT`, a field's JSON); None where the
        table is not read from one, or holds documents added or patched here and not
        committed yet (the documents this session wrote before are committed: the server has
        them; the caller leaves out a transaction's own)."""
        if not self.reads_alone or self._read_columns is None or self._unsettled is not None or self._patched:
            return None
        return self._read_columns(fields, ids)

    def _patched_ids(self) -> set[int]:
        return set().union(*(ids for ids, _values in self._patched))

    def patchable(self) -> bool:
        """Whether documents may be changed field by field (`patch`): read from a server, no
        view holding their decoded fields, none added here and not committed."""
        return self.reads_alone and self._read_columns is not None and self._columns is None and self._unsettled is None

    def patch(self, values: pl.DataFrame) -> None:
        """Documents changed field by field (`values`: their id, and a column per field, a
        null leaving it out), on the server at commit: until then (`settle`) each reads as
        the server's with these values over it. The documents this session wrote before (the
        server has them) are let go."""
        with self._lock:
            ids = set(values["id"].to_list())
            for doc_id in ids & self._written.keys():
                del self._written[doc_id]
            self._patched = [*self._patched, (ids, values)]
            self._changed()

    def unpatch(self) -> None:
        """Forget every `patch` (a rolled-back transaction): the server's documents are the table's."""
        with self._lock:
            self._patched = []
            self._changed()

    def forget_run(self, first: int, stop: int) -> dict[int, dict[str, Any] | None]:
        """The documents of ids [first, stop) deleted (`run_fields` found them on the server);
        returns those of the run the session held, for `recall_run`."""
        with self._lock:
            written = self._written
            held = {i: doc for i, doc in written.items() if first <= i < stop}
            written.update(dict.fromkeys(range(first, stop)))
            self._changed()
            return held

    def recall_run(self, first: int, stop: int, held: Mapping[int, dict[str, Any] | None]) -> None:
        """Undo `forget_run` (a rolled-back transaction): the server's documents are the
        table's again, and those the session held (`held`) held again."""
        with self._lock:
            for doc_id in range(first, stop):
                self._written.pop(doc_id, None)
            self._written.update(held)
            self._changed()

    def ids_containing(self, fragments: Collection[str], lacking: Collection[str] = ()) -> list[int]:
        """The ids of the documents whose JSON text holds one of `fragments` (literally), or
        nothing that one of the patterns `lacking` (regular expressions) matches, and of those
        written since the text was read (their text is not made): a scan that needs one of
        them parses only these. Reads the table's text if not read yet."""
        with self._lock:
            if "_base" not in self.__dict__:
                self.load()
            base, written = self._base, dict(self._written)
        text = pl.col("doc")
        wanted = text.str.contains_any(list(fragments))
        for absent in lacking:
            wanted = wanted | ~text.str.contains(absent)
        held = base.filter(wanted)["id"].to_list()
        return sorted({i for i in held if i not in written} | {i for i, doc in written.items() if doc is not None})

    def ids_holding(self, field: str, values: Collection[int | str]) -> list[int]:
        """The ids of the documents whose `field` holds one of `values` (of one type), in id
        order: of a table read one document at a time, found by the server (what is
        committed: ask it outside a transaction); else from the decoded fields where they
        hold it, or by reading each document."""
        if self.reads_alone and self._read_holding is not None:
            return self._read_holding(field, values)
        if field in self._schema:
            return self.frame().filter(pl.col(field).is_in(list(values)))["id"].to_list()
        return [doc_id for doc_id, doc in self.items() if doc.get(field) in values]

    def ids_by(self, field: str) -> pl.Series:
        """Every document's id, by its `field`'s text (its first `SORTED_CHARACTERS`, by their
        bytes: code points; missing as empty), then id. Of a table read one document at a time, sorted on the server
        (`read_order`), where only what is committed is: ask it outside a transaction."""
        if self.reads_alone and self._read_order is not None:
            return self._read_order(field)
        return self.frame().sort(text_order(field), "id")["id"]

    def __getitem__(self, doc_id: int) -> dict[str, Any]:
        doc = self._find(doc_id)
        if doc is None:
            raise KeyError(doc_id)
        return doc

    def __contains__(self, doc_id: object) -> bool:
        if not isinstance(doc_id, int):
            return False
        if doc_id in self._written:
            return self._written[doc_id] is not None
        if self.reads_alone:
            return self._find(doc_id) is not None
        return self._position(doc_id) >= 0

    def __len__(self) -> int:
        return self._count

    def items(self) -> Iterator[tuple[int, dict[str, Any]]]:  # type: ignore[override]
        """Every (id, document) in id order; base documents parsed one by one."""
        written = self._written
        base = ((i, orjson.loads(text)) for i, text in zip(self._ids, self._docs, strict=True) if i not in written)
        if not written:
            return base
        fresh = ((i, d) for i, d in sorted(written.items()) if d is not None)
        return heapq.merge(base, fresh, key=lambda pair: pair[0])

    def values(self) -> Iterator[dict[str, Any]]:  # type: ignore[override]
        return (doc for _, doc in self.items())

    def __iter__(self) -> Iterator[int]:
        written = self._written
        base = (i for i in self._ids if i not in written)
        return heapq.merge(base, sorted(i for i, d in written.items() if d is not None))

    def columns(self) -> pl.DataFrame:
        """The decoded fields of the snapshot's documents (id + schema), decoded once."""
        if self._columns is None:
            with self._lock:
                if self._columns is None:
                    self._columns = self._read_columns(self._schema) if self._read_columns else self._decode(self._base)
                    unsettled = self._unsettled
                    if unsettled is not None:  # (added in this transaction: the server has them once it commits)
                        self._columns, self._as_read = pl.concat([self._columns, unsettled.fields]), False
        return self._columns

    def snapshot_columns(self) -> pl.DataFrame | None:
        """`columns()` while it holds the snapshot's documents only, as read; None once
        documents were added or folded into it."""
        return self.columns() if self._as_read else None

    def _decode(self, text: pl.DataFrame) -> pl.DataFrame:
        """The schema's fields of (id, doc) rows. json_decode runs on one core a
        column, so large frames are decoded in slices side by side."""
        parts = max(1, min(pl.thread_pool_size(), text.height // DECODE_SLICE))
        size = -(-text.height // parts)
        decode = pl.col("doc").str.json_decode(pl.Struct(self._schema)).alias("_doc")
        frames = pl.collect_all([text.slice(i * size, size).lazy().select("id", decode).unnest("_doc")
                                 for i in range(parts)])
        return pl.concat(frames) if parts > 1 else frames[0]

    def _frame_of_some(self, wanted: set[int]) -> pl.DataFrame:
        """`frame(ids)` of a table read one document at a time whose fields are not held: the
        stored documents' taken out by the server (a sweep at millions names its pairs' customers
        without their ten million), those written or added here since, decoded."""
        assert self._read_columns is not None
        patched = self._patched_ids() & wanted
        stored = sorted(wanted - self._written.keys() - patched)
        parts = [self._read_columns(self._schema, stored)] if stored else []
        unsettled = self.unsettled_fields()
        if unsettled is not None:
            parts.append(unsettled.filter(pl.col("id").is_in(stored)))
        live = self._live(wanted) + [(i, doc) for i in sorted(patched) if (doc := self._find(i)) is not None]
        if live:
            parts.append(self._decode(self._fresh_text(live)))
        if not parts:
            return self._decode(pl.DataFrame(schema=_TEXT_SCHEMA))
        return pl.concat(parts, how="vertical_relaxed").sort("id")

    def _live(self, wanted: set[int] | None = None) -> list[tuple[int, dict[str, Any]]]:
        return [(i, d) for i, d in sorted(self._written.items()) if d is not None and (wanted is None or i in wanted)]

    def _fresh_text(self, live: list[tuple[int, dict[str, Any]]]) -> pl.DataFrame:
        """(id, JSON text) of documents written since the snapshot."""
        return pl.DataFrame({"id": [i for i, _ in live], "doc": [dumps(d).decode() for _, d in live]},
                            schema=_TEXT_SCHEMA)

    def _changed(self) -> None:
        self._version += 1
        self._whole = None

    def frame(self, ids: Iterable[int] | None = None) -> pl.DataFrame:
        """The documents' decoded fields (absent: null) with `id`, in id order; all or the given ids."""
        if ids is not None:
            return self._frame(set(ids))
        whole, version = self._whole, self._version
        if whole is None:
            whole = self._frame(None)
            if version == self._version and self._written:  # (nothing written meanwhile, by another thread)
                self._whole = whole
        return whole

    def _frame(self, wanted: set[int] | None) -> pl.DataFrame:
        if wanted is not None and self._columns is None and self.reads_alone and self._read_columns is not None:
            return self._frame_of_some(wanted)
        base = self.columns()
        # The wanted rows first: a few ids (a view's or the matcher's refresh after a write) are
        # then one pass over the column, not two, and none when all were written since.
        if wanted is not None:
            stored = wanted - self._written.keys()
            base = base.filter(pl.col("id").is_in(list(stored))) if stored else base.clear()
        elif self._written:
            base = base.filter(~pl.col("id").is_in(list(self._written)))
        if not self._written:
            return base
        # Decoded from their JSON like the rest: the same types (a list column built
        # from Python lists would cost ~5 µs a row).
        fresh = self._decode(self._fresh_text(self._live(wanted)))
        return pl.concat([base, fresh]).sort("id") if fresh.height else base

    # -- writing -------------------------------------------------------------
    def __setitem__(self, doc_id: int, doc: dict[str, Any]) -> None:
        self._put(doc_id, doc)

    def pop(self, doc_id: int, default: None = None) -> dict[str, Any] | None:
        old = self._find(doc_id)
        if old is not None:
            self._put(doc_id, None)
        return old

    def _put(self, doc_id: int, doc: dict[str, Any] | None) -> None:
        self._changed()
        written = self._written
        if "_count" not in self.__dict__:
            written[doc_id] = doc  # counted when the text is read (replaying the log reads none)
            return
        if doc_id in written:
            existed = written[doc_id] is not None
        else:
            existed = doc_id <= self._max_id and self._position(doc_id) >= 0
        written[doc_id] = doc
        self._count += (doc is not None) - existed

    def extend(self, ids: list[int], texts: ObjectTexts) -> pl.DataFrame:
        """Add new documents whose ids come after every one held (an import's, added
        column-wise: no dict each), given as JSON text with the frame of fields it is written
        from (built when needed: a table read one document at a time holds none); returns
        their decoded fields (`frame()`'s columns)."""
        fields = texts.frame
        # What decoding the text would give, taken from the fields instead (a JSON decode of 1M documents costs 2 s).
        decoded = fields.select(pl.Series("id", ids, dtype=pl.Int64),
                                *(_conformed(fields, name, dtype).alias(name) for name, dtype in self._schema.items()))
        with self._lock:
            if self.reads_alone:
                if ids:
                    self._add_unsettled(Added.of(decoded, texts))
                return decoded
            if ids and ids[0] <= max(self._max_id, *self._written, -1):
                raise ValueError(f"document ids from {ids[0]} are not new")
            if self._at is not None and "_base" not in self.__dict__ and len(ids) <= FEW_NEW:
                # A few documents (a 3-row import) into a table read line by line: kept as written
                # ones, so that adding them does not read the whole text (430 MB at 1M customers).
                for doc_id, text in zip(ids, texts.series().to_list(), strict=True):
                    self._put(doc_id, orjson.loads(text))
                return decoded
            columns, count = self._columns, self._count
            if columns is None:
                self._read_columns = None  # (a server's would lack these rows until they are committed)
            self._as_read = False
            fresh = pl.DataFrame({"id": ids, "doc": texts.series()}, schema=_TEXT_SCHEMA)
            self._set_base(pl.concat([self._base, fresh]), ordered=True)
            self._count = count + len(ids)
            if columns is not None:  # else decoded with the rest when first asked for
                self._columns = pl.concat([columns, decoded])
            self._changed()
        return decoded

    def _add_unsettled(self, added: Added) -> None:
        """`extend` of a table read one document at a time: the new documents held until
        `settle`, the others left on the server."""
        unsettled = self._unsettled
        newest = max((-1, *self._written, *(() if unsettled is None else (unsettled.last,))))
        if added.first <= newest:
            raise ValueError(f"document ids from {added.first} are not new")
        self._unsettled = added if unsettled is None else unsettled.plus(added)
        if self._columns is not None:
            self._columns = pl.concat([self._columns, added.fields])
            self._as_read = False
        self._changed()

    def settle(self) -> None:
        """The documents `extend` added and `patch` changed are committed: a table read one
        document at a time reads them from the server from now on, and holds them no longer."""
        with self._lock:
            if self._unsettled is not None and self._columns is not None:
                # (its fields were taken into the columns read whole, for a count of a store
                # never committed to: a first import of a million prospects held 150 MB more)
                self._columns, self._as_read = None, True
                self._changed()
            self._unsettled = None
            self._patched = []

    def unsettled_fields(self) -> pl.DataFrame | None:
        """The decoded fields (id and `frame()`'s columns) of the documents `extend` added to a
        table read one document at a time, until their commit (`settle`); None: there are none."""
        unsettled = self._unsettled
        return None if unsettled is None else unsettled.fields

    def drop_new(self, first: int) -> None:
        """Forget every document from id `first` on (the rows of an `extend` rolled back,
        and anything written after them): ids past the store's next one no longer exist."""
        with self._lock:
            if self.reads_alone:
                self._drop_unsettled(first)
                return
            columns = self._columns
            self._set_base(self._base.filter(pl.col("id") < first), ordered=True)
            self._as_read = False
            if columns is not None:
                self._columns = columns.filter(pl.col("id") < first)
            self._written = {i: d for i, d in self._written.items() if i < first}
            self._changed()
            self._count += sum((d is not None) - (self._position(i) >= 0) for i, d in self._written.items())

    def _drop_unsettled(self, first: int) -> None:
        """`drop_new` of a table read one document at a time (none of its documents is held)."""
        unsettled = self._unsettled
        if unsettled is not None:
            self._unsettled = unsettled.before(first)
        self._written = {i: d for i, d in self._written.items() if i < first}
        if self._columns is not None:
            self._columns = self._columns.filter(pl.col("id") < first)
        self._changed()

    def written_docs(self) -> Mapping[int, dict[str, Any] | None]:
        """The documents written since the table was read or last folded (None: deleted); read only."""
        return self._written

    def written_count(self) -> int:
        """Documents written since the table was read or last folded."""
        return len(self._written)

    def fold(self) -> None:
        """Turn the documents written since the snapshot into text (before writing one; or, in
        memory only, once many are held: a document as a Python dict takes ~4 KB, as text ~0.5 KB)."""
        if not self._written:
            return
        if self.reads_alone:
            self._let_written_go()
            return
        written = list(self._written)
        fresh = self._fresh_text(self._live())
        columns = self._taking_written_in(self.columns(), fresh)
        kept = self._base.filter(~pl.col("id").is_in(written))
        self._set_base(pl.concat([kept, fresh]))
        self._columns = columns
        self._written = {}
        self._as_read = False
        self._changed()

    def _let_written_go(self) -> None:
        """`fold` of a table read one document at a time from a server, once what was written
        is committed: the server holds those documents, and they are read from it again when
        needed (folded into the table's text, they had its ten million documents read first).
        Decoded fields held (a view's) take the written ones in."""
        with self._lock:
            if self._columns is not None:
                self._columns = self._taking_written_in(self._columns, self._fresh_text(self._live()))
                self._as_read = False
            self._written = {}
            self._changed()

    def _taking_written_in(self, columns: pl.DataFrame, fresh: pl.DataFrame) -> pl.DataFrame:
        """Decoded fields with those of the documents written since (`fresh`: their text) in
        place of theirs, the deleted ones gone, in id order."""
        kept = columns.filter(~pl.col("id").is_in(list(self._written)))
        return pl.concat([kept, self._decode(fresh)], how="vertical_relaxed").sort("id")

    def line_starts(self) -> pl.Series:
        """Where each document's line starts in the text `chunks` writes, from the table's first
        byte, in id order (call fold() first)."""
        if self._at is not None and not self._written and "_base" not in self.__dict__:
            return self._at
        # `"<id>":{...},` and a newline each, after the table's opening `{` and newline (the text
        # of a table kept before line starts were is read here, once).
        lengths = self._base.select(pl.col("doc").str.len_bytes().cast(pl.Int64)
                                    + pl.col("id").cast(pl.String).str.len_bytes().cast(pl.Int64) + 5).to_series()
        return (lengths.cum_sum().shift(1, fill_value=0) + 2).alias(LINE_STARTS)

    def chunks(self) -> Iterator[bytes]:
        """The table as the snapshot stores it: `{\\n"<id>":{...},\\n...\\n}` (call fold() first)."""
        text = self.__dict__.get("_text")
        if text is not None and not self._written:
            yield text()  # never loaded nor changed: the old snapshot's text as it is
            return
        if self._base.height == 0:
            yield b"{}"
            return
        yield b"{\n"
        height = self._base.height
        for start in range(0, height, WRITE_CHUNK):
            # One `"<id>":{...},` line per document, written by polars straight into bytes.
            lines = io.BytesIO()
            self._base.slice(start, WRITE_CHUNK).select(pl.format('"{}":{},', "id", "doc")).write_csv(
                lines, include_header=False, quote_style="never")
            chunk = lines.getvalue()
            yield chunk if start + WRITE_CHUNK < height else chunk[:-2] + b"\n"  # no comma after the last
        yield b"}"
