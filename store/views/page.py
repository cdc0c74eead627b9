"""The customer table's first rows, for the app's first paint.

The app shows rows before it has loaded polars and the store (~0.5 s at 100k customers,
more at 1M, minutes at 10M on a server). It is a view, never a source: the store loads
behind it and replaces it before any key is handled.

- A store file's page is the one written by the last app or demo that had the table in
  hand, when nothing has been written to the store since: `<store>.json.page`, tagged with
  the snapshot's and the change log's sizes and modification times; every commit removes
  it (the engine's `_committed`). A page of another state, or of another store, is never
  shown.
- A PostgreSQL store's is read from the server at every start (`server_page`): its first
  rows (`store.views.served`) and its counts, in one snapshot, on one connection. It is
  the store as it is, whoever committed last, and nothing of it is kept on the machine.

Only the standard library and orjson (and psycopg, for a server): reading it must not
cost the imports it saves.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, TypedDict

import orjson

from store.base.files import atomic_write_bytes
from store.engine.location import is_database_url, short_name
from store.model import PICTURES

PAGE_ROWS = 120  # more than a tall terminal shows
_LIMIT = 1 << 20  # a page is ~20 kB: anything larger is not one

# What a store file's page is tagged with: its files' sizes and times.
State = list[Any]


class Page(TypedDict):
    signature: State  # (a server's page: none, it is read at every start)
    title: str
    counts: dict[str, int]
    pictures: bool
    rows: list[dict[str, Any]]


def on_server(location: Path | str) -> bool:
    """Whether the store is a PostgreSQL server's (its page is read from there)."""
    return is_database_url(location)


def page_path(location: Path | str) -> Path:
    """Beside the store file."""
    snapshot = Path(location)
    return snapshot.with_name(snapshot.name + ".page")


def signature(location: Path | str) -> State | None:
    """The store file's state now: size and modification time of the snapshot and of its
    change log; None without a snapshot."""
    snapshot = Path(location)
    stats: list[int] = []
    for path in (snapshot, snapshot.with_name(snapshot.name + ".log")):
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            if path == snapshot:
                return None
            stats += [-1, -1]
            continue
        stats += [stat.st_size, stat.st_mtime_ns]
    return stats


def read_page(location: Path | str) -> Page | None:
    """The first page of the store as it is now, or None (none kept, another state's,
    unreadable; a server that cannot be read). A store file's page of another state, or
    damaged, is deleted."""
    if on_server(location):
        return server_page(str(location))
    try:
        with open(page_path(location), "rb") as file:
            raw = file.read(_LIMIT + 1)
    except OSError:
        return None
    page = _parsed(raw)
    now = signature(location)
    if now is None:
        return None  # (the page may still be the store's: kept for a start that can tell)
    if page is None or page["signature"] != now:
        forget_page(location)
        return None
    return page


def server_page(url: str) -> Page | None:
    """The first rows and the counts of the PostgreSQL store at `url`, read from its server in
    one snapshot; None when they cannot be read (no server, no store, a refusal: opening the
    store then says why) or the store has not counted yet (written before counts were kept)."""
    from store.engine import peek_server
    from store.views.counts import stats_from
    from store.views.query import Query
    from store.views.served import ServerRows

    found = peek_server(url, PICTURES, lambda conn: ServerRows.on(conn).page(Query(), None, PAGE_ROWS))
    if found is None:
        return None
    meta, pictures, rows = found
    counts = stats_from(meta.get("tallies") or {})
    if counts is None:
        return None
    return Page(signature=[], title=short_name(url), counts=counts, pictures=pictures, rows=rows)


def _parsed(raw: bytes) -> Page | None:
    try:
        page = orjson.loads(raw) if len(raw) <= _LIMIT else None
    except orjson.JSONDecodeError:
        return None
    if not isinstance(page, dict) or not isinstance(page.get("signature"), list):
        return None
    if not isinstance(page.get("rows"), list) or not isinstance(page.get("counts"), dict):
        return None
    return page  # type: ignore[return-value]


def write_page(location: Path | str, state: State | None, title: str, counts: dict[str, int], pictures: bool,
               rows: list[dict[str, Any]]) -> None:
    """Keep `rows` as the first page of the store file in `state` (its `signature`). Best
    effort: a page that cannot be written is only a slower start."""
    if state is None or state != signature(location):
        return  # written meanwhile: these rows may already be old
    page = Page(signature=state, title=title, counts=counts, pictures=pictures, rows=rows)
    with contextlib.suppress(OSError, TypeError):
        atomic_write_bytes(page_path(location), orjson.dumps(page, default=str))


def forget_page(location: Path | str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(page_path(location))
