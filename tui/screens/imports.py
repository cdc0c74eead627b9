"""The imports run, newest first, and the mappings remembered for files of a shape."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Label, Static

from store.domain.import_runs import ImportRun, RememberedMapping
from store.rules.mappings import shown_headers

from ..flows.mappings import forget_mapping
from ..flows.undo import undo_entry
from ..widgets.footer import SteadyFooter
from .base import StoreScreen, cursor_key
from .modals import literal

COUNTS = ("created", "updated", "skipped", "errors")
UNDO_STYLE = {"undoable": "", "undone": "dim", "expired": "dim"}


class ImportsScreen(StoreScreen[None]):
    """Every import (when, who, file and sheet, target, mode and key, counts, undo state) and,
    below, the remembered mappings; under both, the highlighted run's summary."""

    BINDINGS = [Binding("u", "undo", "Undo import", id="undo-import"),
                Binding("f", "forget", "Forget mapping", id="forget-mapping"),
                Binding("escape", "back", "Back", id="back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static(id="run-detail")
        yield Label("Remembered mappings (f forgets the highlighted one)", classes="hint")
        yield DataTable(id="mappings", cursor_type="row")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one("#runs", DataTable).add_columns("when", "who", "into", "mode by", *COUNTS, "undo", "entry", "file")
        self.query_one("#mappings", DataTable).add_columns("id", "into", "remembered from", "headers")
        self.redraw()

    def redraw(self) -> None:
        runs = self.query_one("#runs", DataTable)
        runs.clear()
        self.runs = {str(run.id): run for run in self.store.import_runs()}
        for key, run in self.runs.items():
            where = Text.assemble(literal(run.file or "—"), literal(f" · {run.sheet}") if run.sheet else "")
            runs.add_row(self.app.dates.shown(run.at), literal(run.user), run.target or "—",
                         f"{run.mode} by {run.key}" if run.mode else "—", *(f"{run.counts.get(c, 0):,}" for c in COUNTS),
                         Text(run.undo, style=UNDO_STYLE[run.undo]), f"#{run.id}", where, key=key)
        mappings = self.query_one("#mappings", DataTable)
        mappings.clear()
        self.mappings = {m.id: m for m in self.store.remembered_mappings()}
        for key, m in self.mappings.items():
            origin = Text.assemble(literal(m.file or "—"), f" ({m.at[:10]})")
            mappings.add_row(m.id, m.target, origin, literal(shown_headers([c for c, _ in m.columns])), key=key)
        detail = self.query_one("#run-detail", Static)
        detail.update(Text("No imports yet: i on the customers or prospects imports a file.") if not self.runs else "")
        self.on_data_table_row_highlighted()
        runs.focus()
        self.refresh_bindings()

    def current_run(self) -> ImportRun | None:
        key = cursor_key(self.query_one("#runs", DataTable))
        return None if key is None else self.runs[key]

    def current_mapping(self) -> RememberedMapping | None:
        key = cursor_key(self.query_one("#mappings", DataTable))
        return None if key is None else self.mappings[key]

    def on_data_table_row_highlighted(self) -> None:
        run = self.current_run()
        if run is not None:
            self.query_one("#run-detail", Static).update(_details(run, self.mappings.get(run.mapping or "")))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.is_mounted:
            return True
        if action == "undo":
            run = self.current_run()
            return True if run is not None and run.undo == "undoable" else None
        if action == "forget":
            return True if self.current_mapping() is not None else None
        return True

    def action_undo(self) -> None:
        run = self.current_run()
        if run is not None and run.undo == "undoable":
            undo_entry(self.app, run.entry())

    def action_forget(self) -> None:
        mapping = self.current_mapping()
        if mapping is not None:
            forget_mapping(self.app, mapping)

    def action_back(self) -> None:
        self.app.pop_screen()


def _details(run: ImportRun, mapping: RememberedMapping | None) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    grid.add_row("Summary", literal(run.summary))
    if run.undo == "undoable":
        grid.add_row("Undo", Text(f"u, or custdesk undo --entry {run.id}"))
    if mapping is not None:
        grid.add_row("Mapping", Text.assemble(literal(mapping.message()), f" (id {mapping.id})"))
    return grid
