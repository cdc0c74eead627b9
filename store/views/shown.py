"""What a table shows, one read interface over two ways of reading it: the polars view of
the tables in memory (`records`), or the server's pages (`served`) where the customers and
the source list stay on a PostgreSQL server. The app asks `Views.rows(table)` and never which one runs.

`shown(query)` gives the rows a query selects as `Shown`: all of them at once from
memory; from a server, its first page, and each next one as the table scrolls to it
(`read_more`), with a count that stops at `served.COUNT_CAP` or is not known in time.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Protocol

import polars as pl

from store.views.listed import Listed
from store.views.page import PAGE_ROWS
from store.views.query import Query, Row

if TYPE_CHECKING:
    from store.store import Store
    from store.views.records import RecordView
    from store.views.served import ServerRows


class Shown(Protocol):
    """The rows one query selects, in its order, read as far as the table needs them."""

    @property
    def complete(self) -> bool:
        """Whether every row is read."""
    @property
    def count(self) -> int | None:
        """How many rows the query selects (at least this many when `capped`); None: unknown."""
    @property
    def capped(self) -> bool: ...
    def __len__(self) -> int:
        """The rows read so far."""
    def rows(self, start: int, count: int) -> list[Row]: ...
    def id_at(self, index: int) -> int: ...
    def index_of(self, row_id: int) -> int | None: ...
    def read_more(self) -> bool:
        """Read the next page; False when there is none (every row is read), or none yet (the
        first page was given early: not until it is made sure of)."""
    def count_rows(self) -> None:
        """Count the rows now, where they were not counted with the first page (a server's:
        counted once that page is shown, so that a keystroke's rows wait for no count)."""
    def ids(self, cap: int) -> list[int] | None:
        """The ids of every row the query selects; None when more than `cap` do."""


class TableRows(Protocol):
    """A table's rows as the app reads them: by query, and what its filters and selections ask."""

    remote: bool  # reads wait on a server: the app reads off its UI thread

    def shown(self, query: Query, early: Callable[[Shown], None] | None = None) -> Shown:
        """The rows the query selects; `early` is given them first where a server found its
        first page cheaply before making sure of it (`ServerRows.counted_page`): the rows
        returned are the same object where that page held."""
    def interrupt(self) -> None:
        """Make the reads under way moot (cheap: where the newer query is asked for)."""
    def total(self) -> int:
        """How many rows the table holds."""
    def tags(self) -> list[str] | None:
        """The tags its rows carry (None: too many rows to list them in time)."""
    def held(self, ids: Collection[int]) -> dict[int, bool]:
        """Of these rows, those that still exist, each with whether it is active."""
    def prepare(self) -> int:
        """Make what the rows are read through where it is missing (a server's column and
        indexes: `searched.prepare_server`; slow the first time); how many things were made."""


class FrameShown:
    """Every row at once, from the polars view."""

    complete, capped = True, False

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame
        self.count = frame.height

    def __len__(self) -> int:
        return self.frame.height

    def rows(self, start: int, count: int) -> list[Row]:
        return self.frame.slice(start, count).rows(named=True)

    def id_at(self, index: int) -> int:
        return int(self.frame["id"][index])

    def index_of(self, row_id: int) -> int | None:
        found = (self.frame["id"] == row_id).arg_true()
        return int(found[0]) if len(found) else None

    def read_more(self) -> bool:
        return False

    def count_rows(self) -> None:
        """Nothing: every row is here, counted."""

    def ids(self, cap: int) -> list[int] | None:
        return None if self.frame.height > cap else self.frame["id"].to_list()


class MemoryRows:
    """A table's rows from the polars view of the tables in memory."""

    remote = False

    def __init__(self, view: RecordView) -> None:
        self.view = view

    def shown(self, query: Query, early: Callable[[Shown], None] | None = None) -> FrameShown:
        return FrameShown(self.view.select(query))  # (every row at once: nothing to give early)

    def interrupt(self) -> None:
        """Nothing: a read from memory is over before the next query is asked for."""

    def prepare(self) -> int:
        """Nothing: the polars view needs no index."""
        return 0

    def total(self) -> int:
        return self.view.frame.height

    def tags(self) -> list[str]:
        return self.view.tags()

    def held(self, ids: Collection[int]) -> dict[int, bool]:
        frame = self.view.frame.filter(pl.col("id").is_in(list(ids)))
        actives = frame["active"] if "active" in frame.columns else pl.repeat(True, frame.height, eager=True)
        return dict(zip(frame["id"].to_list(), actives.to_list(), strict=True))


class PagedShown(Listed):
    """The rows read a page at a time from the server, by keyset (`ServerRows.page`), and
    counted up to `served.COUNT_CAP` (`count_rows`), exactly where the store's counts tell
    (`ServerRows.tallied`: no search, and no tag with another filter)."""

    def __init__(self, server: ServerRows, query: Query, first: list[Row], page_rows: int = PAGE_ROWS,
                 matches: int | None = None, *, sure: bool = True) -> None:
        """`matches`: how many rows the query selects, when reading the first page told it;
        not `sure`: the first page was given early, the server not yet sure of it (`made_sure`)."""
        super().__init__(first)
        self._server, self._query, self._page_rows = server, query, page_rows
        self.complete = len(first) < page_rows
        self.count = len(first) if self.complete else None
        self._counted = False
        self._sure = False
        if sure:
            self.made_sure(matches)

    def made_sure(self, matches: int | None) -> None:
        """The server made sure of the first page; `matches`: how many rows the query selects,
        where reading it told (None: not known)."""
        self._sure = True
        if matches is not None:
            self._counted = True
            if not self.complete:
                self.count = matches

    def read_more(self) -> bool:
        """(None read before the first page is made sure of: the next page's read would wait
        on the connection that read holds, and the screen with it.)"""
        if self.complete or not self._sure:
            return False
        page = self._server.page(self._query, self._rows[-1] if self._rows else None, self._page_rows)
        self._rows.extend(page)
        if len(page) < self._page_rows:
            self.complete = True
            self.count, self.capped = len(self._rows), False
        elif self.count is not None and len(self._rows) > self.count:
            self.count = len(self._rows)  # (rows committed since it was counted)
        return bool(page)

    def count_rows(self) -> None:
        from store.views.served import COUNT_CAP

        if self.complete or self._counted:
            return
        exact = self._server.tallied(self._query)
        count = self._server.count(self._query, COUNT_CAP) if exact is None else exact
        if not self.complete:
            self.count = count if count is None else max(count, len(self._rows))
            self.capped = exact is None and count is not None and count >= COUNT_CAP

    def ids(self, cap: int) -> list[int] | None:
        return super().ids(cap) if self.complete else self._server.ids(self._query, cap)


class ServedRows:
    """A table's rows (the customers', the source list's) read from the server a page at a
    time: the session holds only the pages it showed (`PagedShown`)."""

    remote = True

    def __init__(self, store: Store, server: ServerRows, table: str) -> None:
        self.store, self.server, self._table = store, server, table
        # What `held` read of each selected row (None: not there), kept while the session
        # learns of no change to it (its own commits, and others' it catches up with).
        self._held: dict[int, bool | None] = {}
        self._holding = threading.Lock()  # (a newer query's read may start before an older one's ends)

    def shown(self, query: Query, early: Callable[[Shown], None] | None = None) -> PagedShown:
        """The query's first page, read on the server (from a worker thread: an older query's
        statement is cancelled first; `interrupt` stops this one: Interrupted); not counted
        yet. The rows given `early` are returned where the page read after is theirs."""
        self.server.stop_older()
        told: list[PagedShown] = []

        def tell(rows: list[Row]) -> None:
            assert early is not None
            told.append(PagedShown(self.server, query, rows, PAGE_ROWS, sure=False))
            early(told[0])

        first, matches = self.server.counted_page(query, None, PAGE_ROWS, early=tell if early else None)
        if told and told[0].rows(0, PAGE_ROWS) == first:
            told[0].made_sure(matches)
            return told[0]  # (it may have read on meanwhile: the table scrolled)
        return PagedShown(self.server, query, first, PAGE_ROWS, matches)

    def interrupt(self) -> None:
        self.server.interrupt()

    def prepare(self) -> int:
        from store.views.searched import prepare_server

        made = prepare_server(str(self.store.location))
        self.server.forget_searched()
        return made

    def total(self) -> int:
        return self.store.stats()[self._table]

    def tags(self) -> list[str] | None:
        return self.server.tags()

    def held(self, ids: Collection[int]) -> dict[int, bool]:
        """Of these rows, those still there, each with whether it is active: asked of the
        server for those not asked before or changed since (61,000 selected were asked again
        at every keystroke: 0.3-1.2 s of the server's work each)."""
        with self._holding:
            changed = self.store.take_changes(f"held {self._table}")
            known = {} if changed is None else {
                i: self._held[i] for i in ids if i in self._held and i not in changed.get(self._table, ())}
            asked = [i for i in ids if i not in known]
            self._held = known  # (before the server is asked: a read that fails leaves those to ask again)
            if asked:
                found = self.server.held(asked)
                known.update({i: found.get(i) for i in asked})
        return {i: active for i, active in known.items() if active is not None}


def rows_of(store: Store, table: str, view: Callable[[], RecordView]) -> TableRows:
    """How the app reads `table`: from the server a page at a time where the store is on
    one, else from the polars view in memory (`view()`)."""
    reads = store.page_reads()
    if reads is None:
        return MemoryRows(view())
    from store.views.served import ServerRows
    from store.views.shown_sql import SERVED

    return ServedRows(store, ServerRows(reads, reads.interrupt, SERVED[table]), table)
