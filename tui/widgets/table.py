"""A table that renders only its visible rows, read from what the view shows
(`store.views.shown`: a polars frame, or a server's pages read as it scrolls).

Textual's DataTable builds every row up front (seconds at 100k); this one
asks the rows for the few on screen at each paint. Cell text is data,
never markup: it goes into a plain `Segment` with control characters made
visible, so an imported name cannot style the screen or move the cursor.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from store.base.errors import StoreError
from store.base.text import printable
from store.views.listed import Listed
from store.views.query import Interrupted

if TYPE_CHECKING:
    from store.views.shown import Shown
    from tui.app import CustdeskApp

Row = dict[str, Any]  # one shown row, as the view's frame gives it
RowStyle = Callable[[Row], str]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int  # fixed width, or the share of the room left when `flex`
    flex: bool = False
    # Where the terminal is too narrow for every column, the one with the highest
    # `drop` goes first, and so on (0: always shown).
    drop: int = 0
    dated: bool = False  # ISO dates/times, shown in the user's date format (app.dates)


# A server's rows are read ahead to here at most by End (the count stops at 10,000 too).
READ_AHEAD_MOST = 10_000
FLEX_MIN = 8  # a flexible column is never narrower than this
# Columns are dropped until each flexible one (names, emails) can have this much:
# at 80 columns a name of 12 cells reads better than a Kind column beside 8.
FLEX_COMFORT = 12


def layout(columns: list[Column], width: int) -> list[tuple[Column, int]]:
    """The columns shown in `width` cells (after the 2-cell selection mark), each with its width."""
    shown = list(columns)
    def needed(flex: int = FLEX_MIN) -> int:
        return 2 + sum((flex if c.flex else c.width) + 1 for c in shown)
    for column in sorted((c for c in columns if c.drop), key=lambda c: -c.drop):
        if needed(FLEX_COMFORT) <= width:
            break
        shown.remove(column)
    # Each flexible column gets its minimum, then a share of what is left.
    extra = max(0, width - needed())
    shares = sum(c.width for c in shown if c.flex) or 1
    return [(c, c.width if not c.flex else FLEX_MIN + extra * c.width // shares) for c in shown]


class RecordTable(ScrollView, can_focus=True):
    """Rows of `frame` (which has an `id` column) under a header line."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="page-down"),
        Binding("g,home", "first", "Top", show=False, id="top"),
        Binding("G,end", "last", "Bottom", show=False, id="bottom"),
    ]
    DEFAULT_CSS = """
    RecordTable { height: 1fr; overflow-x: hidden; }
    """

    cursor = reactive(0, always_update=True)

    class Moved(Message):
        """The cursor moved to another row (id None: the table is empty)."""

        def __init__(self, table: RecordTable, row_id: int | None) -> None:
            super().__init__()
            self.table = table
            self.row_id = row_id

    def __init__(self, columns: list[Column], *, row_style: RowStyle | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns = columns
        self.row_style = row_style
        self.marked: set[int] = set()
        # Nothing of polars or numpy until rows come: the first page (`show_page`) is shown
        # before they are imported (~0.25 s).
        self._shown: Shown = Listed([])
        self._window: tuple[int, list[Row]] = (0, [])  # (first index, rows) fetched for painting
        self._laid_out: tuple[int, list[tuple[Column, int]]] = (-1, [])

    # -- data -------------------------------------------------------------
    def show(self, shown: Shown, *, keep: int | None = None) -> None:
        """Show these rows; keep the cursor on row id `keep` when it is still there (else
        on the row now at its place); no `keep`: on the first row."""
        position = 0
        if keep is not None:
            found = shown.index_of(keep)
            position = found if found is not None else min(self.cursor, max(0, len(shown) - 1))
        self._shown = shown
        self._window = (0, [])
        self._sized()
        self.cursor = position
        self.refresh()

    @property
    def shown(self) -> Shown:
        """The rows shown: all of them, or those read so far of a server's (`Shown.read_more`)."""
        return self._shown

    @property
    def row_count(self) -> int:
        return len(self._shown)

    @property
    def current_id(self) -> int | None:
        return self._shown.id_at(self.cursor) if len(self._shown) else None

    def show_page(self, rows: list[Row]) -> None:
        """Show these rows (the store's first page: `store.views.page`), the cursor
        on the first: what the table will show once the store is loaded (`show`)."""
        self.show(Listed(rows))

    def row(self, index: int) -> Row:
        """The shown row at `index` (0: the first under the header), as the view gave it."""
        return self._row(index)

    def current_row(self) -> Row | None:
        return self._row(self.cursor) if len(self._shown) else None

    def _sized(self) -> None:
        self.virtual_size = Size(self._view.width, len(self._shown) + 1)

    def _read_up_to(self, index: int, most: int = READ_AHEAD_MOST) -> None:
        """Read the next pages of a server's rows until row `index` and a screen beyond it
        are read, or `most` rows, or all of them."""
        shown, wanted = self._shown, min(index + self._view.height, most)
        if shown.complete or len(shown) > wanted:
            return
        try:
            while len(shown) <= wanted and shown.read_more():
                pass
        except Interrupted:
            return  # (a newer query's rows are on their way)
        except StoreError as err:
            self.notify(str(err), severity="error", markup=False)
        self._window = (0, [])
        self._sized()

    @property
    def _view(self) -> Size:
        """The cells rows are drawn in: the widget less its scrollbar."""
        return self.scrollable_content_region.size

    # -- movement -----------------------------------------------------------
    def watch_cursor(self, cursor: int) -> None:
        body = max(1, self._view.height - 1)
        top = self.scroll_offset.y
        if cursor < top:
            self.scroll_to(y=cursor, animate=False)
        elif cursor >= top + body:
            self.scroll_to(y=cursor - body + 1, animate=False)
        self.refresh()
        self.post_message(self.Moved(self, self.current_id))

    def _move_to(self, row: int) -> None:
        self._read_up_to(row)
        self.cursor = max(0, min(row, len(self._shown) - 1))

    def action_cursor(self, step: int) -> None:
        self._move_to(self.cursor + step)

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor + direction * max(1, self._view.height - 2))

    def action_first(self) -> None:
        self._move_to(0)

    def action_last(self) -> None:
        """The last row; of a server's rows, the last of the first `READ_AHEAD_MOST` (S reverses
        the order to see the others' end)."""
        self._read_up_to(READ_AHEAD_MOST, READ_AHEAD_MOST)
        self._move_to(len(self._shown) - 1)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self._move_to(self.scroll_offset.y + event.y - 1)

    def on_resize(self) -> None:
        self._sized()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._read_up_to(int(new) + self._view.height)  # (scrolled by the mouse past the rows read)

    # -- painting ------------------------------------------------------------
    def _layout(self) -> list[tuple[Column, int]]:
        width = self._view.width
        if self._laid_out[0] != width:  # asked for every line painted: kept per width
            self._laid_out = (width, layout(self.columns, width))
        return self._laid_out[1]

    def _line(self, cells: list[str], style: Style, mark: str) -> Strip:
        # One segment a line, padded by hand: building a rich Text per line cost
        # ~0.8 ms, most of a keystroke's redraw at 40 visible rows.
        parts = [mark]
        for cell, (_column, width) in zip(cells, self._layout(), strict=True):
            shown = printable(cell)
            length = cell_len(shown)
            if length > width:
                shown = set_cell_size(shown, max(0, width - 1)) + "…"
            else:
                shown += " " * (width - length)
            parts.append(shown + " ")
        return Strip([Segment("".join(parts), style)]).adjust_cell_length(self._view.width, style)

    def _row(self, index: int) -> Row:
        # The visible rows are fetched from the frame together, not one polars call a line.
        start, rows = self._window
        if not start <= index < start + len(rows):
            start = max(0, index - self._view.height)
            rows = self._shown.rows(start, 3 * max(1, self._view.height))
            self._window = (start, rows)
        return rows[index - start]

    def render_line(self, y: int) -> Strip:
        if y == 0:
            return self._line([c.label for c, _width in self._layout()], Style(bold=True, underline=True), "  ")
        index = self.scroll_offset.y + y - 1
        if index >= len(self._shown):
            return Strip.blank(self._view.width)
        row = self._row(index)
        base = Style.parse(self.row_style(row)) if self.row_style else Style()
        if index == self.cursor:
            base += Style(reverse=True) if self.has_focus else Style(underline=True)
        mark = "● " if row["id"] in self.marked else "  "
        return self._line([self._cell(c, row.get(c.key)) for c, _width in self._layout()], base, mark)

    def _cell(self, column: Column, value: object) -> str:
        return cast("CustdeskApp", self.app).dates.shown(value) if column.dated else _text(value)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
