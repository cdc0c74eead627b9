"""The customer table's first rows, kept beside a store file for the app's first paint.

The app shows rows before it has loaded polars and the store (~0.5 s at 100k customers,
more at 1M): those of `<store>.json.page`, written by the last app or demo that had the
table in hand, when nothing has been written to the store since. It is tagged with the
snapshot's and the change log's sizes and modification times; any commit changes them,
and a page of another state is never shown. It is a view, never a source: the store
loads behind it and replaces it before any key is handled.

Only the standard library and orjson: reading it must not cost the imports it saves.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, TypedDict

import orjson

from store.base.files import atomic_write_bytes

PAGE_ROWS = 120  # more than a tall terminal shows
_LIMIT = 1 << 20  # a page is ~20 kB: anything larger is not one


class Page(TypedDict):
    signature: list[int]
    title: str
    counts: dict[str, int]
    pictures: bool
    rows: list[dict[str, Any]]


def page_path(snapshot: Path) -> Path:
    return snapshot.with_name(snapshot.name + ".page")


def signature(snapshot: Path) -> list[int] | None:
    """The store's files as they are on disk now (size and modification time of the
    snapshot and of its change log); None without a snapshot."""
    found: list[int] = []
    for path in (snapshot, snapshot.with_name(snapshot.name + ".log")):
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            if path == snapshot:
                return None
            found += [-1, -1]
            continue
        found += [stat.st_size, stat.st_mtime_ns]
    return found


def read_page(snapshot: Path) -> Page | None:
    """The page of the store as it is now, or None (no page, another state's, unreadable)."""
    try:
        with open(page_path(snapshot), "rb") as file:
            raw = file.read(_LIMIT + 1)
        page = orjson.loads(raw) if len(raw) <= _LIMIT else None
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(page, dict) or page.get("signature") != signature(snapshot):
        return None
    if not isinstance(page.get("rows"), list) or not isinstance(page.get("counts"), dict):
        return None
    return page  # type: ignore[return-value]


def write_page(snapshot: Path, state: list[int] | None, title: str, counts: dict[str, int], pictures: bool,
               rows: list[dict[str, Any]]) -> None:
    """Keep `rows` as the first page of the store in `state` (its `signature`, taken before
    the rows were read). Best effort: a page that cannot be written is only a slower start."""
    if state is None or state != signature(snapshot):
        return  # written meanwhile: these rows may already be old
    page = Page(signature=state, title=title, counts=counts, pictures=pictures, rows=rows)
    with contextlib.suppress(OSError, TypeError):
        atomic_write_bytes(page_path(snapshot), orjson.dumps(page, default=str))


def forget_page(snapshot: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(page_path(snapshot))
