"""Files a store keeps beside its documents (profile pictures), by name.

The embedded store keeps them in a folder beside its file, `<store>.<kind>/`,
each written atomically and readable by its owner only (`FolderBlobs`); the
PostgreSQL store in a table of its own, written in the SQL transaction of the
commit that names them (`postgres.blobs`). A name is a file name, never a
path: it cannot reach out of the folder.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

from store.base.files import atomic_write_bytes


class Blobs(Protocol):
    def any(self) -> bool: ...
    def names(self) -> set[str]: ...
    def read(self, name: str) -> bytes | None: ...
    def write(self, name: str, data: bytes) -> None: ...
    def remove(self, name: str) -> None: ...


class FolderBlobs:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _file(self, name: str) -> Path:
        return self.folder / Path(name).name  # (a name, never a path out of the folder)

    def any(self) -> bool:
        """Whether anything is kept (stops at the first file: an app asks this at start)."""
        return self.folder.is_dir() and any(p.is_file() for p in self.folder.iterdir())

    def names(self) -> set[str]:
        return {p.name for p in self.folder.iterdir() if p.is_file()} if self.folder.is_dir() else set()

    def read(self, name: str) -> bytes | None:
        path = self._file(name)
        return path.read_bytes() if path.is_file() else None

    def write(self, name: str, data: bytes) -> None:
        """Keep `data` under `name` (named by its content: a name already kept is not written again)."""
        path = self._file(name)
        if not path.is_file():
            self.folder.mkdir(mode=0o700, exist_ok=True)
            atomic_write_bytes(path, data)

    def remove(self, name: str) -> None:
        self._file(name).unlink(missing_ok=True)
