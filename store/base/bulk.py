"""Bulk work: Python's cyclic garbage collector held off, and its progress told."""
from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold off the cyclic GC during bulk work: it builds no cycles, and at 100k
    documents each full collection rescans every one of them (a third of the
    time of a large batch)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# A long piece of bulk work's report: what it does, how far it is, out of how many
# ("building customers", 40_000, 100_000); the command line shows it on a terminal.
Progress = Callable[[str, int, int], None]
T = TypeVar("T")


def counted(items: Sequence[T], what: str, progress: Progress | None, every: int = 1000) -> Iterator[T]:
    """`items` one by one, `progress` told as they begin (0 done), after every `every` of
    them and after the last."""
    total = len(items)
    if progress is not None:
        progress(what, 0, total)
    for done, item in enumerate(items, 1):
        yield item
        if progress is not None and (done % every == 0 or done == total):
            progress(what, done, total)
