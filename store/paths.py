"""Where custdesk keeps its files; every folder overridable by an env var (tests).

A store's location is parsed and shown by the engine (`store.engine.location`,
`shown_location`); its names are kept here for the command line and the app, with
`read_ahead` (a store file's fields read on a thread while a command loads its modules)."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import platformdirs

from store.engine import read_ahead, shown_location
from store.engine.location import store_location

__all__ = ["APP", "data_dir", "default_store_path", "forget_cached_pages", "read_ahead", "shown_location", "store_location"]

APP = "custdesk"


def data_dir() -> Path:
    """The user's custdesk data folder (CUSTDESK_DATA_DIR overrides); made (owner-only) with
    the first store in it, not before: a command that finds no store there makes nothing."""
    return Path(os.environ.get("CUSTDESK_DATA_DIR") or platformdirs.user_data_dir(APP))


def forget_cached_pages() -> None:
    """Delete the first pages of stores on a server that versions before 2026-12 kept in the
    user's cache folder (CUSTDESK_CACHE_DIR, else the platform's): customers' names, which
    must not outlive their erasure. The app now reads that page from the server."""
    folder = Path(os.environ.get("CUSTDESK_CACHE_DIR") or platformdirs.user_cache_dir(APP))
    for page in folder.glob("*.page"):
        with contextlib.suppress(OSError):
            page.unlink()


def default_store_path() -> str | Path:
    """The store used when no --db is given: CUSTDESK_DB, else the data folder's."""
    explicit = os.environ.get("CUSTDESK_DB")
    return store_location(explicit) if explicit else data_dir() / "custdesk.json"
