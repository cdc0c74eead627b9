"""Durable files: atomic replace, owner-only mode.

TinyDB's own JSONStorage rewrites the file in place, so a crash mid-write
leaves half a file. Here every file is written to a temporary file in the
same folder, fsynced, and moved over the old one with `os.replace`: a reader
or a crash sees the old file or the new one, never a mix.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

from store.errors import StoreError

FILE_MODE = 0o600


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def atomic_write(path: Path, fill: Callable[[int], None]) -> None:
    """Have `fill(fd)` write a temporary file, then put it in place of `path`:
    a crash leaves the old or the new file, never a mix."""
    tmp = temp_path_for(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        fill(fd)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves the old or the new file."""
    atomic_write(path, lambda fd: write_all(fd, data))


def refuse_overwrite(out: Path, protected: Iterable[Path], what: str = "output") -> None:
    """Refuse to write `out` where it would replace a file that must survive (the store's
    own files, the file being imported), however the path reaches it (links, `..`)."""
    target = os.path.realpath(out)
    for path in protected:
        if target == os.path.realpath(path):
            raise StoreError(f"{out}: is {Path(path).name}, which the {what} must not overwrite; choose another file")


def remove_stale_temp_files(path: Path) -> None:
    """Drop temporary files a crashed writer left; call only under the store lock."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)
