"""What `custdesk repair` can still read of a snapshot, table by table, damaged or not.

The snapshot (`snapshot`) holds one document a line, `"<id>":{...}`, each table's
lines between `"<name>":{` and `}`; its table of contents gives each table's byte
range and CRC-32. A table whose bytes match their checksum is kept whole. Its range
is taken from the table of contents, or, when that is damaged, from the table's
own `"<name>":{` line.

A table whose bytes do not match is read line by line, and a line is kept when:
- it is a document: `"<id>":` then a JSON object;
- its id keeps the table's order (ids are written ascending: a damaged id falls out);
- for a table whose fields are kept in the columns file (`columns`) of this very
  snapshot, its fields are the ones the columns file holds for that id. That file is a
  second witness, written from the same documents: a changed letter in a customer's
  name still parses as JSON, but no longer matches it.
A value that no witness covers (a field the columns file does not keep, a table it
does not hold, or any table when the columns file is unreadable) cannot be told from
the original: such values are kept as read; the report names the fields that were
confirmed (`witnessed`) and counts the documents no witness checked (`unwitnessed`).
"""
from __future__ import annotations

import bisect
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from store.base.errors import StoreCorrupt
from store.engine.columns import read_columns
from store.engine.schema import META, META_ID, Schema
from store.engine.snapshot import Tables, empty_tables, read_tables
from store.engine.table import Table
from store.engine.toc import TOC, framed, is_toc, looks_like_toc, parse_toc, read_entries

_DOCUMENT = re.compile(rb'"([1-9]\d{0,17})":(\{.*\}),?')
_TEXT_SCHEMA = {"id": pl.Int64, "doc": pl.String}


@dataclass
class TableFinding:
    """What became of one table: `intact` (its checksum matches), `damaged` (read line by
    line) or `missing` (no range of it could be found: none of its documents are known)."""

    state: str
    kept: int = 0
    lost: int = 0  # its documents (or, unwitnessed, its lines) that could not be kept
    unwitnessed: int = 0  # of those kept from a damaged table: checked by no second witness
    lost_ids: set[int] = field(default_factory=set)  # the lost documents' ids, where known
    witnessed: list[str] = field(default_factory=list)  # the fields the columns file confirmed


@dataclass
class Salvaged:
    tables: Tables
    findings: dict[str, TableFinding]
    damage: list[str]  # what is damaged beyond the tables: the table of contents, the framing
    columns_usable: bool  # the columns file belongs to this snapshot and reads whole

    @property
    def intact(self) -> bool:
        return not self.damage and all(f.state == "intact" for f in self.findings.values())


