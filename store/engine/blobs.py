"""Files a store keeps beside its documents (profile pictures), by name.

The embedded store keeps them in a folder beside its file, `<store>.<kind>/`,
each written atomically and readable by its owner only; the PostgreSQL store
in a table of its own, written in the SQL transaction of the commit that names
them. A name is a file name, never a path: it cannot reach out of the folder.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

from store.files import atomic_write_bytes

if TYPE_CHECKING:
    from store.engine.postgres import PgDatabase


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


class TableBlobs:
    """The blobs of a PostgreSQL store: a table (name, data), used on the store's connection,
    so a write inside a commit is part of its SQL transaction."""

    def __init__(self, db: PgDatabase, table: str) -> None:
        from psycopg import sql

        self.db, self.name, self.table = db, table, sql.Identifier(table)
        self.sql = sql

    def create(self) -> None:
        self._run("CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, data bytea NOT NULL)")

    def _run(self, statement: str, *args: object) -> list[tuple[object, ...]]:
        with self.db.statement() as conn:
            cursor = conn.execute(self.sql.SQL(statement).format(self.table), args)
            return cursor.fetchall() if cursor.description else []

    def any(self) -> bool:
        return bool(self._run("SELECT 1 FROM {} LIMIT 1"))

    def names(self) -> set[str]:
        return {str(row[0]) for row in self._run("SELECT name FROM {}")}

    def read(self, name: str) -> bytes | None:
        rows = self._run("SELECT data FROM {} WHERE name = %s", Path(name).name)
        return bytes(cast(bytes, rows[0][0])) if rows else None

    def write(self, name: str, data: bytes) -> None:
        self._run("INSERT INTO {} (name, data) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING", Path(name).name, data)

    def remove(self, name: str) -> None:
        self._run("DELETE FROM {} WHERE name = %s", Path(name).name)
