"""History (the palette's "History"): the store's journal, newest first; any entry undo can
still take back is undone from here by its name."""
from __future__ import annotations

from typing import cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from store.domain.history import LogEntry, counted
from store.model import JournalEntry

from ..flows.undo import undo_entry
from ..widgets.footer import SteadyFooter
from .base import StoreScreen, cursor_key
from .modals import InfoScreen, literal

# The newest entries shown; `custdesk log` lists them all.
SHOWN = 2000
# The summary last: at 80 columns a long one is cut at the right, not the state.
COLUMNS = ("#", "when", "who", "action", "state", "records", "summary")


def _records(entry: LogEntry) -> str:
    named = entry["customers"]
    if len(named) == 1:
        return named[0]
    return counted(entry["counts"]) or (f"{len(named):,} customers" if named else "")


class ActivityScreen(StoreScreen[None]):
    """Every journal entry, newest first: who did what, when, to which records; `u` undoes
    the highlighted one (asking first, by its name) while undo can still take it back."""

    BINDINGS = [Binding("u", "undo", "Undo entry", id="undo-entry"), Binding("i", "details", "Entry details", id="entry-details"),
                Binding("escape", "back", "Back", id="back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="entries", cursor_type="row", zebra_stripes=True)
        yield Static(id="entries-note")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one("#entries", DataTable).add_columns(*COLUMNS)
        self.redraw()

    def redraw(self) -> None:
        table = self.query_one("#entries", DataTable)
        cursor = table.cursor_row
        table.clear()
        self.entries = {str(entry["id"]): entry for entry in self.store.log(limit=SHOWN)}
        for key, entry in self.entries.items():
            table.add_row(str(entry["id"]), self.app.dates.shown(entry["at"]), literal(entry["user"]), entry["action"],
                          Text(entry["state"], style="dim"), literal(_records(entry)), literal(entry["summary"]), key=key)
        table.move_cursor(row=min(cursor, max(table.row_count - 1, 0)))
        note = ("Nothing done yet: the journal is empty." if not self.entries else
                f"The newest {SHOWN:,} entries; custdesk log lists every one." if len(self.entries) >= SHOWN else "")
        self.query_one("#entries-note", Static).update(note)
        table.focus()

    def current(self) -> LogEntry | None:
        key = cursor_key(self.query_one("#entries", DataTable))
        return None if key is None else self.entries[key]

    def on_data_table_row_highlighted(self) -> None:
        self.refresh_bindings()

    def on_data_table_row_selected(self) -> None:
        self.action_details()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("undo", "details"):
            entry = self.current() if self.is_mounted else None
            if entry is None:
                return None
            return True if action == "details" or entry["state"] == "undoable" else None
        return True

    def action_undo(self) -> None:
        entry = self.current()
        if entry is not None and entry["state"] == "undoable":
            undo_entry(self.app, cast(JournalEntry, entry))

    def action_details(self) -> None:
        entry = self.current()
        if entry is None:
            return
        counts = counted(entry["counts"])
        fields = [("Entry", f"#{entry['id']}"), ("When", self.app.dates.shown(entry["at"])), ("Who", entry["user"]),
                  ("Action", entry["action"]), ("Summary", entry["summary"]), ("Records", counts),
                  ("Customers", ", ".join(entry["customers"])), ("State", entry["state"] or "kept (cannot be undone)")]
        self.app.push_screen(InfoScreen(f"Journal entry #{entry['id']}", [(k, v) for k, v in fields if v]))

    def action_back(self) -> None:
        self.app.pop_screen()
