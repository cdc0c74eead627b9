"""Where custdesk keeps its files; every folder overridable by an env var (tests)."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import platformdirs

from store.engine import is_database_url

APP = "custdesk"


def data_dir() -> Path:
    """The user's custdesk data folder (CUSTDESK_DATA_DIR overrides), created 0700."""
    folder = Path(os.environ.get("CUSTDESK_DATA_DIR") or platformdirs.user_data_dir(APP))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def default_store_path() -> str | Path:
    """The store used when no --db is given: CUSTDESK_DB, else the data folder's."""
    explicit = os.environ.get("CUSTDESK_DB")
    return store_location(explicit) if explicit else data_dir() / "custdesk.json"


def store_location(text: str | Path) -> str | Path:
    """A store named by the user (--db): a PostgreSQL URL as given, else a file path."""
    return str(text) if is_database_url(text) else Path(text)


def shown_location(location: str | Path) -> str:
    """A store's location without a password: fit for a title bar, a message or a log."""
    if not is_database_url(location):
        return str(location)
    parts = urlsplit(str(location))
    if parts.password is None:
        return str(location)
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
