"""The snapshot file: a TinyDB database laid out so each table can be read alone.

    {"_toc":{"1":{"generation":"…","tables":{"customers":[   start,     end,  crc32],…}}},
    "customers":{
    "1":{...},
    "2":{...}
    },
    "sources":{}
    …
    }

It is one JSON object of tables of `"<doc id>": document`, as TinyDB reads
and writes it; the first line is a TinyDB table too, `_toc`, whose one
document gives each table's byte range and the CRC-32 of those bytes
(fixed-width numbers, so it is written last, in place) and the generation
that tags the columns file. Every table is checked against its CRC before
anything of it is used: at open, or (an app painting its first screen first)
when its text is first read or `Table.verify` is called; the bytes around the
tables (`"<name>":`, `,`, the end) at every open. A damaged file is refused in
one line naming `custdesk repair`, which keeps what is intact (`sections`). Opening reads the
small tables and the table of contents; a large table's text is read when
first used, from the same file even if another process has replaced it since
(the handle stays open). A file without the `_toc`
line (written by TinyDB itself or by an older custdesk) is read whole.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import threading
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import polars as pl

from store.base.files import atomic_write, write_all
from store.engine.columns import read_columns, write_columns
from store.engine.schema import META, META_ID, Schema
from store.engine.table import Table, dumps
from store.engine.toc import TOC, check_file, crc_of, damaged, framed, is_toc, looks_like_toc, parse_toc, toc_line

Tables = dict[str, Table | dict[int, dict[str, Any]]]


def empty_tables(schema: Schema) -> Tables:
    return {name: Table(schema.columns[name]) if name in schema.columns else {} for name in schema.tables}


def _dict_chunks(rows: Mapping[int, dict[str, Any]]) -> list[bytes]:
    if not rows:
        return [b"{}"]
    return [b"{\n" + b",\n".join(b'"%d":%s' % (doc_id, dumps(rows[doc_id])) for doc_id in sorted(rows)) + b"\n}"]


def write_snapshot(path: Path, tables: Mapping[str, Table | Mapping[int, dict[str, Any]]], schema: Schema) -> str:
    """Write every table (folding what was written since the last snapshot) atomically,
    the columns file first: a crash between the two leaves a columns file of another
    generation, which is ignored. Returns the new snapshot's generation."""
    # Every table is written, empty or not, so the file always has the same shape.
    names = [*schema.tables, *(name for name in tables if name not in schema.tables and name != TOC)]
    generation = secrets.token_hex(8)
    large = {name: rows for name, rows in tables.items() if isinstance(rows, Table)}
    for rows in large.values():
        rows.fold()
    write_columns(path, generation, {name: _columns_to_keep(rows) for name, rows in large.items()})
    placeholder = toc_line(generation, dict.fromkeys(names, (0, 0, 0)))

    def fill(fd: int) -> None:
        write_all(fd, placeholder)
        position = len(placeholder)
        ranges = {}
        for n, name in enumerate(names):
            lead = b'"%s":' % name.encode()
            write_all(fd, lead)
            position += len(lead)
            start, crc = position, 0
            rows = tables.get(name, {})
            for chunk in rows.chunks() if isinstance(rows, Table) else _dict_chunks(rows):
                write_all(fd, chunk)
                position += len(chunk)
                crc = zlib.crc32(chunk, crc)
            ranges[name] = (start, position, crc)
            tail = b"\n}\n" if n == len(names) - 1 else b",\n"
            write_all(fd, tail)
            position += len(tail)
        os.pwrite(fd, toc_line(generation, ranges), 0)

    atomic_write(path, fill)
    return generation


class _TableText:
    """A table's bytes in the snapshot, checked against the CRC-32 written with them
    the first time they are read, or by `verify` (files written before checksums have none)."""

    def __init__(self, path: Path, handle: BinaryIO, name: str, start: int, end: int, crc: int | None) -> None:
        self.path, self.name, self._start, self._end, self._crc = path, name, start, end, crc
        self._handle = handle  # kept open (and alive) while the table may still be read
        self._fd = handle.fileno()
        self._verifying = threading.Lock()  # (a check on another thread is waited for, not done twice)

    def __call__(self) -> bytes:
        parts, offset = [], self._start
        while offset < self._end:
            part = os.pread(self._fd, self._end - offset, offset)
            if not part:
                raise damaged(self.path, f"table '{self.name}' is cut short")
            parts.append(part)
            offset += len(part)
        text = b"".join(parts)
        if self._crc is not None:  # (a table checked at open is not summed again)
            self._check(zlib.crc32(text))
        if not (text.startswith(b"{") and text.endswith(b"}")):
            raise damaged(self.path, f"table '{self.name}' is damaged")
        return text

    def read_range(self, start: int, end: int | None) -> bytes:
        """The bytes [start, end) of the table's text (None: to its end), once the whole table
        is checked against its checksum."""
        self.verify()
        stop = self._end if end is None else self._start + end
        found = os.pread(self._fd, stop - self._start - start, self._start + start)
        if len(found) != stop - self._start - start:
            raise damaged(self.path, f"table '{self.name}' is cut short")
        return found

    def verify(self) -> None:
        """Check the bytes without keeping them (streamed: ~0.1 s for 100 MB)."""
        with self._verifying:
            if self._crc is not None:
                self._check(crc_of(self._fd, self._start, self._end))

    def _check(self, found: int) -> None:
        if self._crc is None:
            return
        if found != self._crc:
            raise damaged(self.path, f"table '{self.name}' is damaged (its checksum does not match)")
        self._crc = None  # checked once: the bytes never change under an open handle


