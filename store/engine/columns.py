"""The fields kept decoded per table, and the columns file that saves decoding them.

The views show, and the indexes look up, a few fields of every document of
the large tables (`Schema.columns`). Decoding them from JSON costs ~0.2 s per 100k
documents, so they are written beside each snapshot as one Parquet file,
`<store>.json.columns`, tagged with the snapshot's generation: a file whose
generation differs from the snapshot's (a crash between the two writes, an
older custdesk) is ignored and the fields are decoded again. Beside the fields,
`_at` (`table.LINE_STARTS`) tells where each document's line starts in its
table's text, so that one document is read without reading the table.

A command about to open a store file may have the file read ahead on a thread
(`prefetch_columns`): the Parquet is decoded outside the interpreter's lock
while the command imports its modules, and `read_frames` takes what was read
only when it is the same file (device, inode, size, modification time: these
files are only ever replaced whole) of the generation asked for.
"""
from __future__ import annotations

import contextlib
import io
import os
import threading
import zipfile
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import NamedTuple

import polars as pl

from store.base.files import atomic_write
from store.engine.table import LINE_STARTS

_GENERATION = "generation"


def columns_path(snapshot: Path) -> Path:
    return snapshot.with_name(snapshot.name + ".columns")


def write_columns(snapshot: Path, generation: str, frames: Mapping[str, pl.DataFrame]) -> None:
    """Every table's decoded fields in one file (uncompressed: read fast, and holds no hidden old values)."""
    write_frames(columns_path(snapshot), generation, frames)


def read_columns(snapshot: Path, generation: str | None,
                 layout: Mapping[str, Mapping[str, pl.DataType]]) -> dict[str, pl.DataFrame]:
    """The decoded fields by table, if the file belongs to this generation of the snapshot."""
    frames = read_frames(columns_path(snapshot), generation, layout)
    if frames.keys() != layout.keys():
        return {}
    try:
        for name, schema in layout.items():
            frame = frames[name]
            if not set(schema) <= set(frame.columns):
                # Written by a custdesk that kept fewer fields decoded: the documents hold
                # the others, so the file says nothing of them.
                return {}
            starts = [pl.col(LINE_STARTS).cast(pl.Int64)] if LINE_STARTS in frame.columns else []
            frames[name] = frame.select(pl.col("id").cast(pl.Int64), *(pl.col(f).cast(t) for f, t in schema.items()),
                                        *starts)
    except pl.exceptions.PolarsError:
        return {}  # of another layout: decode from the snapshot instead
    return frames


def write_frames(path: Path, generation: str, frames: Mapping[str, pl.DataFrame]) -> None:
    """Frames by name in one file tagged with the snapshot's generation they were derived from."""
    def fill(fd: int) -> None:
        # Streamed into the temporary file: at 1M customers the columns file is ~150 MB.
        with os.fdopen(fd, "wb", closefd=False) as out, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(_GENERATION, generation)
            for name, frame in frames.items():
                with archive.open(f"{name}.parquet", "w", force_zip64=True) as member:
                    frame.write_parquet(member, compression="uncompressed", statistics=False)

    atomic_write(path, fill)


class _ReadAhead(NamedTuple):
    identity: tuple[int, int, int, int]  # the file read: (device, inode, size, modified ns)
    generation: str
    frames: dict[str, pl.DataFrame]


_READ_AHEAD: dict[Path, Future[_ReadAhead | None]] = {}
_READ_AHEAD_LOCK = threading.Lock()


def prefetch_columns(snapshot: Path) -> None:
    """Start reading the columns file of the store file `snapshot` on a thread (once): a command
    that opens the store next (a 3-row import at 100k: ~20 ms) has its fields decoded meanwhile."""
    path = columns_path(Path(os.path.realpath(snapshot)))
    read: Future[_ReadAhead | None] = Future()
    with _READ_AHEAD_LOCK:
        if path in _READ_AHEAD:
            return
        _READ_AHEAD[path] = read

    def run() -> None:
        found = None
        with contextlib.suppress(BaseException):  # (read again when asked for, and judged there)
            found = _read_whole(path)
        read.set_result(found)  # (whatever happened: the store's open waits for it)

    try:
        threading.Thread(target=run, name="custdesk-columns", daemon=True).start()
    except BaseException:
        read.set_result(None)
        raise


def _identity(stat: os.stat_result) -> tuple[int, int, int, int]:
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


def _read_whole(path: Path) -> _ReadAhead:
    with open(path, "rb") as handle, zipfile.ZipFile(handle) as archive:
        identity = _identity(os.fstat(handle.fileno()))
        frames = {name.removesuffix(".parquet"): pl.read_parquet(io.BytesIO(archive.read(name)))
                  for name in archive.namelist() if name.endswith(".parquet")}
        return _ReadAhead(identity, archive.read(_GENERATION).decode(), frames)


def _read_ahead(path: Path, generation: str | None) -> dict[str, pl.DataFrame] | None:
    """The frames read ahead of `path` (taken: never held after), if they are of this
    generation and the file is the one read."""
    with _READ_AHEAD_LOCK:
        read = _READ_AHEAD.pop(path, None)
    if read is None or generation is None:
        return None
    found = read.result()
    try:
        same = found is not None and found.generation == generation and _identity(os.stat(path)) == found.identity
    except OSError:
        return None
    return found.frames if same and found is not None else None


def read_frames(path: Path, generation: str | None, names: Iterable[str]) -> dict[str, pl.DataFrame]:
    """Those of the named frames the file holds, if it is tagged with this generation ({}:
    no file, another generation's, or a damaged one)."""
    ahead = _read_ahead(path, generation)
    if generation is None or not path.exists():
        return {}
    if ahead is not None:
        return {name: ahead[name] for name in names if name in ahead}
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.read(_GENERATION).decode() != generation:
                return {}
            held = set(archive.namelist())
            return {name: pl.read_parquet(io.BytesIO(archive.read(f"{name}.parquet")))
                    for name in names if f"{name}.parquet" in held}
    except (OSError, KeyError, UnicodeDecodeError, NotImplementedError, RuntimeError, zipfile.BadZipFile,
            pl.exceptions.PolarsError):
        return {}  # (zipfile: NotImplementedError for a compression it does not know, RuntimeError for an encrypted member)
