"""The customer table's first rows, kept for the app's first paint.

The app shows rows before it has loaded polars and the store (~0.5 s at 100k customers,
more at 1M, more again from a server): those of the page written by the last app or demo
that had the table in hand, when nothing has been written to the store since. It is a
view, never a source: the store loads behind it and replaces it before any key is handled.

- A store file's page is `<store>.json.page`, tagged with the snapshot's and the change
  log's sizes and modification times; every commit removes it (the engine's `_committed`).
- A PostgreSQL store's is in the user's cache folder (`store.paths.cache_dir`), named by a
  hash of the URL without its password, tagged with the store's `state()` on the server
  (its identity and last commit), read in one query before the page is shown
  (`store.engine.peek_state`); the server does not know of the page, so a page found of
  another state is deleted then. What remains after a commit elsewhere (a customer
  deleted or obfuscated by another machine, or by a command here) is the page of a machine
  where the app is not started again: in its user's cache folder, owner-only.

A page of another state, or of another store, is never shown.

Only the standard library and orjson (and psycopg, for a server): reading it must not
cost the imports it saves.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any, TypedDict

import orjson

from store.base.files import atomic_write_bytes
from store.engine.location import is_database_url, without_password

PAGE_ROWS = 120  # more than a tall terminal shows
_LIMIT = 1 << 20  # a page is ~20 kB: anything larger is not one

# What a page is tagged with: a store file's sizes and times, or a server's (identity, seq).
State = list[Any]


class Page(TypedDict):
    signature: State
    title: str
    counts: dict[str, int]
    pictures: bool
    rows: list[dict[str, Any]]


def on_server(location: Path | str) -> bool:
    """Whether the store is a PostgreSQL server's (its page is tagged with its `state()`)."""
    return is_database_url(location)


def page_path(location: Path | str) -> Path:
    """Beside a store file; a server's store's in the user's cache folder (one per URL)."""
    if on_server(location):
        from store.paths import cache_dir

        named = hashlib.sha256(without_password(str(location)).encode()).hexdigest()[:32]
        return cache_dir() / f"{named}.page"
    snapshot = Path(location)
    return snapshot.with_name(snapshot.name + ".page")


def signature(location: Path | str) -> State | None:
    """The store's state now: its files on disk (size and modification time of the snapshot
    and of its change log), or its state on the server; None without a snapshot, or when
    the server cannot tell."""
    if on_server(location):
        from store.engine import peek_state

        found = peek_state(str(location))
        return None if found is None else list(found)
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
    """The page of the store as it is now, or None (no page, another state's, unreadable,
    a state that cannot be read). A page of another state, or damaged, is deleted."""
    try:
        with open(page_path(location), "rb") as file:
            raw = file.read(_LIMIT + 1)
    except OSError:
        return None  # (none: the server is not asked)
    page = _parsed(raw)
    now = signature(location)
    if now is None:
        return None  # (the page may still be the store's: kept for a start that can tell)
    if page is None or page["signature"] != now:
        forget_page(location)
        return None
    return page


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
    """Keep `rows` as the first page of the store in `state` (its `signature`, or for a
    server what memory held, taken before the rows were read). Best effort: a page that
    cannot be written is only a slower start."""
    if state is None or state != signature(location):
        return  # written meanwhile: these rows may already be old
    page = Page(signature=state, title=title, counts=counts, pictures=pictures, rows=rows)
    path = page_path(location)
    with contextlib.suppress(OSError, TypeError):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # (the cache folder: names of people)
        atomic_write_bytes(path, orjson.dumps(page, default=str))


def forget_page(location: Path | str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(page_path(location))
