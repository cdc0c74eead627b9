"""Hearing other sessions' commits at once: each commit NOTIFYs the seq it wrote on the
store's channel, and a thread LISTENs there on a connection of its own."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

import psycopg
from psycopg import sql

from store.base.errors import StoreError
from store.engine.postgres.connect import connect


class Listener(threading.Thread):
    """LISTENs on the store's channel on a connection of its own; `heard(seq)` per commit."""

    def __init__(self, url: str, channel: str, heard: Callable[[int], None]) -> None:
        super().__init__(name="custdesk-listen", daemon=True)
        self.url, self.channel, self.heard = url, channel, heard
        self.ready = threading.Event()
        self._stopping = threading.Event()

    def run(self) -> None:
        # A lost connection ends the thread: `changed_on_disk` then asks the server itself.
        with contextlib.suppress(psycopg.Error, StoreError), connect(self.url) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.ready.set()
            while not self._stopping.is_set():
                for note in conn.notifies(timeout=0.5):
                    with contextlib.suppress(ValueError):
                        self.heard(int(note.payload))
        self.ready.set()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=2)
