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


@pytest.fixture
def shop(store: Store) -> Store:
    """C-000001 corporate with a completed order and a sent offer; C-000002 private,
    no business; C-000003 the same email as C-000001; C-000004 a hostile name; one prospect."""
    ada = store.add_customer("corporate", {"company": "Analytical Engines", "first_name": "Ada", "last_name": "Lovelace",
                                           "email": "ada@example.com", "city": "London", "tags": "engines"})
    store.add_related("orders", ada["id"], {"title": "Difference engine", "status": "completed"})
    store.add_related("offers", ada["id"], {"title": "Analytical engine", "status": "sent"})
    store.add_customer("private", {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com"})
    store.add_customer("private", {"first_name": "Augusta", "last_name": "King", "email": "ADA@example.com", "city": "Paris",
                                   "tags": "royal"})
    store.add_customer("private", {"first_name": "[bold red]x[/]", "last_name": "Mallory", "email": "mal@example.com",
                                   "city": "\x1b[2JCleared"})
    store.add_source({"first_name": "Linus", "last_name": "Torvalds", "email": "linus@example.com", "company": "Transmeta",
                      "origin": {"file": "leads.csv", "row": 2}, "raw": {"Name": "Linus Torvalds"}})
    return store


