"""Files on disk: modes, the change log's torn tail, compaction, corrupt files."""
import os
import stat

import pytest
from helpers import person

from store import Store, StoreCorrupt
from store.engine import database, open_engine
from store.schema import SCHEMA


@pytest.mark.file_store
def test_store_files_are_owner_only(store, store_path):
    store.add_customer("private", person(1))
    for path in store_path.parent.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


@pytest.mark.file_store
def test_a_torn_last_commit_is_ignored_and_cut_off(store_path):
    with Store(store_path) as s:
        s.add_customer("private", person(1))
        s.add_customer("private", person(2))
    log = store_path.with_name(store_path.name + ".log")
    data = log.read_bytes()
    log.write_bytes(data[:-25])  # a crash in the middle of appending the second commit
    with Store(store_path) as s:
        assert [c["email"] for c in s.customers()] == ["ada1@example.com"]
        s.add_customer("private", person(3))
    with Store(store_path) as s:
        assert sorted(c["email"] for c in s.customers()) == ["ada1@example.com", "ada3@example.com"]


@pytest.mark.file_store
def test_compaction_folds_the_log_into_the_snapshot(store_path, monkeypatch):
    monkeypatch.setattr(database, "COMPACT_MIN_BYTES", 2000)
    with Store(store_path) as s:
        for n in range(30):
            s.add_customer("private", person(n))
        log = store_path.with_name(store_path.name + ".log")
        assert log.stat().st_size < 12_000  # 30 commits log ~35 KB: folded as it grew, ~8 KB left
    with Store(store_path) as s:
        assert s.customer_count() == 30


@pytest.mark.file_store
def test_corrupt_store_is_a_clear_error(store_path):
    store_path.parent.mkdir(parents=True)
    store_path.write_bytes(b"\x00\x01binary junk")
    with pytest.raises(StoreCorrupt, match="custdesk.json: not a custdesk store"):
        Store(store_path)


@pytest.mark.file_store
def test_the_snapshot_is_a_tinydb_database(store_path):
    from tinydb import TinyDB
    with Store(store_path) as s:
        s.add_customer("private", person(1))
        s.compact()
    db = TinyDB(store_path)
    assert db.table("customers").all()[0]["email"] == "ada1@example.com"
    db.close()


@pytest.mark.file_store
def test_leftover_temp_files_are_removed(store_path):
    with Store(store_path) as s:
        s.add_customer("private", person(1))
    stale = store_path.with_name(f".{store_path.name}.999.dead.tmp")
    stale.write_bytes(b"half a snapshot")
    with Store(store_path) as s:
        s.compact()
    assert not stale.exists()
    assert os.listdir(store_path.parent)


def test_a_bounded_wait_gives_up_while_another_thread_commits(store, backend):
    import threading

    from store import StoreBusy
    entered, release = threading.Event(), threading.Event()

    other = open_engine(store.location, SCHEMA)  # another writer of the same store

    def long_commit():
        with other.transaction():
            entered.set()
            release.wait(5)
    worker = threading.Thread(target=long_commit)
    worker.start()
    entered.wait(5)
    try:
        with pytest.raises(StoreBusy, match="busy with another change"), store.reserved(wait=0.05):
            pass
        if backend == "json":  # (PostgreSQL's catch-up reads a snapshot: it never waits for writers)
            with pytest.raises(StoreBusy, match="busy with another change"):
                store.refresh(wait=0.05)
    finally:
        release.set()
        worker.join()
        other.close()
    assert store.refresh(wait=0.5) is False


def _grown_log(store_path, monkeypatch):
    """A store with 30 customers whose change log is past the (lowered) fold-on-close size."""
    monkeypatch.setattr(database, "FOLD_ON_CLOSE_BYTES", 2000)
    s = Store(store_path)
    for n in range(30):
        s.add_customer("private", person(n))
    return s, store_path.with_name(store_path.name + ".log")


@pytest.mark.file_store
def test_closing_folds_a_grown_log_so_the_next_open_replays_little(store_path, monkeypatch):
    s, log = _grown_log(store_path, monkeypatch)
    assert log.stat().st_size > 2000  # below the size a commit folds at
    s.close()
    assert log.stat().st_size == 0
    with Store(store_path) as again:
        assert again.customer_count() == 30


@pytest.mark.file_store
def test_closing_leaves_the_log_while_another_writer_holds_the_store(store_path, monkeypatch):
    s, log = _grown_log(store_path, monkeypatch)
    grown = log.stat().st_size
    with open_engine(store_path, SCHEMA).reserved():
        s.close()  # does not wait for the other writer, and loses nothing
    assert log.stat().st_size == grown
    with Store(store_path) as again:
        assert again.customer_count() == 30
