from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from helpers import CORPUS
from pg_server import LocalServer, missing_reason

from store import Store

# The store's suites: each of their tests that takes `store_path` (or `store`, `shop`)
# runs once on a store file and once on PostgreSQL (`-k json` / `-k postgresql` picks one).
BOTH_BACKENDS = {
    "test_batch", "test_columnar_commit", "test_consent", "test_counts", "test_crash_and_concurrency", "test_customers",
    "test_destructive", "test_exports", "test_import_files", "test_international", "test_mail", "test_persistence",
    "test_pictures", "test_related", "test_sources", "test_store_gaps", "test_sync",
    "test_view", "test_duplicates_review", "test_review_queue", "test_history",
}


def pytest_configure(config):
    config.addinivalue_line("markers", "file_store: the test is about the store file itself (the embedded backend only)")


def pytest_generate_tests(metafunc):
    if ("backend" in metafunc.fixturenames and metafunc.module.__name__.rsplit(".", 1)[-1] in BOTH_BACKENDS
            and metafunc.definition.get_closest_marker("file_store") is None):
        metafunc.parametrize("backend", ["json", "postgresql"])


@pytest.fixture
def backend() -> str:
    """The store's backend where a test is not run on both (its name and snapshots stay as they were)."""
    return "json"


def pytest_terminal_summary(terminalreporter):
    """A missing corpus is said in one line, not only counted among the skips."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if r.nodeid.startswith("tests/test_import_corpus.py::")]
    if skipped and not CORPUS.is_dir():
        terminalreporter.write_line(f"{CORPUS} is absent: {len(skipped)} importer tests on real exports were skipped "
                                    "(tests/test_import_corpus.py)", yellow=True, bold=True)


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL server for the session, in a temporary folder (`tests/pg_server.py`)."""
    reason = missing_reason()
    if reason:
        if os.environ.get("CUSTDESK_TEST_POSTGRESQL") == "required":
            pytest.fail(reason)
        pytest.skip(reason)
    server = LocalServer()
    yield server
    server.stop()


_databases = itertools.count(1)


@pytest.fixture
def pg_database(pg_server):
    """The URL of a new, empty database; dropped after the test."""
    name = f"store{next(_databases)}"
    url = pg_server.create_database(name)
    yield url
    pg_server.drop_database(name)


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
def store_path(tmp_path, backend, request) -> Path | str:
    """Where the test's store goes: a file, or (backend "postgresql") a new database's URL."""
    if backend == "postgresql":
        return request.getfixturevalue("pg_database")
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


@pytest.fixture
async def served(store, store_path):
    """(server, port, csrf) of the app served in this process as `custdesk serve` serves it (tests/web_client.py)."""
    from web_client import serve_in_process

    async with serve_in_process(store, store_path) as served:
        yield served
