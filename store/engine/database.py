"""The store's tables in memory, kept in step with the files on disk.

Files: `<store>.json` (a TinyDB database: the snapshot, see `snapshot`),
`<store>.json.log` (the change log appended by each commit), `<store>.json.lock`.

Every write is a `transaction()`: take the in-process and the file lock,
catch up with whatever other processes committed since we last looked, run
the verb against that fresh state, append its changes to the log in one
fsynced write, release. Two processes thus never overwrite each other: the
second one always decides on the first one's result.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from store.base.bulk import paused_gc
from store.base.errors import StoreCorrupt, StoreError
from store.base.files import FILE_MODE, remove_stale_temp_files
from store.engine.blobs import FolderBlobs
from store.engine.changelog import ChangeLog
from store.engine.lifecycle import Backend
from store.engine.saved_keys import SavedKeys
from store.engine.schema import META, META_ID, Schema
from store.engine.snapshot import read_snapshot, write_snapshot
from store.engine.table import Table
from store.engine.transaction import Transaction

# Fold the log into the snapshot once it is this large, or half the snapshot.
COMPACT_MIN_BYTES = 8 * 1024 * 1024
# Closing a store folds a log larger than this (or a twentieth of the snapshot).
FOLD_ON_CLOSE_BYTES = 2 * 1024 * 1024
# The matcher's index of the store (store.matching.saved), kept beside it.
MATCHING = ".matching"
# The keys of the snapshot's documents (store.engine.saved_keys), kept beside it.
KEYS = ".keys"
# The app's first page of customers (store.views.page), kept beside the store for one state of it.
PAGE = ".page"
# A commit of more changes than this (or a quarter of the store) goes straight into a new snapshot.
BULK_CHANGES = 20_000


class Database(Backend):
    def __init__(self, path: Path, schema: Schema, *, lock_timeout: float = 15.0, verify: bool = True) -> None:
        # Resolved once: a store reached through a link keeps its log, lock and
        # columns beside the real file, and a write replaces the file, not the link.
        super().__init__(schema)
        self.path = Path(os.path.realpath(path))
        self.where = str(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # (a new folder holds personal data)
        self.blobs = FolderBlobs(self.path.with_name(f"{self.path.name}.{schema.blobs}"))
        self.log = ChangeLog(self.path.with_name(self.path.name + ".log"))
        self._file_lock = FileLock(
            str(self.path) + ".lock", timeout=lock_timeout, mode=FILE_MODE, thread_local=False
        )
        self.seq = 0
        self._log_end = 0
        self._snapshot_sig: tuple[Any, ...] | None = None
        # The snapshot's generation and seq, and the documents each commit since changed
        # (`changes_since`: how a file kept beside the store catches up with the log).
        self._generation: str | None = None
        self._snapshot_seq = 0
        self._logged: list[tuple[int, tuple[tuple[str, int], ...]]] = []
        with self._locked(None):
            if self._is_new():
                self._write_snapshot()
            self._reload(verify)

    # -- public (`transaction` and `refresh` are the lifecycle's: `Backend`) --------
    def changed_on_disk(self) -> bool:
        """Whether another process committed since we last looked (no lock, reads nothing)."""
        return self._signature() != self._snapshot_sig or self.log.size() != self._log_end

    def files(self) -> list[Path]:
        """The store's own files: no export, error log or outbox may write over them."""
        suffixes = (".log", ".lock", ".columns", KEYS, MATCHING, PAGE)
        return [self.path, *(self.path.with_name(self.path.name + suffix) for suffix in suffixes)]

    def state(self) -> tuple[str, int] | None:
        """(snapshot generation, seq) of what memory holds: the tag of a file kept beside the
        store that holds what was derived from this state (None: a file without one)."""
        return None if self._generation is None else (self._generation, self.seq)

    def changes_since(self, state: tuple[str, int]) -> dict[str, set[int]] | None:
        """The documents changed since `state` (`state()` then), by table; None when it is not
        one this snapshot and its log lead to (another snapshot, a seq not in its log)."""
        generation, seq = state
        if generation != self._generation or not self._snapshot_seq <= seq <= self.seq:
            return None
        changed: dict[str, set[int]] = {}
        for logged_seq, docs in self._logged:
            if logged_seq > seq:
                for table, doc_id in docs:
                    changed.setdefault(table, set()).add(doc_id)
        return changed

    def side_file(self, suffix: str) -> Path:
        """Where a file derived from the store and tagged with its `state` is kept."""
        return self.path.with_name(self.path.name + suffix)

    def saved_keys(self) -> SavedKeys | None:
        if self._generation is None:
            return None
        return SavedKeys(self.side_file(KEYS), self._generation, self.schema.keyed_tables, self.verify)

    def watch(self, changed: Callable[[], None]) -> None:
        """A file tells nobody of its changes: readers look (`changed_on_disk`) on a timer."""

    def verify(self) -> None:
        """Check every table not checked yet against its checksum (a store opened with
        verify=False); StoreCorrupt names the first damaged one."""
        for rows in list(self.tables.values()):
            if isinstance(rows, Table):
                rows.verify()

    def compact(self) -> None:
        """Fold the log into a new snapshot and empty the log."""
        with self._exclusive():
            self._fold()

    def close(self) -> None:
        """Every commit is already on disk. A change log grown past `FOLD_ON_CLOSE_BYTES` (or a
        twentieth of the snapshot) is folded now, so the next open replays little however
        much was written; a store busy with another writer, or a full disk, leaves it for later."""
        if self.log.size() <= max(FOLD_ON_CLOSE_BYTES, self._snapshot_size() // 20):
            return
        try:
            with self._exclusive(wait=0):
                self._fold()
        except (StoreError, OSError):
            pass  # the log stays whole; the next close or a large commit folds it

    @contextmanager
    def reserved(self, wait: float | None = None) -> Iterator[None]:
        """Hold the store's file lock, waiting up to `wait` (None: the lock timeout) for
        other processes, without touching the tables: the commits of every thread of
        this process take it at once meanwhile."""
        try:
            self._file_lock.acquire(timeout=wait)
        except Timeout:
            raise self._busy() from None
        try:
            yield
        finally:
            self._file_lock.release()

    # -- the lifecycle's steps ---------------------------------------------
    @contextmanager
    def _locked(self, wait: float | None) -> Iterator[None]:
        """This process's turn and the file lock: held through a whole commit."""
        with self._turn(wait), self.reserved(wait):
            yield

    def _in_commit(self, wait: float | None) -> AbstractContextManager[None]:
        return nullcontext()  # (the file lock, taken by `_locked`, is all a commit needs)

    def _reading(self) -> AbstractContextManager[None]:
        return nullcontext()  # (the file lock keeps writers out while we read)

    def _write(self, tx: Transaction, *, rewrite: bool) -> set[str]:
        """Log the changes, or write the tables as a new snapshot (`_is_bulk`): a large commit,
        or `rewrite` (a new store file with an empty log: nothing of the old state stays in
        the store's files); the tables they touched."""
        # A store opened without checking its large tables (`verify=False`: a small command)
        # is checked before anything is written to it: never a damaged store written to.
        self.verify()
        if self._is_bulk(tx, rewrite):
            # A commit that goes straight into a new snapshot needs no list of its changes.
            written, changes = tx.tables_changed(), None
        else:
            changes = tx.changes()
            written = {str(op[0]) for op in changes}
            if not changes:
                return set()
        seq = self.seq + 1
        try:
            if changes is None:
                # It would be folded at once anyway: write the new snapshot only.
                self.seq = seq
                self._fold()
                if rewrite:  # (what is derived from the old state goes with it)
                    self._drop_side_files()
            else:
                self._log_end = self.log.append({"seq": seq, "ops": changes}, self._log_end)
                self.seq = seq
                self._logged.append((seq, tuple((str(op[0]), int(op[1])) for op in changes)))
        except OSError as err:
            self.seq = seq - 1
            raise StoreError(f"{self.path}: could not save the change ({err.strerror})") from None
        return written

    def _committed(self, written: set[str], *, rewrite: bool) -> None:
        """Fold a log grown large into a new snapshot (after a snapshot commit it is empty).
        The app's first page (`store.views.page`) showed the state before: it goes, so that no
        deleted or obfuscated customer's name stays on disk in it."""
        with contextlib.suppress(OSError):
            os.unlink(self.path.with_name(self.path.name + PAGE))
        if self._log_end > max(COMPACT_MIN_BYTES, self._snapshot_size() // 2):
            # The commit is safe in the log; folding is retried after the next commit.
            with contextlib.suppress(OSError):
                self._fold()

    def _catch_up(self) -> bool:
        if self._signature() != self._snapshot_sig or self.log.size() < self._log_end:
            self._reload()
            return True
        records, end = self.log.read_from(self._log_end)
        for record in records:
            if record["seq"] != self.seq + 1:
                self._reload()
                return True
            self._apply(record)
        self._log_end = end
        return bool(records)

    # -- internals --------------------------------------------------------
    def _is_bulk(self, tx: Transaction, rewrite: bool) -> bool:
        """Whether the commit is written as a new snapshot (see BULK_CHANGES) rather than logged."""
        size = tx.size()  # (counting documents loads every table: only done for large commits)
        return size > 0 and (rewrite or (size > BULK_CHANGES and size > self.document_count() // 4))

    def _fold(self) -> None:
        self._write_snapshot()
        self.log.reset()
        self._log_end = 0

    def _drop_side_files(self) -> None:
        for suffix in (MATCHING, KEYS):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path.with_name(self.path.name + suffix))

    def _snapshot_size(self) -> int:
        return self._snapshot_sig[2] if self._snapshot_sig else 0

    def _signature(self) -> tuple[Any, ...] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _write_snapshot(self) -> None:
        remove_stale_temp_files(self.path)
        # Every snapshot carries complete counts (a new store, a file TinyDB wrote: counted here).
        meta = {**self.meta, "seq": self.seq, "tallies": dict(self.tallies())}
        self.tables[META][META_ID] = meta
        self._generation = write_snapshot(self.path, self.tables, self.schema)
        self._snapshot_sig = self._signature()
        self._snapshot_seq, self._logged = self.seq, []

    def _reload(self, verify: bool = True) -> None:
        with paused_gc():
            self._load(verify)

    def _is_new(self) -> bool:
        """No store here yet. A missing snapshot beside a change log is a lost one, not a new store."""
        if self.path.exists():
            return False
        if self.log.size():
            raise StoreCorrupt(f"{self.path}: the store file is missing but its change log is there; nothing was "
                               "changed: restore the file, or run 'custdesk repair' to keep what the log holds")
        return True

    def _load(self, verify: bool) -> None:
        self._snapshot_sig = self._signature()
        tables, self._generation = read_snapshot(self.path, self.schema, verify=verify)
        if tables is None:
            raise StoreCorrupt(f"{self.path}: the store file is empty (a copy that stopped early, or a full disk?); "
                               "nothing was changed: run 'custdesk repair' to keep what its change log holds")
        self.replace_tables(tables)
        self.seq = self._snapshot_seq = self.meta["seq"]
        self._logged = []
        records, self._log_end = self.log.read_from(0)
        for record in records:
            if record["seq"] == self.seq + 1:
                self._apply(record)

    def _apply(self, record: dict[str, Any]) -> None:
        for table, doc_id, doc in record["ops"]:
            self.set_in_memory(table, int(doc_id), doc)
        self.seq = record["seq"]
        self._logged.append((self.seq, tuple((str(op[0]), int(op[1])) for op in record["ops"])))
