"""Where custdesk keeps its files; every folder overridable by an env var (tests)."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "custdesk"


def data_dir() -> Path:
    """The user's custdesk data folder (CUSTDESK_DATA_DIR overrides), created 0700."""
    folder = Path(os.environ.get("CUSTDESK_DATA_DIR") or platformdirs.user_data_dir(APP))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def default_store_path() -> Path:
    """The store used when no --db is given: CUSTDESK_DB, else the data folder's."""
    explicit = os.environ.get("CUSTDESK_DB")
    return Path(explicit) if explicit else data_dir() / "custdesk.json"
