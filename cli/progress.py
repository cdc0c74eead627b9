"""A long command's progress on a terminal: one line on stderr ("building customers
40,000/100,000"), redrawn a few times a second; nothing at all when stderr is a pipe or
a file (a script or a test reads only what the command says it did)."""
from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from store.base.bulk import Progress

REDRAW_EVERY = 0.2  # seconds: often enough to see it move, rarely enough to cost nothing


class TerminalCounter:
    """The progress line: redrawn in place (CR, erase to the end of the line)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.drawn_at: float | None = None
        self.last_what = ""

    def __call__(self, what: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = done >= total or what != self.last_what  # a stage's end and a new stage are always shown
        if not finished and self.drawn_at is not None and now - self.drawn_at < REDRAW_EVERY:
            return
        self.drawn_at, self.last_what = now, what
        self.stream.write(f"\r{what} {done:,}/{total:,}\x1b[K")
        self.stream.flush()

    def clear(self) -> None:
        """The line erased: what the command prints next starts a clean line."""
        if self.drawn_at is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


@contextmanager
def terminal_progress(stream: TextIO | None = None) -> Iterator[Progress | None]:
    """A progress callback drawing on `stream` (stderr) when it is a terminal, else None."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield None
        return
    counter = TerminalCounter(stream)
    try:
        yield counter
    finally:
        counter.clear()
