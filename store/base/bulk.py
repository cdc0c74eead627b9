"""Bulk work: Python's cyclic garbage collector held off, its progress told, its next part
made while the last is used, its parts worked on two at a time."""
from __future__ import annotations

import gc
import itertools
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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
R = TypeVar("R")


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


def worked_at_once(work: Callable[[T], R], items: Iterable[T]) -> Generator[tuple[T, R], None, None]:
    """(item, `work(item)`) of each of `items` in order, two of them worked on together on
    threads (questions to a server on a session's two reader connections: a third thread
    would wait for one), the items taken only as they are needed: while the caller holds one answer, the
    next is being worked on. An error working on an item is raised where its answer is
    taken; stopping early begins no more, and waits for the one begun. A single item is
    worked on where it is asked, no thread started (an edit's lookup of one key)."""
    taken = iter(items)
    head = list(itertools.islice(taken, 2))
    if len(head) < 2:
        yield from ((item, work(item)) for item in head)
        return
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="custdesk-at-once") as pool:
        begun: deque[tuple[T, Future[R]]] = deque()  # (never more than the pool's threads: none waits)
        for item in itertools.chain(head, taken):
            begun.append((item, pool.submit(work, item)))
            if len(begun) == 2:
                first, answer = begun.popleft()
                yield first, answer.result()
        while begun:
            first, answer = begun.popleft()
            yield first, answer.result()
