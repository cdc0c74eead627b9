"""Files: the user's read safely, the store's written durably.

A file the user names (an import, an export to sync, a picture, config.toml, a
template's body) is read through `read_regular`: a FIFO or a device would block
the read or never end, and a file far larger than what it may hold would fill
the memory before any check of its content ran, so both are refused in one
line from the file's metadata before a byte is read.

TinyDB's own JSONStorage rewrites the file in place, so a crash mid-write
leaves half a file. Here every file is written to a temporary file in the
same folder, fsynced, and moved over the old one with `os.replace`: a reader
or a crash sees the old file or the new one, never a mix.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from store.base.errors import StoreError, UnreadableInput

FILE_MODE = 0o600


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")


def write_temp(path: Path, data: bytes) -> Path:
    """`data` in a new temporary file beside `path`, owner-only as every file written here,
    not synced: for a caller that makes a batch durable at once and then puts each in place."""
    tmp = temp_path_for(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        write_all(fd, data)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def abandoned_temp_files(folder: Path, pattern: str) -> Iterator[Path]:
    """The temporary files (`temp_path_for`'s) of names matching `pattern` in `folder` whose
    writing process has ended: what a killed writer left, never a file another one is writing."""
    for tmp in folder.glob(f".{pattern}.*.tmp"):
        if not _running(tmp.name.rsplit(".", 3)[-3]):
            yield tmp


def _running(pid: str) -> bool:
    """Whether the process of this id (a temporary file's writer) still runs."""
    if not pid.isdigit():
        return True  # not one of ours: left alone
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def atomic_write(path: Path, fill: Callable[[int], None], ready: Callable[[], None] | None = None) -> None:
    """Have `fill(fd)` write a temporary file, then put it in place of `path`:
    a crash leaves the old or the new file, never a mix. `ready` runs once the file is
    whole and durable, before it takes the place (an export's log: a refusal there leaves
    the file there was)."""
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
    try:
        if ready is not None:
            ready()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
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


def size_text(size: int) -> str:
    """A file size for people: 1.5 GiB, 64 KiB, 312 bytes."""
    for unit, scale in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size:,} bytes"


def check_regular(path: Path, limit: int | None = None, what: str = "the file") -> os.stat_result:
    """The metadata of `path` if it is a regular file we may read, of at most `limit` bytes;
    else UnreadableInput in one line naming it. Nothing is opened (a device's open can act)."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        raise UnreadableInput(f"{path}: no such file") from None
    except OSError as err:
        raise UnreadableInput(f"{path}: cannot be read ({(err.strerror or str(err)).lower()})") from None
    _check_kind(path, found, limit, what)
    if not os.access(path, os.R_OK):
        raise UnreadableInput(f"{path}: cannot be read (permission denied)")
    return found


def read_regular(path: Path, limit: int, what: str = "the file") -> bytes:
    """The bytes of the regular file `path`, of at most `limit` (`what` names it in the
    refusal: "a picture"); anything else is refused in one line (UnreadableInput)."""
    check_regular(path, limit, what)
    try:
        # O_NONBLOCK: had the path been swapped for a FIFO since the look above, the open
        # returns at once, and the look at what was opened refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise UnreadableInput(f"{path}: cannot be read ({(err.strerror or str(err)).lower()})") from None
    with os.fdopen(fd, "rb") as file:
        found = os.fstat(fd)
        _check_kind(path, found, limit, what)
        try:
            data = _read_up_to(file, found.st_size, limit)
        except OSError as err:
            raise UnreadableInput(f"{path}: cannot be read ({(err.strerror or str(err)).lower()})") from None
        except MemoryError:
            raise UnreadableInput(f"{path}: {size_text(found.st_size)} is more than the memory available holds; "
                                  "split the file") from None
    if len(data) > limit:
        raise _too_large(path, len(data), limit, what)
    return data


def _read_up_to(file: BinaryIO, size: int, limit: int) -> bytes:
    """The file's `size` bytes, or more if it grew meanwhile, but never over `limit` + 1
    (a read's buffer is allocated whole: asking for `limit` would take it from memory)."""
    chunks = [file.read(size + 1)]  # (one byte more: has it grown since it was looked at?)
    total = len(chunks[0])
    while chunks[-1] and size < total <= limit:
        chunks.append(file.read(min(1 << 20, limit + 1 - total)))
        total += len(chunks[-1])
    return b"".join(chunks)


def _check_kind(path: Path, found: os.stat_result, limit: int | None, what: str) -> None:
    if stat.S_ISDIR(found.st_mode):
        raise UnreadableInput(f"{path}: is a folder, not a file")
    if not stat.S_ISREG(found.st_mode):
        raise UnreadableInput(f"{path}: is not a regular file (a pipe, a device or a socket)")
    if limit is not None and found.st_size > limit:
        raise _too_large(path, found.st_size, limit, what)


def _too_large(path: Path, size: int, limit: int, what: str) -> UnreadableInput:
    shown = size_text(size) if size_text(size) != size_text(limit) else f"{size:,} bytes"
    return UnreadableInput(f"{path}: {shown}, larger than {what} may be (at most {size_text(limit)})")