def salvage_snapshot(path: Path, schema: Schema) -> Salvaged | None:
    """Every table of the snapshot at `path` with what could be kept of it (None: no file,
    or an empty one)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if not data.strip():
        return None
    first = data[:data.find(b"\n") + 1] or data
    if not is_toc(first) and not looks_like_toc(first):
        try:
            return _whole(path, schema)
        except StoreCorrupt:
            damage = ["the store file (it neither has a table of contents nor parses whole)"]
            generation: str | None = None
            ranges: dict[str, list[int]] = {}
    else:
        damage, generation, ranges = _contents(path, data, first, schema)
    columns = read_columns(path, generation, schema.columns)
    # A table the schema does not name (a newer custdesk's) is kept only from a table of contents
    # that is whole: in a damaged one, a name with a changed letter is no table.
    names = [*schema.tables, *(name for name in ranges if name not in schema.tables and name != TOC and not damage)]
    headers = _headers(data, names)
    tables, findings = empty_tables(schema), {}
    for name in names:
        entry = ranges.get(name) or []
        candidates = [(entry[0], entry[1])] if len(entry) > 1 and 0 <= entry[0] <= entry[1] <= len(data) else []
        candidates += [headers[name]] if name in headers else []
        whole = next((data[a:b] for a, b in candidates if _checks(data[a:b], entry[2:])), None)
        if whole is not None:
            tables[name], findings[name] = _intact(name, whole, schema, columns.get(name))
        elif candidates:
            # A damaged table's range: the table of contents' when that is whole, else its own lines'.
            start, end = candidates[0] if not damage else candidates[-1]
            tables[name], findings[name] = _damaged(name, data[start:end], schema, columns.get(name))
        else:
            findings[name] = TableFinding("missing")
    return Salvaged(tables, findings, damage, bool(columns))


def _contents(path: Path, data: bytes, first: bytes, schema: Schema) -> tuple[list[str], str | None, dict[str, list[int]]]:
    """What is damaged around the tables, the generation and each table's [start, end, crc]:
    from the table of contents, or what can still be read of it when it is damaged."""
    try:
        whole: tuple[str, dict[str, list[int]]] | None = parse_toc(path, first)
    except StoreCorrupt:
        whole = None
    if whole is not None and is_toc(first) and all(name in whole[1] for name in schema.tables):
        with open(path, "rb") as handle:
            framing = [] if framed(handle.fileno(), first, whole[1]) else ["the framing around the tables"]
        return framing, *whole
    # (A flipped byte may have made a newline of its own: the table of contents ends before the first table.)
    return ["the table of contents"], *read_entries(data[:min(_found(data, schema.tables), default=len(first))])


def _checks(text: bytes, crc: list[int]) -> bool:
    """Whether a table's bytes are the ones written (a file written before checksums were
    kept has none: then whether they parse)."""
    if crc:
        return zlib.crc32(text) == crc[0]
    try:
        return isinstance(orjson.loads(text), dict)
    except orjson.JSONDecodeError:
        return False


def _whole(path: Path, schema: Schema) -> Salvaged:
    """A file without a table of contents (TinyDB wrote it) has no checksums: it is kept
    if it parses whole, else nothing of it can be told apart."""
    tables = read_tables(path, schema)
    if tables is None:
        raise StoreCorrupt(f"{path}: its first line is empty")
    return Salvaged(tables, {name: TableFinding("intact", kept=len(rows)) for name, rows in tables.items()}, [], False)


def _found(data: bytes, names: Iterable[str]) -> list[int]:
    """Where the tables' `"<name>":{` lines are."""
    return [at for at in (data.find(b'\n"%s":{' % name.encode()) for name in names) if at >= 0]


def _headers(data: bytes, names: list[str]) -> dict[str, tuple[int, int]]:
    """Each table's range (from its `{` to its `}`) found from its `"<name>":{` line: where
    the table of contents cannot be trusted. A table named twice is not found; a range
    ends at the last `}` line before the next table's line (a flipped byte may make a
    newline before a `}` inside a document), or at that line when the `}` is damaged."""
    found = {}
    for name in names:
        header = b'\n"%s":{' % name.encode()
        at = data.find(header)
        if at >= 0 and data.find(header, at + 1) < 0:
            found[name] = at + len(header) - 1
    starts = sorted(found.values())
    end_of_file = len(data) - 3 if data.endswith(b"\n}\n") else len(data)
    ranges = {}
    for name, start in found.items():
        following = bisect.bisect_right(starts, start)
        limit = starts[following] if following < len(starts) else end_of_file
        if data[start + 1:start + 2] == b"}":
            ranges[name] = (start, start + 2)
            continue
        close = data.rfind(b"\n}", start, limit)
        ranges[name] = (start, close + 2 if close >= 0 else limit)
    return ranges


def _intact(name: str, text: bytes, schema: Schema, columns: pl.DataFrame | None) -> tuple[Any, TableFinding]:
    if name in schema.columns:
        table = Table(schema.columns[name], text=lambda: text, columns=columns)
        return table, TableFinding("intact", kept=len(table))
    try:
        docs = {int(k): v for k, v in orjson.loads(text).items()}
    except (orjson.JSONDecodeError, AttributeError, ValueError):
        # The checksum matched what the table of contents says, yet it is no table: the
        # table of contents itself was written so; read it line by line all the same.
        return _damaged(name, text, schema, None)
    return docs, TableFinding("intact", kept=len(docs))


