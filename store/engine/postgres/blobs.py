"""The pictures of a PostgreSQL store (`store.engine.blobs`): a table (name, data) of its
own, written in the SQL transaction of the commit that names them."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from psycopg import sql

if TYPE_CHECKING:
    from store.engine.postgres.backend import PgDatabase


class TableBlobs:
    """The blobs of a PostgreSQL store: a table (name, data), used on the store's connection,
    so a write inside a commit is part of its SQL transaction."""

    def __init__(self, db: PgDatabase, table: str) -> None:
        self.db, self.name, self.table = db, table, sql.Identifier(table)

    def create(self) -> None:
        self._run("CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, data bytea NOT NULL)")

    def _run(self, statement: str, *args: object) -> list[tuple[object, ...]]:
        with self.db.statement() as conn:
            cursor = conn.execute(sql.SQL(statement).format(self.table), args)
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
