"""Append-only change log beside the snapshot.

One commit is one line: `<length> <crc32> <json>\n`, appended and fsynced. A
crash mid-append leaves a torn last line whose length or checksum does not
match; it is ignored on read and cut off before the next append, so a commit
is in the store whole or not at all. The log is folded into the snapshot
(compaction) when it grows, which keeps a single edit from rewriting the
whole store.
"""
from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any

import orjson

from store.base.errors import StoreCorrupt
from store.base.files import FILE_MODE, atomic_write_bytes


def _encode(record: dict[str, Any]) -> bytes:
    payload = orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS)
    return b"%d %08x " % (len(payload), zlib.crc32(payload)) + payload + b"\n"


def _decode_line(line: bytes) -> dict[str, Any] | None:
    try:
        length, crc, payload = line.split(b" ", 2)
        if int(length) != len(payload) or int(crc, 16) != zlib.crc32(payload):
            return None
        record: dict[str, Any] = orjson.loads(payload)
        return record
    except ValueError:
        return None


class ChangeLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def read_from(self, offset: int) -> tuple[list[dict[str, Any]], int]:
        """The whole records after `offset`, and the offset just past the last one.

        Only a last line without its newline is a torn append (a crash before the
        commit finished) and is passed over; any other line that does not check out
        is damage to committed data and refuses (`custdesk repair` keeps the rest)."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
        except FileNotFoundError:
            return [], 0
        records = []
        end = offset
        for line in chunk.split(b"\n")[:-1]:  # what follows the last newline is a torn append
            record = _decode_line(line)
            if record is None:
                raise StoreCorrupt(f"{self.path}: the change log is damaged at byte {end:,}; "
                                   "nothing was changed: run 'custdesk repair' to keep every intact record")
            records.append(record)
            end += len(line) + 1
        return records, end

    def salvage(self) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
        """Every intact record, and (offset, length) of every damaged line, for repair."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return [], []
        records, damaged, offset = [], [], 0
        lines = data.split(b"\n")
        for number, line in enumerate(lines):
            torn = number == len(lines) - 1
            record = None if torn else _decode_line(line)
            if record is not None:
                records.append(record)
            elif line:
                damaged.append((offset, len(line)))
            offset += len(line) + 1
        return records, damaged

    def append(self, record: dict[str, Any], valid_end: int) -> int:
        """Append one record after `valid_end` (cutting any torn tail); returns the new end."""
        data = _encode(record)
        # O_NOFOLLOW: a link planted at the log's path is refused, never written through.
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
        try:
            if os.fstat(fd).st_size != valid_end:
                os.ftruncate(fd, valid_end)
            os.lseek(fd, valid_end, os.SEEK_SET)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        return valid_end + len(data)

    def reset(self) -> None:
        atomic_write_bytes(self.path, b"")