def _damaged(name: str, text: bytes, schema: Schema, witness: pl.DataFrame | None) -> tuple[Any, TableFinding]:
    """The documents of a table whose checksum does not match that pass every check there is."""
    lines, unreadable = _documents(text)
    if name == META:
        lines = [(doc_id, raw) for doc_id, raw in lines if doc_id == META_ID]  # (its one document)
    ordered = _in_order(lines)
    if witness is not None and name in schema.columns:
        kept_ids = _witnessed(schema.columns[name], ordered, witness)
        docs = {doc_id: doc for doc_id, doc in ordered.items() if doc_id in kept_ids}
        lost_ids = set(witness["id"].to_list()) - docs.keys()
        finding = TableFinding("damaged", kept=len(docs), lost=len(lost_ids), lost_ids=lost_ids,
                               witnessed=list(schema.columns[name]))
    else:
        docs = ordered
        finding = TableFinding("damaged", kept=len(docs), lost=unreadable + len(lines) - len(ordered),
                               unwitnessed=len(docs), lost_ids={i for i, _ in lines} - docs.keys())
    plain = {doc_id: orjson.loads(raw) for doc_id, raw in docs.items()}
    rows = Table.from_docs(schema.columns[name], plain) if name in schema.columns else plain
    return rows, finding


def _documents(text: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """(id, JSON text) of every line that is a document, and how many other lines there are."""
    lines, unreadable = [], 0
    body = text[1:] if text.startswith(b"{") else text
    body = body[:-1] if body.endswith(b"}") and body[-2:-1] in (b"\n", b"{", b"") else body
    for line in body.split(b"\n"):
        if not line:
            continue
        match = _DOCUMENT.fullmatch(line)  # (ids start at 1: a "0" is a damaged digit)
        try:
            if match is not None and isinstance(orjson.loads(match[2]), dict):
                lines.append((int(match[1]), match[2]))
                continue
        except orjson.JSONDecodeError:
            pass
        unreadable += 1
    return lines, unreadable


def _in_order(lines: list[tuple[int, bytes]]) -> dict[int, bytes]:
    """The longest run of documents whose ids ascend, as they were written: a damaged id
    (out of order, or twice) is left out."""
    tails: list[int] = []  # the smallest last id of an ascending run of each length
    tail_at: list[int] = []
    before = [-1] * len(lines)
    for n, (doc_id, _raw) in enumerate(lines):
        length = bisect.bisect_left(tails, doc_id)
        before[n] = tail_at[length - 1] if length else -1
        if length == len(tails):
            tails.append(doc_id)
            tail_at.append(n)
        else:
            tails[length], tail_at[length] = doc_id, n
    kept, n = {}, tail_at[-1] if tail_at else -1
    while n >= 0:
        kept[lines[n][0]] = lines[n][1]
        n = before[n]
    return dict(sorted(kept.items()))


def _witnessed(layout: Mapping[str, pl.DataType], docs: Mapping[int, bytes], witness: pl.DataFrame) -> set[int]:
    """The ids whose fields are the ones the columns file holds for them."""
    text = pl.DataFrame({"id": list(docs), "doc": [raw.decode() for raw in docs.values()]}, schema=_TEXT_SCHEMA)
    try:
        decoded = Table(layout, text=lambda: text).columns()
    except pl.exceptions.PolarsError:
        return set()  # (a value of another type: which one is not told; nothing is proven)
    seen = witness.with_columns(pl.lit(True).alias("_witnessed"))
    joined = decoded.join(seen, on="id", how="inner", suffix="_witness")
    same = pl.all_horizontal([pl.col(f).eq_missing(pl.col(f"{f}_witness")) for f in layout])
    return set(joined.filter(same)["id"].to_list())


def counted_numbers(rows: Mapping[int, Mapping[str, Any]], frame: pl.DataFrame | None, field_name: str) -> int:
    """The highest `<prefix>-<n>` number of the documents (0: none): a damaged meta
    document's counter is never left below it."""
    if frame is not None and field_name in frame.columns:
        values = frame[field_name]
    else:
        values = pl.Series([doc.get(field_name) for doc in rows.values()], dtype=pl.String)
    found = values.str.extract(r"(\d+)$").cast(pl.Int64, strict=False).max()
    return int(found) if isinstance(found, int) else 0

