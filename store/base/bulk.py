"""Bulk work: Python's cyclic garbage collector held off, its progress told, its next part
made while the last is used."""
from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
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


def made_ahead(parts: Iterator[T]) -> Iterator[T]:
    """`parts` in order, each next one made on a thread while the caller uses the last: a
    server taking in one part of a COPY (another process, another core) while the next is
    built here. One part ahead at most: besides the part the caller holds, one is made or
    being made. An error making a part is raised where it is taken."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="custdesk-ahead") as pool:
        coming = pool.submit(_next, parts)
        while (made := coming.result()) is not None:
            coming = pool.submit(_next, parts)
            yield made[0]


def _next(parts: Iterator[T]) -> tuple[T] | None:
    """The next of `parts`, boxed (a part may be None); None after the last."""
    for part in parts:
        return (part,)
    return None
