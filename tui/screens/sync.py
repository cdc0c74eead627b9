"""The accounting sync runs: when, which export, what each did, and its conflicts; those
still open are settled here, one or a whole run's: the accounting value taken, or ours kept."""
from __future__ import annotations

from typing import Any, cast

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from store.domain.sync_conflicts import SyncConflict, side_of
from store.model import JournalEntry

from ..flows.undo import undo_entry
from ..verbs import attempt
from ..widgets.footer import SteadyFooter
from .base import StoreScreen, cursor_key
from .modals import literal

# (the counts that need a look first, the file last: the one column whose width varies)
COUNTS = ("created", "updated", "removed", "conflicts", "errors", "unchanged")
# The runs' column labels, full and (under WIDE columns) short: at 80 columns the full ones
# pushed the last counts and the file off the screen. The run's summary under the list
# spells its counts out. (The state column, "failed" or "undone", before the file.)
LABELS = (("when", "when"), ("profile", "profile"), ("new", "new"), ("updated", "upd"), ("removed", "rem"),
          ("conflicts", "conf"), ("errors", "err"), ("unchanged", "same"), ("", ""), ("file", "file"))
WIDE = 100


class SyncScreen(StoreScreen[None]):
    """Every sync run, newest first, with the files that could not be synced (failed); under
    the list, the highlighted run's conflicts and errors, or why it failed; then the run's
    conflicts still open, the highlighted one settled by `a` or `h`, all of them by `A` or `H`."""

    CSS_PATH = "sync.tcss"
    BINDINGS = [
        Binding("a", "settle('accounting')", "Take accounting", id="take-accounting"),
        Binding("h", "settle('here')", "Keep ours", id="keep-ours"),
        Binding("A", "settle_run('accounting')", "Run: accounting", id="run-take-accounting"),
        Binding("H", "settle_run('here')", "Run: ours", id="run-keep-ours"),
        Binding("u", "undo", "Undo run", id="undo-run"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runs: dict[str, dict[str, Any]] = {}
        self.conflicts: dict[str, SyncConflict] = {}
        self.short_labels: bool | None = None  # (None: the columns are not there yet)

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static(id="run-detail")
        yield Static(id="conflicts-title")
        yield DataTable(id="conflicts", cursor_type="row")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self._label_runs(self.app.size.width)
        self.query_one("#conflicts", DataTable).add_columns("customer", "name", "field", "here", "accounting")
        self.redraw()
        self.query_one("#runs", DataTable).focus()

    def on_resize(self) -> None:
        if self._label_runs(self.size.width):
            self.redraw()

    def _label_runs(self, width: int) -> bool:
        """The runs' columns labelled for `width` (short under WIDE); whether they changed."""
        short = width < WIDE
        if short == self.short_labels:
            return False
        self.short_labels = short
        table = self.query_one("#runs", DataTable)
        table.clear(columns=True)
        table.add_columns(*(label[short] for label in LABELS))
        return True

    def redraw(self) -> None:
        table = self.query_one("#runs", DataTable)
        shown = self.current()
        table.clear()
        self.runs = {str(run["id"]): run for run in self.store.sync_runs()}
        for key, run in self.runs.items():
            counts = run.get("counts") or {}
            shown_counts = ["" for _ in COUNTS] if run["failed"] else [str(counts.get(name, 0)) for name in COUNTS]
            table.add_row(self.app.dates.shown(run["at"]), literal(run.get("profile")), *shown_counts, _state(run),
                          literal(run.get("file")), key=key)
        if shown is not None and str(shown["id"]) in self.runs:  # (the run looked at stays the one looked at)
            table.move_cursor(row=table.get_row_index(str(shown["id"])))
        if not self.runs:
            self.query_one("#run-detail", Static).update(
                Text("No sync runs yet: custdesk sync FILE (or sync --watch DIR) brings accounting exports in (README, Accounting sync)."))
        self.show_run()

    def current(self) -> dict[str, Any] | None:
        key = cursor_key(self.query_one("#runs", DataTable))
        return None if key is None else self.runs[key]

    def current_conflict(self) -> SyncConflict | None:
        key = cursor_key(self.query_one("#conflicts", DataTable))
        return None if key is None else self.conflicts[key]

    def show_run(self) -> None:
        """The highlighted run's detail, and its conflicts still open."""
        run = self.current()
        if run is not None:
            self.query_one("#run-detail", Static).update(_details(run))
        table = self.query_one("#conflicts", DataTable)
        row = table.cursor_row
        table.clear()
        found = self.store.sync_conflicts(run["id"]) if run is not None and not run["failed"] else []
        self.conflicts = {f"{c['customer_id']}:{c['field']}": c for c in found}
        for key, conflict in self.conflicts.items():
            table.add_row(literal(conflict["number"]), literal(conflict["name"]), literal(conflict["field"]),
                          _value(conflict["here"]), _value(conflict["accounting"]), key=key)
        if found:
            table.move_cursor(row=min(row, len(found) - 1))
        table.display = bool(found)
        self.query_one("#conflicts-title", Static).update(_title(run, len(found)))
        self.refresh_bindings()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "runs":
            self.show_run()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo":
            run = self.current() if self.is_mounted else None
            return True if run is not None and run.get("undoable") and not run.get("undone") else None
        if action in ("settle", "settle_run"):
            return bool(self.conflicts)  # (off the footer while the run has none open)
        return True

    def action_settle(self, side: str) -> None:
        conflict = self.current_conflict()
        if conflict is not None:
            attempt(self.app, self.store.resolve_conflict, conflict["number"], conflict["field"], side_of(side),
                    expected_rev=conflict["rev"], then=self._settled)

    def action_settle_run(self, side: str) -> None:
        run = self.current()
        if run is not None and self.conflicts:
            shown = {c["customer_id"]: c["rev"] for c in self.conflicts.values()}
            attempt(self.app, self.store.resolve_run_conflicts, run["id"], side_of(side), expected_revs=shown,
                    then=self._settled)

    def _settled(self, entry: JournalEntry) -> None:
        self.app.notify(f"{entry['summary']} (u on the customer list undoes it)")

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


def _value(value: object) -> Text:
    """A field's value in the conflicts list: an empty one said so."""
    return Text("(empty)", style="dim") if value in (None, "") else literal(value)


def _title(run: dict[str, Any] | None, open_count: int) -> Text:
    if run is None or run["failed"] or not run.get("conflicts"):
        return Text("")
    if not open_count:
        return Text("None of this run's conflicts is open any more.", style="dim")
    return Text.assemble((f"Open conflicts ({open_count})", "bold"),
                         ("  a: accounting's value, h: ours; A, H: the whole run", "dim"))


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
