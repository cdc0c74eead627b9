"""What the customer table and the source list share: a search box, a filter bar, the
table, selection and sort."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Header, Input, ProgressBar, Static
from textual.worker import Worker, get_current_worker

from store import StoreError
from store.model import CUSTOMERS
from store.views.query import Interrupted, Query

from ..widgets.footer import SteadyFooter
from ..widgets.table import Column, RecordTable, Row
from .base import StoreScreen
from .customer_rows import SEARCH_PLACEHOLDER, filter_bar

if TYPE_CHECKING:
    from store.views.shown import Shown, TableRows

# Rows one selection ("select all shown", an export or a mailing of all shown) holds at most.
SELECT_MOST = 100_000


class EarlyRows(Message):
    """Rows a worker read (`_read_remote`) given before the server made sure of them
    (`TableRows.shown`'s `early`)."""

    bubble = False

    def __init__(self, worker: Worker[None], shown: Shown, asked: set[int], keep: int | None) -> None:
        super().__init__()
        self.worker, self.shown, self.asked, self.keep = worker, shown, asked, keep


class TableScreen(StoreScreen[None]):
    """What both lists share: a search box, a filter bar, the table, selection."""

    COLUMNS: list[Column] = []
    SORTABLE: tuple[str, ...] = ()
    TABLE = CUSTOMERS
    NEEDS_ROW: frozenset[str] = frozenset()  # actions greyed out on an empty table
    # Keys both lists share; Textual adds each subclass's own to these.
    BINDINGS = [
        Binding("slash", "search", "Search", id="search"),
        Binding("space", "toggle_select", "Select", show=False, id="select"),
        Binding("asterisk", "select_all", "Select all shown", show=False, id="select-all-shown"),
        Binding("s", "sort", "Sort", show=False, id="sort"),
        Binding("S", "sort(True)", "Reverse sort", show=False, id="reverse-sort"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_state = Query()
        self.selected: set[int] = set()
        # The selected rows still there, each with whether it is active (read with the rows).
        self.held: dict[int, bool] = {}
        self._had_rows = True
        self._open_when_read = False  # (Enter in the search box while its rows were read)
        # The read whose rows were shown early, and the row the cursor was then on; the last
        # read whose page, made sure of, was shown (its early rows arriving after it are moot).
        self._early_at: tuple[Worker[None], int | None] | None = None
        self._made_sure: Worker[None] | None = None

    @property
    def rows(self) -> TableRows:
        """The table's rows: from memory, or a server's pages (`store.views.shown`)."""
        return self.app.views.rows(self.TABLE)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder=SEARCH_PLACEHOLDER, id="search")
        yield Static(id="filters")
        yield RecordTable(self.COLUMNS, row_style=self.row_style, id="table")
        yield ProgressBar(id="work-progress", show_eta=False)  # (shown while a worker writes: an export)
        yield SteadyFooter()

    @property
    def table(self) -> RecordTable:
        return self.query_one("#table", RecordTable)

    def on_mount(self) -> None:
        self.table.marked = self.selected
        # The first rows read at once, a server's too (its first page takes milliseconds): the
        # keys typed as the screen opens find them.
        self.redraw(wait=True)
        self.app.update_counts()
        self.table.focus()

    def row_style(self, row: Row) -> str:
        return ""

    def on_resize(self) -> None:
        self.app.update_counts()  # the header says more in a wider terminal

    # -- showing --------------------------------------------------------------
    def redraw(self, keep: int | None = None, *, first: bool = False, wait: bool = False) -> None:
        """Show the rows the query selects, the cursor on row `keep`, else on the row it
        was on; `first`: on the first row (a new search or filter). A server's rows are read
        off the UI thread (unless `wait`), the newest query's only (an older read still under
        way stops)."""
        keep = None if first else keep if keep is not None else self.table.current_id
        query, selected = replace(self.query_state), set(self.selected)
        if not self.rows.remote or wait:
            try:
                found = self._read(query, selected)
                found[0].count_rows()
                self._show(*found, keep)
                self._open_if_asked()
            except StoreError as err:
                self.notify(str(err), severity="error", markup=False)
            return
        self.rows.interrupt()
        self._read_remote(query, selected, keep)

    def _read(self, query: Query, selected: set[int]) -> tuple[Shown, set[int], dict[int, bool]]:
        return self.rows.shown(query), selected, self.rows.held(selected) if selected else {}

    @work(thread=True, exclusive=True, group="rows")
    def _read_remote(self, query: Query, selected: set[int], keep: int | None) -> None:
        worker = get_current_worker()

        def early(shown: Shown) -> None:
            # (posted, not called: the read holds the connection meanwhile, which the screen's
            # thread may be waiting on)
            self.post_message(EarlyRows(worker, shown, selected, keep))

        try:
            shown = self.rows.shown(query, early=early)
            self.app.call_from_thread(self._show_read, worker, shown, selected, keep, final=True)
            if worker.is_cancelled:
                return
            if selected:  # (once the rows are on screen: 61,000 selected took 0.3-1.2 s of each keystroke)
                held = self.rows.held(selected)
                if worker.is_cancelled:
                    return
                self.app.call_from_thread(self._hold, selected, held)
            shown.count_rows()  # (once its rows are on screen: the keystroke waits for no count)
            if not worker.is_cancelled:
                self.app.call_from_thread(self.update_filters)
        except Interrupted:
            return
        except StoreError as err:
            self.app.call_from_thread(self._read_failed, err)

    def on_early_rows(self, message: EarlyRows) -> None:
        self._show_read(message.worker, message.shown, message.asked, message.keep, final=False)

    def _show_read(self, worker: Worker[None], shown: Shown, asked: set[int], keep: int | None, *,
                   final: bool) -> None:
        """Show the rows a worker read, unless a newer query made them moot: asked here, on
        the screen's thread, where the older read is cancelled, a moot read's rows never
        cover a newer one's. Rows given early (not `final`) are shown unless those made sure
        of are already; those then stay on the row the keys moved the cursor to meanwhile
        (unless Enter waits for the first match), else on the row asked for."""
        if worker.is_cancelled or self._made_sure is worker:
            return
        if not final:
            self._show(shown, asked, None, keep)
            self._early_at = (worker, self.table.current_id)
            return
        early = self._early_at
        moved = (early is not None and early[0] is worker and self.table.current_id != early[1]
                 and not self._open_when_read)
        self._made_sure, self._early_at = worker, None
        self._show(shown, asked, None, self.table.current_id if moved else keep)
        self._open_if_asked(besides=worker)

    def _read_failed(self, err: StoreError) -> None:
        self._open_when_read = False  # (no rows to open: a later read's would open unasked)
        self.notify(str(err), severity="error", markup=False)

    def _show(self, shown: Shown, asked: set[int], held: dict[int, bool] | None, keep: int | None) -> None:
        """Show the rows read (unless shown already: rows given early, then made sure of),
        and (`held`: read with them) what of the selection is still there."""
        if shown is not self.table.shown:
            self.table.show(shown, keep=keep)
        if held is not None:
            self._hold(asked, held)
        else:
            self.update_filters()

    def _open_if_asked(self, besides: Worker[None] | None = None) -> None:
        """Open the first row where Enter was pressed in the search box while rows were read,
        once no read (but `besides`, the one ending) is under way."""
        if self._open_when_read and not self._reading_rows(besides):
            self._open_when_read = False
            if self.table.row_count:
                self.run_worker(self.run_action("open"))

    def _hold(self, asked: set[int], held: dict[int, bool]) -> None:
        """Of the selection as it was (`asked`), forget the rows deleted or merged away (those
        selected since stay); keep whether each is active."""
        self.selected -= asked - held.keys()
        self.held = {i: held.get(i, self.held.get(i, True)) for i in self.selected}
        self.update_filters()

    def _reading_rows(self, besides: Worker[None] | None = None) -> bool:
        """Whether a server's rows (but `besides`'s) are still being read (`_read_remote`)."""
        return any(w.group == "rows" and not w.is_finished and w is not besides for w in self.workers)

    def update_filters(self) -> None:
        shown = self.table.shown
        # A server's count stops at 10,000, or is not known in time: at least the rows read, then.
        count, at_least = (shown.count, shown.capped) if shown.count is not None else (len(shown), True)
        bar = filter_bar(self.filter_labels(), self.query_state.text, count, len(self.selected),
                         self.rows.total(), at_least=at_least)
        self.query_one("#filters", Static).update(bar, layout=False)  # one line of fixed height: no relayout

    def filter_labels(self) -> list[tuple[str, str]]:
        sort = f"{self.query_state.sort} {'↓' if self.query_state.descending else '↑'}" if self.query_state.sort else "none"
        return [("sort", sort)]

    # -- search ----------------------------------------------------------------
    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self.query_state.text = event.value
            self.redraw(first=True)

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the search box opens the first match (the row the cursor is on)."""
        if event.input.id == "search":
            self.table.focus()
            if self._reading_rows():
                self._open_when_read = True  # (the search's rows are on their way: its first match, not the last one's)
            elif self.table.row_count:
                await self.run_action("open")

    def action_back(self) -> None:
        """escape: leave the search box, then clear search and selection."""
        search = self.query_one("#search", Input)
        if search.has_focus:
            self.table.focus()
        elif self.selected:
            self.selected.clear()
            self.redraw()
        elif search.value:
            search.value = ""
        elif len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    # -- selection and sort --------------------------------------------------------
    def action_toggle_select(self) -> None:
        row = self.table.current_row()
        if row is None:
            return
        if row["id"] in self.selected:
            self.selected.discard(row["id"])
            self.held.pop(row["id"], None)
        else:
            self.selected.add(row["id"])
            self.held[row["id"]] = bool(row.get("active", True))
        self.table.action_cursor(1)
        self.update_filters()

    async def action_select_all(self) -> None:
        """Select every row shown (again: unselect them); of a server's rows, up to `SELECT_MOST`."""
        ids = await self.shown_ids()
        if ids is None:
            return
        if set(ids) <= self.selected:
            self.selected -= set(ids)
        else:
            self.selected |= set(ids)
        self.redraw()

    def action_sort(self, reverse: bool = False) -> None:
        q = self.query_state
        if reverse:
            q.descending = not q.descending
        else:
            order = (None, *self.SORTABLE)
            q.sort = order[(order.index(q.sort) + 1) % len(order)]
            q.descending = False
        self.redraw()

    async def shown_ids(self) -> list[int] | None:
        """Every row shown, in its order; None (and why, said) when more than `SELECT_MOST` are,
        or the server could not say. A server's are read off the screen's thread (a search of
        more than 100,000 matches takes seconds): the screen is drawn meanwhile, and the keys
        typed meanwhile wait for them, in order (`*` then `d` deactivates all shown)."""
        shown = self.table.shown
        if not self.rows.remote:
            ids = shown.ids(SELECT_MOST)
        else:
            # Said where the keys typed are: on the filter bar (a notification waits for the read).
            self.query_one("#filters", Static).update("  Reading the rows shown …", layout=False)
            try:
                ids = await asyncio.to_thread(shown.ids, SELECT_MOST)
            except StoreError as err:
                self.notify(str(err), severity="error", markup=False)
                return None
            finally:
                self.update_filters()
        if ids is None:
            self.notify(f"More than {SELECT_MOST:,} rows are shown: search or filter to act on fewer",
                        severity="warning")
        return ids

    async def all_targets(self) -> list[int] | None:
        """The selected rows, else every row shown (`shown_ids`)."""
        return sorted(self.selected) if self.selected else await self.shown_ids()

    def targets(self) -> list[int]:
        """The selected rows, else the row under the cursor."""
        if self.selected:
            return sorted(self.selected)
        return [self.table.current_id] if self.table.current_id is not None else []

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Greyed out when there is no row to act on (also asked before the table is mounted).
        if action in self.NEEDS_ROW and not any(t.row_count for t in self.query(RecordTable)):
            return None
        return True

    def on_record_table_moved(self, event: RecordTable.Moved) -> None:
        # Re-evaluating every binding rebuilds the footer: only when rows appear or vanish.
        has_rows = event.row_id is not None
        if has_rows != self._had_rows:
            self._had_rows = has_rows
            self.refresh_bindings()
