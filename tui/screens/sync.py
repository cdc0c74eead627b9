"""The accounting sync runs: when, which export, what each did, and its conflicts."""
from __future__ import annotations

from typing import Any, cast

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from store.model import JournalEntry

from ..flows.undo import undo_entry
from .base import StoreScreen
from .modals import literal

# (the counts that need a look first, the file last: at 80 columns it is the one cut off)
COUNTS = ("created", "updated", "removed", "conflicts", "errors", "unchanged")


class SyncScreen(StoreScreen[None]):
    """Every sync run, newest first, with the files that could not be synced (failed); under
    the list, the highlighted run's conflicts and errors, or why it failed."""

    BINDINGS = [Binding("u", "undo", "Undo run", id="undo-run"), Binding("escape", "back", "Back", id="back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static(id="run-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#runs", DataTable).add_columns("when", "profile", "new", "updated", "removed", "conflicts", "errors",
                                                       "unchanged", "file", "")
        self.redraw()

    def redraw(self) -> None:
        table = self.query_one("#runs", DataTable)
        table.clear()
        self.runs = {str(run["id"]): run for run in self.store.sync_runs()}
        for key, run in self.runs.items():
            counts = run.get("counts") or {}
            shown = ["" for _ in COUNTS] if run["failed"] else [str(counts.get(name, 0)) for name in COUNTS]
            table.add_row(self.app.dates.shown(run["at"]), literal(run.get("profile")), *shown,
                          literal(run.get("file")), _state(run), key=key)
        if not self.runs:
            self.query_one("#run-detail", Static).update(
                Text("No sync runs yet: custdesk sync FILE (or sync --watch DIR) brings accounting exports in (README, Accounting sync)."))
        table.focus()

    def current(self) -> dict[str, Any] | None:
        table = self.query_one("#runs", DataTable)
        if table.row_count == 0:
            return None
        return self.runs[str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)]

    def on_data_table_row_highlighted(self) -> None:
        run = self.current()
        if run is not None:
            self.query_one("#run-detail", Static).update(_details(run))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo":
            run = self.current() if self.is_mounted else None
            return True if run is not None and run.get("undoable") and not run.get("undone") else None
        return True

    def action_undo(self) -> None:
        run = self.current()
        if run is not None:
            undo_entry(self.app, cast(JournalEntry, run))

    def action_back(self) -> None:
        self.app.pop_screen()


def _state(run: dict[str, Any]) -> Text:
    if run["failed"]:
        return Text("failed", style="bold red")
    return Text("undone" if run.get("undone") else "")


def _details(run: dict[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    grid.add_row("Summary", literal(run.get("summary")))
    if run["failed"]:
        grid.add_row("Failed", Text.assemble(literal(run.get("file")), ": ", literal(run.get("reason")),
                                             ("  (not synced until the file changes)", "dim")))
    for conflict in run.get("conflicts") or []:
        grid.add_row("Conflict", Text.assemble(literal(conflict.get("number") or conflict.get("id")), f" {conflict['field']}: ",
                                               ("here ", "dim"), literal(conflict.get("here")), ("  accounting ", "dim"),
                                               literal(conflict.get("there"))))
    for error in run.get("errors") or []:
        grid.add_row("Refused", Text.assemble(f"row {error['row']} ", literal(error.get("id")), ": ", literal(error.get("message"))))
    return grid
