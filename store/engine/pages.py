"""What reads a server's tables a page at a time (`store.views.served`) is given by the engine."""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol


class PageReads(Protocol):
    """A connection to read pages of a table on its server, for one query at a time;
    `interrupt` stops the statement running on it (from another thread)."""

    def __call__(self) -> AbstractContextManager[Any]: ...
    def interrupt(self) -> None: ...
