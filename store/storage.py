"""TinyDB storage of ours: orjson, atomic replace, owner-only file mode.

TinyDB's own JSONStorage rewrites the file in place, so a crash mid-write
leaves half a file. Here the snapshot is written to a temporary file in the
same folder, fsynced, and moved over the old one with `os.replace`: a reader
or a crash sees the old file or the new one, never a mix.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import orjson
from tinydb.storages import Storage

from .errors import StoreCorrupt

FILE_MODE = 0o600


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves the old or the new file."""
    tmp = temp_path_for(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def remove_stale_temp_files(path: Path) -> None:
    """Drop temporary files a crashed writer left; call only under the store lock."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)


class AtomicJSONStorage(Storage):
    """A TinyDB Storage: the whole database as one orjson document."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def read(self) -> dict | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw:
            return None
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            raise StoreCorrupt(f"{self.path}: not a custdesk store ({err})") from None
        if not isinstance(data, dict):
            raise StoreCorrupt(f"{self.path}: not a custdesk store (top level is not an object)")
        return data

    def write(self, data: dict) -> None:
        atomic_write_bytes(self.path, orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS))

    def close(self) -> None:
        pass