def read_tables(path: Path, schema: Schema, *, verify: bool = True) -> Tables | None:
    """Every table of the snapshot (None when there is no file or it is empty). `verify`:
    check every table's checksum now; else a large table's when its text is first read
    or its `Table.verify` is called (the small ones are read, and so checked, now)."""
    return read_snapshot(path, schema, verify=verify)[0]


def read_snapshot(path: Path, schema: Schema, *, verify: bool = True) -> tuple[Tables | None, str | None]:
    """`read_tables`, and the generation of the snapshot they were read from (None: a file
    without a table of contents): what the files kept beside it are tagged with."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - stays open while any table may still read from it
    except FileNotFoundError:
        return None, None
    try:
        return _read_tables(path, handle, schema, verify)
    except BaseException:
        handle.close()
        raise


def _read_tables(path: Path, handle: BinaryIO, schema: Schema, verify: bool) -> tuple[Tables | None, str | None]:
    first = handle.readline()
    if not first.strip():
        handle.close()
        return None, None
    if not is_toc(first):
        if looks_like_toc(first):
            raise damaged(path, "the table of contents is damaged")
        with handle:
            return _as_tables(path, orjson_load(path, first + handle.read()), schema), None
    generation, ranges = parse_toc(path, first)
    missing = [name for name in schema.tables if name not in ranges]
    if missing:
        raise damaged(path, f"the table of contents is damaged (no table '{missing[0]}')")
    if os.fstat(handle.fileno()).st_size < max((r[1] for r in ranges.values()), default=0):
        raise damaged(path, "the store file is cut short (a copy stopped early?)")
    if verify:
        check_file(path, handle.fileno(), first, ranges)  # (then no table is summed again when read)
    elif all(len(r) == 3 for r in ranges.values()) and not framed(handle.fileno(), first, ranges):
        raise damaged(path, "the store file's framing around its tables is damaged")
    texts = {name: _TableText(path, handle, name, start, end, crc[0] if crc and not verify else None)
             for name, (start, end, *crc) in ranges.items()}
    columns = read_columns(path, generation, schema.columns)
    tables = empty_tables(schema)
    for name, read in texts.items():
        if name in schema.columns:
            tables[name] = Table(schema.columns[name], text=read, columns=columns.get(name), check=read.verify,
                                 read_range=read.read_range)
        else:
            try:
                tables[name] = {int(k): v for k, v in orjson.loads(read()).items()}
            except (ValueError, AttributeError) as err:
                raise damaged(path, f"table '{name}' is damaged ({err})") from None
    if generation is not None and not columns:
        _save_columns(path, generation, tables)
    return tables, generation


def _save_columns(path: Path, generation: str, tables: Tables) -> None:
    """Decode the large tables' fields now and keep them beside the snapshot: its columns file
    was missing, damaged or of an older layout (an older custdesk's), and would otherwise be
    decoded again at every open until the next snapshot. Best effort: a store read where it
    cannot be written decodes them again next time (a file of another generation is ignored,
    so one written meanwhile by another process is never taken for this snapshot's)."""
    large = {name: rows for name, rows in tables.items() if isinstance(rows, Table)}
    with contextlib.suppress(OSError):
        write_columns(path, generation, {name: _columns_to_keep(rows) for name, rows in large.items()})


def _columns_to_keep(rows: Table) -> pl.DataFrame:
    """The table's decoded fields, and where each document's line starts when that is known."""
    columns, starts = rows.columns(), rows.line_starts()
    return columns.with_columns(starts) if len(starts) == columns.height else columns


def orjson_load(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise damaged(path, f"not a custdesk store, or a damaged one ({err})") from None
    if not isinstance(data, dict):
        raise damaged(path, "not a custdesk store, or a damaged one (top level is not an object)")
    return data


def _as_tables(path: Path, data: Mapping[str, object], schema: Schema) -> Tables:
    """Tables from a whole parsed file, which TinyDB itself may have written: then
    its ids are known only from its documents, and new ones must come after them."""
    tables = empty_tables(schema)
    next_ids = {}
    for name, rows in data.items():
        if name == TOC:
            continue
        if not isinstance(rows, dict):
            raise damaged(path, f"table '{name}' is not an object")
        docs = {int(k): v for k, v in rows.items()}
        tables[name] = Table.from_docs(schema.columns[name], docs) if name in schema.columns else docs
        if docs:
            next_ids[name] = max(docs) + 1
    meta = tables[META].get(META_ID) or {"seq": 0, "counters": {}, "schema_version": schema.version}
    known = meta.get("next_ids") or {}
    tables[META][META_ID] = {**meta, "next_ids": {**next_ids, **{t: max(n, next_ids.get(t, 1)) for t, n in known.items()}}}
    return tables
