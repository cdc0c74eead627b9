from __future__ import annotations

from pathlib import Path

import pytest

from store import Store


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Never touch the user's real store."""
    monkeypatch.setenv("CUSTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CUSTDESK_DB", raising=False)
    # The default country comes from the locale: no territory here, so no test depends on the machine's.
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_TELEPHONE", raising=False)


@pytest.fixture
def store_path(tmp_path) -> Path:
    return tmp_path / "store" / "custdesk.json"


@pytest.fixture
def store(store_path):
    s = Store(store_path, user="tester")
    yield s
    s.close()
