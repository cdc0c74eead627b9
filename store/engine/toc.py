"""The snapshot's first line: its table of contents (see `snapshot`), written and read.

Kept apart from `snapshot` so that a reader that needs only the small tables
(`peek`) loads neither polars nor the large tables' machinery."""
from __future__ import annotations

import os
import re
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from store.base.errors import StoreCorrupt

TOC = "_toc"
START = b'{"_toc":{"1":'
END = b"},\n"
_WIDTH = 14
# What every refusal of a damaged store tells the user to do (there are no backups to restore).
REPAIR = "nothing was changed: run 'custdesk repair' to keep every intact record"
_BLOCK = 4 << 20
# One table's entry as `toc_line` writes it (fixed widths: nothing else in a store file looks like it).
_ENTRY = re.compile(rb'"([^"\\]+)":\[( *\d+),( *\d+),( *\d+)\]')
_GENERATION = re.compile(rb'"generation":"([0-9a-f]{16})"')


def damaged(path: Path, what: str) -> StoreCorrupt:
    """The one-line refusal of a store whose files are damaged, naming `custdesk repair`."""
    return StoreCorrupt(f"{path}: {what}; {REPAIR}")


def toc_line(generation: str, ranges: Mapping[str, tuple[int, int, int]]) -> bytes:
    # Fixed widths: the placeholder written first has the length of the real line.
    body = ",".join(f'"{name}":[{start:{_WIDTH}d},{end:{_WIDTH}d},{crc:10d}]' for name, (start, end, crc) in ranges.items())
    return START + f'{{"generation":"{generation}","tables":{{{body}}}}}'.encode() + END


def is_toc(first: bytes) -> bool:
    """Whether the file's first line is a table of contents (else a file TinyDB wrote)."""
    return first.startswith(START) and first.endswith(END)


def looks_like_toc(first: bytes) -> bool:
    """Whether a first line that is not a table of contents is a damaged one (else the file
    is one TinyDB wrote, read whole)."""
    return any(_whole(m) for m in _ENTRY.finditer(first))


def _whole(entry: re.Match[bytes]) -> bool:
    return (len(entry[2]), len(entry[3]), len(entry[4])) == (_WIDTH, _WIDTH, 10)


def parse_toc(path: Path, first: bytes) -> tuple[str, dict[str, list[int]]]:
    """(generation, table → [start, end, crc]) of a first line that `is_toc`."""
    try:
        toc: dict[str, Any] = orjson.loads(first[len(START):-len(END)])
        generation, tables = toc["generation"], toc["tables"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as err:
        raise damaged(path, f"the table of contents is damaged ({err})") from None
    if not (isinstance(generation, str) and isinstance(tables, dict) and all(
            isinstance(r, list) and len(r) in (2, 3) and all(type(v) is int for v in r) for r in tables.values())):
        raise damaged(path, "the table of contents is damaged")
    return generation, tables


def read_entries(first: bytes) -> tuple[str | None, dict[str, list[int]]]:
    """What can still be read of a table of contents, damaged or not: its generation (None if
    unreadable) and each entry that still has its form (for `custdesk repair`)."""
    generation = _GENERATION.search(first)
    entries = {m[1].decode("utf-8", "replace"): [int(m[2]), int(m[3]), int(m[4])] for m in _ENTRY.finditer(first)
               if _whole(m)}
    return (generation[1].decode() if generation else None), entries


def framed(fd: int, first: bytes, ranges: Mapping[str, list[int]]) -> bool:
    """Whether what the snapshot holds around its tables' ranges is as `snapshot.write_snapshot`
    writes it: `"<name>":` before each, `,\n` between them, `\n}\n` to end the file (the
    checksums cover only the tables' own bytes)."""
    position = len(first)
    for n, (name, (start, end, *_crc)) in enumerate(ranges.items()):
        lead = (b",\n" if n else b"") + b'"%s":' % name.encode()
        if start != position + len(lead) or end < start or os.pread(fd, len(lead), position) != lead:
            return False
        position = end
    return os.fstat(fd).st_size == position + 3 and os.pread(fd, 3, position) == b"\n}\n"


def check_file(path: Path, fd: int, first: bytes, ranges: Mapping[str, list[int]]) -> None:
    """Refuse (StoreCorrupt naming `custdesk repair`) a snapshot whose tables' bytes do not
    match their checksums or whose framing around them is damaged: read and summed in
    blocks, ~0.03 s per 100 MB. A file written before checksums were kept is not checked."""
    if not all(len(r) == 3 for r in ranges.values()):
        return
    if not framed(fd, first, ranges):
        raise damaged(path, "the store file's framing around its tables is damaged")
    sums = _sums(fd, ranges)
    for name, (_start, _end, crc) in ranges.items():  # (in the file's order: the first damaged table is named)
        if sums[name] != crc:
            raise damaged(path, f"table '{name}' is damaged (its checksum does not match)")


def _sums(fd: int, ranges: Mapping[str, list[int]]) -> dict[str, int]:
    """Each table's CRC-32, two tables at a time, largest first: the reads and zlib leave the
    interpreter's lock, so a second core halves the check (1.1 GB at 1M customers: ~0.3 s)."""
    from concurrent.futures import ThreadPoolExecutor

    names = sorted(ranges, key=lambda name: ranges[name][0] - ranges[name][1])
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        found = pool.map(lambda name: crc_of(fd, ranges[name][0], ranges[name][1]), names)
        return dict(zip(names, found, strict=True))


def crc_of(fd: int, start: int, end: int) -> int:
    """CRC-32 of the bytes [start, end) of the file, read in blocks."""
    found, offset = 0, start
    while offset < end:
        block = os.pread(fd, min(_BLOCK, end - offset), offset)
        if not block:
            break
        found = zlib.crc32(block, found)
        offset += len(block)
    return found
