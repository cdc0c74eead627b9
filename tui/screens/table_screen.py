"""What the customer table and the source list share: a search box, a filter bar, the
table, selection and sort."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Input, Static

from store.model import CUSTOMERS
from store.views.query import Query
from store.views.records import RecordView

from ..widgets.footer import SteadyFooter
from ..widgets.table import Column, RecordTable, Row
from .base import StoreScreen
from .customer_rows import SEARCH_PLACEHOLDER, filter_bar


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
        self._had_rows = True


    @property
    def view(self) -> RecordView:
        return self.app.views[self.TABLE]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder=SEARCH_PLACEHOLDER, id="search")
        yield Static(id="filters")
        yield RecordTable(self.COLUMNS, row_style=self.row_style, id="table")
        yield SteadyFooter()

    @property
    def table(self) -> RecordTable:
        return self.query_one("#table", RecordTable)

    def on_mount(self) -> None:
        self.table.marked = self.selected
        self.redraw()
        self.app.update_counts()
        self.table.focus()

    def row_style(self, row: Row) -> str:
        return ""

    def on_resize(self) -> None:
        self.app.update_counts()  # the header says more in a wider terminal

    # -- showing --------------------------------------------------------------
    def redraw(self, keep: int | None = None, *, first: bool = False) -> None:
        """Show the rows the query selects, the cursor on row `keep`, else on the row it
        was on; `first`: on the first row (a new search or filter)."""
        frame = self.view.select(self.query_state)
        self.table.show(frame, keep=None if first else keep if keep is not None else self.table.current_id)
        if self.selected:  # forget selected customers that were deleted or merged away
            self.selected &= set(self.view.frame["id"].to_list())
        self.update_filters(frame.height)

    def update_filters(self, shown: int) -> None:
        bar = filter_bar(self.filter_labels(), self.query_state.text, shown, len(self.selected), self.view.frame.height)
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
            if self.table.row_count:
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
        row_id = self.table.current_id
        if row_id is None:
            return
        self.selected.symmetric_difference_update({row_id})
        self.table.action_cursor(1)
        self.update_filters(self.table.row_count)

    def action_select_all(self) -> None:
        shown = set(self.table.shown_ids())
        if shown <= self.selected:
            self.selected -= shown
        else:
            self.selected |= shown
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
