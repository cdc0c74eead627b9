"""A session's own connection for reading pages of its tables on the server
(`store.views.served`): a page waits for no commit, and no commit for a page."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from store.engine.postgres.connect import connect, refused


class PageReads:
    """One connection, one query at a time; made again at the next read once lost (a
    restarted server). `interrupt` stops the statement running on it from another thread:
    a newer keystroke makes an older search's page moot."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()

    @contextmanager
    def __call__(self) -> Iterator[psycopg.Connection[Any]]:
        with self._lock, refused(self.url):
            if self._conn is None or self._conn.broken:
                self._conn = connect(self.url)
            yield self._conn

    def interrupt(self) -> None:
        conn = self._conn
        if conn is not None and not conn.closed:
            with contextlib.suppress(psycopg.Error):
                conn.cancel_safe(timeout=1.0)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
