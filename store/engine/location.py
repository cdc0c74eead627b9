"""Where a store is: a file path, or a PostgreSQL URL.

Imports nothing of the project (stdlib only): the command line, the app and the
engine all name stores through here, and none of them is imported by it.
"""
from __future__ import annotations

import re
from pathlib import Path

_USER_PASSWORD = re.compile(r"^([a-z]+://[^:/@?]*:)[^@/?]*@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&]*")


def is_database_url(location: str | Path) -> bool:
    """Whether a store location is a PostgreSQL URL (else a file path)."""
    return str(location).startswith(("postgresql://", "postgres://"))


def store_location(text: str | Path) -> str | Path:
    """A store named by the user (--db): a PostgreSQL URL as given, else a file path."""
    return str(text) if is_database_url(text) else Path(text)


def without_password(url: str) -> str:
    """A PostgreSQL URL with its password (if any) shown as `***`: fit for a message or a log."""
    # postgresql://user:secret@host/db, and libpq's parameter: ?host=…&password=secret
    return _QUERY_PASSWORD.sub(r"\1***", _USER_PASSWORD.sub(r"\1***@", url))


def short_name(where: str | Path) -> str:
    """A store's short name for a title bar: its file's, or its database's."""
    return without_password(str(where)).split("?", 1)[0].rsplit("/", 1)[-1]
