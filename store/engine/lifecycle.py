"""The commit lifecycle, written once for every backend: take the lock, catch up with
other sessions' commits, run the verb in memory, make its changes durable, or undo
them all in memory if anything fails.

A backend supplies its own steps: its lock (`_locked`: this process's turn, and the
file store's file lock), the scope a commit is written in (`_in_commit`: PostgreSQL's
SQL transaction under its advisory lock), where a refresh reads (`_reading`),
catching up (`_catch_up`), writing the commit (`_write`) and what follows it once it
is durable (`_committed`).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from store.base.bulk import paused_gc
from store.base.errors import StoreBusy
from store.engine.memory import InMemory
from store.engine.transaction import Transaction


class Backend(InMemory, ABC):
    """The tables in memory, and the commits that change them and the store together."""

    where: str
    seq: int  # the last commit read or written

    # -- the lifecycle ----------------------------------------------------------------
    @contextmanager
    def transaction(self, *, rewrite: bool = False) -> Iterator[Transaction]:
        """One atomic commit. `rewrite`: nothing of the old state of what it changed stays
        in the store (how is the backend's: a new store file, tables rewritten)."""
        with self._locked(None), paused_gc():
            tx: Transaction | None = None
            try:
                with self._in_commit(None):
                    self._catch_up()
                    tx = Transaction(self)
                    yield tx
                    tx.seal()
                    written = self._write(tx, rewrite=rewrite)
            except BaseException:
                if tx is not None:
                    tx.rollback()
                raise
            if written:
                self._committed(written, rewrite=rewrite)

    def refresh(self, wait: float | None = None) -> bool:
        """Catch up with other sessions' commits; True when anything changed.

        `wait` caps how long to wait for the lock (StoreBusy after that)."""
        with self._locked(wait), paused_gc(), self._reading():
            return self._catch_up()

    @contextmanager
    def _exclusive(self, wait: float | None = None) -> Iterator[None]:
        """The store to ourselves, caught up with every commit: for upkeep (compact, fold)."""
        with self._locked(wait), self._in_commit(wait):
            self._catch_up()
            yield

    @contextmanager
    def _turn(self, wait: float | None) -> Iterator[None]:
        """This process's turn: its threads commit and catch up one at a time."""
        if not self._mutex.acquire(timeout=-1 if wait is None else wait):
            raise self._busy()  # another thread of this process is committing
        try:
            yield
        finally:
            self._mutex.release()

    def _busy(self) -> StoreBusy:
        return StoreBusy(f"{self.where}: the store is busy with another change; try again")

    # -- the backend's steps ----------------------------------------------------------
    @abstractmethod
    def _locked(self, wait: float | None) -> AbstractContextManager[None]:
        """This process's turn (`_turn`) and whatever else holds for a whole commit, what
        follows it included; waits up to `wait` (None: the lock timeout), then StoreBusy."""

    @abstractmethod
    def _in_commit(self, wait: float | None) -> AbstractContextManager[None]:
        """The scope a commit is caught up and written in (under `_locked`); the same
        waiting."""

    @abstractmethod
    def _reading(self) -> AbstractContextManager[None]:
        """Where a refresh catches up (under `_locked`): one consistent state of the store."""

    @abstractmethod
    def _catch_up(self) -> bool:
        """Read what other sessions committed since we last looked; True when anything was."""

    @abstractmethod
    def _write(self, tx: Transaction, *, rewrite: bool) -> set[str]:
        """Make the transaction's changes durable (in `_in_commit`); the tables they touched,
        none when nothing changed. Raises (StoreError …) when they could not be made durable:
        the lifecycle then undoes them in memory."""

    @abstractmethod
    def _committed(self, written: set[str], *, rewrite: bool) -> None:
        """What follows a durable commit that changed these tables (still under `_locked`)."""
