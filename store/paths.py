"""Where custdesk keeps its files; every folder overridable by an env var (tests)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs

from store.engine import is_database_url
from store.text import path_text

APP = "custdesk"


def data_dir() -> Path:
    """The user's custdesk data folder (CUSTDESK_DATA_DIR overrides); made (owner-only) with
    the first store in it, not before: a command that finds no store there makes nothing."""
    return Path(os.environ.get("CUSTDESK_DATA_DIR") or platformdirs.user_data_dir(APP))


def default_store_path() -> str | Path:
    """The store used when no --db is given: CUSTDESK_DB, else the data folder's."""
    explicit = os.environ.get("CUSTDESK_DB")
    return store_location(explicit) if explicit else data_dir() / "custdesk.json"


_USER_PASSWORD = re.compile(r"^([a-z]+://[^:/@?]*:)[^@/?]*@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&]*")


def store_location(text: str | Path) -> str | Path:
    """A store named by the user (--db): a PostgreSQL URL as given, else a file path."""
    return str(text) if is_database_url(text) else Path(text)


def shown_location(location: str | Path) -> str:
    """A store's location without a password: fit for a title bar, a message or a log."""
    if not is_database_url(location):
        return path_text(location)
    # postgresql://user:secret@host/db, and libpq's parameter: ?host=…&password=secret
    return _QUERY_PASSWORD.sub(r"\1***", _USER_PASSWORD.sub(r"\1***@", str(location)))
