"""The engine's meta document and small tables as committed, read without the lock and
without parsing any other table.

`custdesk stats` needs only the counts the engine keeps in its meta document
(`tallies`): the snapshot's table of contents gives that small table's bytes,
and the change log's records after it give the newer versions. Every table's
bytes are checked against their CRC all the same (summed, not parsed: ~0.1 s
per 100 MB), so a damaged store is refused here as at any open, naming
`custdesk repair`. Nothing here loads polars or a large table.
"""
from __future__ import annotations

import mmap
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from store.engine.changelog import ChangeLog
from store.engine.schema import META, META_ID
from store.engine.toc import check_file, damaged, is_toc, looks_like_toc, parse_toc


def peek_meta(path: str | Path) -> dict[str, Any] | None:
    """The meta document, or None when there is no store file or it has no table of contents
    (a file TinyDB wrote: it must be read whole)."""
    peeked = peek_tables(path, ())
    return None if peeked is None else peeked.meta


class Peeked(NamedTuple):
    """Small tables as committed, and what the change log holds after the snapshot."""

    path: Path
    ranges: dict[str, list[int]]        # each table's bytes in the snapshot (checked)
    meta: dict[str, Any]
    tables: dict[str, dict[int, Any]]   # the tables asked for, by id
    later: list[list[Any]]              # [table, id, document or None] of the log, in order


def peek_tables(path: str | Path, names: Sequence[str]) -> Peeked | None:
    """The small tables `names` as committed (the snapshot's bytes and the change log's
    newer versions), without the lock and without reading any other table; None as
    `peek_meta`. The whole file is checked against its checksums all the same."""
    path = Path(os.path.realpath(path))
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below; read with pread
    except FileNotFoundError:
        return None
    with handle:
        first = handle.readline()
        if not is_toc(first):
            if looks_like_toc(first):
                raise damaged(path, "the table of contents is damaged")
            return None
        _generation, ranges = parse_toc(path, first)
        missing = next((name for name in (META, *names) if name not in ranges), None)
        if missing is not None:
            raise damaged(path, f"the table of contents is damaged (no table '{missing}')")
        check_file(path, handle.fileno(), first, ranges)
        raws = {name: os.pread(handle.fileno(), ranges[name][1] - ranges[name][0], ranges[name][0]) for name in (META, *names)}
    tables: dict[str, dict[int, Any]] = {}
    for name, raw in raws.items():
        if len(raw) != ranges[name][1] - ranges[name][0]:
            raise damaged(path, f"table '{name}' is cut short")
        tables[name] = {int(doc_id): doc for doc_id, doc in orjson.loads(raw).items()}
    meta: dict[str, Any] = tables.pop(META).get(META_ID) or {}
    later = _later_ops(path, meta.get("seq", 0))
    for table, doc_id, doc in later:
        if table == META and doc is not None:
            meta = doc
        elif table in tables:
            if doc is None:
                tables[table].pop(int(doc_id), None)
            else:
                tables[table][int(doc_id)] = doc
    return Peeked(path, ranges, meta, tables, later)


def _later_ops(path: Path, seq: int) -> list[list[Any]]:
    """The change log's operations committed after the snapshot's `seq`, in order."""
    ops: list[list[Any]] = []
    records, _end = ChangeLog(path.with_name(path.name + ".log")).read_from(0)
    for record in records:
        if record["seq"] != seq + 1:
            continue  # already in the snapshot, or after a gap the full open would stop at too
        ops += record["ops"]
        seq = record["seq"]
    return ops


def peek_where(peeked: Peeked, table: str, field: str, value: str) -> set[int]:
    """Ids of the documents of `table` whose `field` is `value`, found in the snapshot's text
    (each document is one line: only the lines holding `"field":"value"` are parsed, and
    judged by their parsed value) and in the change log's newer versions: a customer by
    its number at 100k without parsing 100k documents or loading polars."""
    needle = b'"%s":%s' % (field.encode(), orjson.dumps(value))
    found = {doc_id for doc_id, doc in _lines_holding(peeked, table, needle) if doc.get(field) == value}
    for name, doc_id, doc in peeked.later:
        if name == table:
            (found.add if doc is not None and doc.get(field) == value else found.discard)(int(doc_id))
    return found


def peek_document(peeked: Peeked, table: str, doc_id: int) -> dict[str, Any] | None:
    """One document of `table` as committed, found by its id's line in the snapshot's text."""
    latest: tuple[dict[str, Any] | None] | None = None
    for name, later_id, doc in peeked.later:
        if name == table and int(later_id) == doc_id:
            latest = (doc,)
    if latest is not None:
        return latest[0]
    return next((doc for found, doc in _lines_holding(peeked, table, b'\n"%d":{' % doc_id) if found == doc_id), None)


def _lines_holding(peeked: Peeked, table: str, needle: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    start, end, *_crc = peeked.ranges[table]
    with open(peeked.path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as text:
        at = text.find(needle, start, end)
        while at >= 0:
            line_start = text.rfind(b"\n", start, at + 1) + 1
            line_end = text.find(b"\n", at + 1, end)
            line = text[line_start:line_end if line_end >= 0 else end].rstrip(b",")
            try:
                (doc_id, doc), = orjson.loads(b"{" + line + b"}").items()
                yield int(doc_id), doc
            except (orjson.JSONDecodeError, ValueError):
                pass  # (the needle inside a longer line that is no one document: not a match)
            at = text.find(needle, (line_end if line_end >= 0 else end), end)
