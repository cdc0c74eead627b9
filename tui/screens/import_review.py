"""Import review: choose a file, check every row before anything is written,
change the mapping, then import as one unit (and revert it as one)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import DataTable, Header, Input, Label, ProgressBar, Select, Static
from textual.worker import get_current_worker

from importers import ImportPlan, plan_import, read_table
from importers.plan import KEYS, MODES, TARGETS, import_target
from store import StoreError
from store.domain.batches import ROW
from store.model import JournalEntry
from store.views.shown import FrameShown

from ..messages import Imported, ImportPlanned, WorkFailed, WorkProgress
from ..verbs import attempt
from ..widgets.footer import SteadyFooter
from ..widgets.table import Column, RecordTable
from .base import AppScreen
from .import_parts import FieldPicker, ImportCancelled, PathSuggester
from .import_views import STATUS_STYLE, plan_rows, plan_summary
from .modals import ConfirmScreen, PromptScreen, literal

if TYPE_CHECKING:
    from tui.app import CustdeskApp

STATUS_FILTERS = ("all", "new", "update", "unchanged", "skipped", "duplicate", "error", "warning")
ROW_COLUMNS = [Column("status", "Status", 9), Column("row", "Row", 6), Column("name", "Name", 3, flex=True),
               Column("company", "Company", 3, flex=True, drop=1), Column("email", "Email", 4, flex=True),
               Column("message", "Message / change", 10, flex=True)]  # (the widest share: it says what is wrong)


class ImportScreen(AppScreen[None]):
    BINDINGS = [
        Binding("ctrl+r", "check", "Read and check", id="read-and-check"),
        Binding("ctrl+o", "sample", "Sample file", id="sample-file"),
        Binding("c", "change_mapping", "Change mapping", id="change-mapping"),
        Binding("r", "toggle_remembered", "Remembered mapping on/off", id="remembered-mapping"),
        Binding("p", "use_country", "Use proposed country", id="use-proposed-country"),
        Binding("s", "status_filter", "Filter by status", id="filter-by-status"),
        Binding("w", "write_errors", "Save error log", id="save-error-log"),
        Binding("b", "back_step", "Back", id="back"),
        Binding("n", "next_step", "Next: import", id="next-import"),
        Binding("u", "revert", "Revert import", id="revert-import"),
        Binding("escape", "close", "Close", id="close"),
    ]

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self.start_path = path
        self.plan: ImportPlan | None = None
        self.overrides: dict[str, str | None] = {}
        self.use_remembered = True  # apply the mapping remembered for files of these headers
        self.status_filter = "all"
        self.entry: JournalEntry | None = None
        self.step = "choose"

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="choose"):
            yield Label("File (.csv .tsv .xlsx .xls .ods .vcf) — → accepts the suggested completion")
            yield Input(self.start_path or str(Path.cwd()) + "/", id="path", suggester=PathSuggester())
            with Grid(classes="options"):
                yield Label("Into")
                yield Select([(t, t) for t in TARGETS], value="sources", allow_blank=False, id="target")
                yield Label("Mode")
                yield Select([(m, m) for m in MODES], value="create", allow_blank=False, id="mode")
                yield Label("Match by")
                yield Select([(k, k) for k in KEYS], value="email", allow_blank=False, id="key")
                yield Label("Sheet")
                yield Input(placeholder="first with data", id="sheet")
                yield Label("Phone country")
                yield Input(placeholder="file's or store's", id="country", max_length=2)
                yield Label("Encoding")
                yield Input(placeholder="detected", id="encoding")
            yield Label("enter or ctrl+r: read the file and check every row; nothing is written yet.\n"
                        "ctrl+o: write a sample file for this target (its columns, one example row).", classes="hint")
        with Vertical(id="review"):
            yield Static(id="summary")
            with Horizontal(id="review-body"):
                yield DataTable(id="mapping", cursor_type="row")
                yield RecordTable(ROW_COLUMNS, row_style=lambda r: STATUS_STYLE.get(r["status"], ""), id="rows")
            yield Static(id="row-detail")
        yield ProgressBar(id="progress", show_eta=False)
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one("#review").display = False
        self.query_one("#progress").display = False
        mapping = self.query_one("#mapping", DataTable)
        mapping.add_columns("column", "field", "how")
        self.query_one("#path", Input).focus()

    def on_resize(self) -> None:
        # Under 120 columns the mapping goes above the rows, which keep the full width; under
        # 32 lines it shows three of its rows at a time (it scrolls), leaving the rows room.
        body = self.query_one("#review-body")
        body.set_class(self.size.width < 120, "narrow")
        body.set_class(self.size.height < 32, "short")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "use_country" and self._proposed_country() is None:
            return False  # shown only when there is a country to propose
        if action == "toggle_remembered" and self.use_remembered and (self.plan is None or self.plan.remembered is None):
            return False  # shown only when a remembered mapping applies, or was set aside
        allowed = {
            "choose": {"check", "close", "sample"},
            "review": {"change_mapping", "status_filter", "write_errors", "back_step", "next_step", "close", "check",
                       "use_country", "toggle_remembered"},
            "done": {"revert", "close", "write_errors"},
        }[self.step]
        return True if action in allowed else None

    def _set_step(self, step: str) -> None:
        self.step = step
        self.query_one("#choose").display = step == "choose"
        self.query_one("#review").display = step != "choose"
        self.refresh_bindings()

    # -- reading and checking (worker) -----------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("path", "sheet", "country", "encoding"):
            self.action_check()

    def action_check(self) -> None:
        path = Path(self.query_one("#path", Input).value.strip()).expanduser()
        sheet = self.query_one("#sheet", Input).value.strip() or None
        encoding = self.query_one("#encoding", Input).value.strip() or None
        options = {name: self.query_one(f"#{name}", Select).value for name in ("target", "mode", "key")}
        options["country"] = self.query_one("#country", Input).value.strip() or None
        self._busy(True)
        self._plan(path, sheet, encoding, options)

    def _busy(self, busy: bool) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.display = busy
        bar.update(total=None)

    @work(thread=True, exclusive=True, group="import")
    def _plan(self, path: Path, sheet: str | None, encoding: str | None, options: dict[str, Any]) -> None:
        try:
            table = read_table(path, sheet, encoding=encoding)
            plan = plan_import(self.store, table, overrides=self.overrides, remembered=self.use_remembered, **options)
        except (StoreError, ValueError, OSError) as err:
            self.post_message(WorkFailed(str(err)))
            return
        except Exception as err:  # a file no rule foresaw must not take the app down
            self.post_message(WorkFailed(f"{path}: could not be read ({type(err).__name__}: {err})"))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(ImportPlanned(plan))

    def on_work_failed(self, message: WorkFailed) -> None:
        message.stop()
        self._busy(False)
        self.notify(message.reason, severity="error", timeout=10)

    def on_work_progress(self, message: WorkProgress) -> None:
        self.query_one("#progress", ProgressBar).update(progress=message.done, total=message.total)

    def on_import_planned(self, message: ImportPlanned) -> None:
        plan = message.plan
        self._busy(False)
        self.plan = plan
        self._set_step("review")
        mapping = self.query_one("#mapping", DataTable)
        keep = mapping.cursor_row
        mapping.clear()
        for m in plan.mappings:
            how = f"{m.how} {m.confidence:.0%}" if m.how in ("fuzzy", "prefix") else m.how
            mapping.add_row(literal(m.column), m.field or "—", how, key=m.column)
        mapping.move_cursor(row=min(keep, mapping.row_count - 1))
        self._show_rows()
        self.query_one("#rows", RecordTable).focus()

    @property
    def shown_plan(self) -> ImportPlan:
        """The plan on screen (the review and done steps always have one)."""
        assert self.plan is not None, "no plan is shown"
        return self.plan

    def _show_rows(self) -> None:
        self.query_one("#summary", Static).update(plan_summary(self.shown_plan, self.status_filter))
        self.query_one("#rows", RecordTable).show(FrameShown(plan_rows(self.shown_plan, self.status_filter)))

    def on_record_table_moved(self, event: RecordTable.Moved) -> None:
        if self.plan is None or event.row_id is None:
            self.query_one("#row-detail", Static).update("")
            return
        row = self.plan.rows.with_row_index("_pos").filter(pl.col("_index") == event.row_id).row(0, named=True)
        detail = Table.grid(padding=(0, 2))
        detail.add_column(style="dim")
        detail.add_column()
        issues = [i for i in self.plan.issues if i.row == row["_row"]]
        if row["_note"] and row["_note"] not in {i.message for i in issues}:
            # The row's message in full (a duplicate's "email belongs to customer …"): the
            # list's column has room for its start only, at 80 columns for 19 cells.
            detail.add_row(f"row {row['_row']} {row['_status']}", literal(row["_note"]))
        for issue in issues:
            detail.add_row(f"row {issue.row} {issue.severity}", literal(f"{issue.column}: {issue.message}"))
        for name, (old, new) in self.plan.diffs.get(event.row_id, {}).items():
            change = literal(old if old is not None else "∅")
            change.append(" → ")
            change.append_text(literal(new))
            detail.add_row(name, change)
        for whom, score, reasons in self._likely(row["_pos"]):
            label = "likely" + (" (queued)" if row["_queued"] else "")
            detail.add_row(label, literal(f"{whom}{'' if score is None else f' · {score:.3f}'}: {'; '.join(reasons)}"))
        self.query_one("#row-detail", Static).update(detail)

    def _likely(self, pos: int) -> list[tuple[str, float | None, tuple[str, ...]]]:
        """Whom a likely duplicate row is likely (a stored record or an earlier row), the matcher's
        score when it scored the pair, and the reasons."""
        from store.matching import RecordRef

        plan = self.shown_plan
        return [(f"row {plan.rows['_row'][other]}" if table == ROW else self.store.record_name(RecordRef(table, other)), score, reasons)
                for table, other, score, reasons in plan.likely.get(pos, [])]

    # -- review actions ---------------------------------------------------------------
    def action_change_mapping(self) -> None:
        mapping = self.query_one("#mapping", DataTable)
        if self.plan is None or mapping.row_count == 0:
            return
        column = self.plan.mappings[mapping.cursor_row]

        def chosen(field: str | None) -> None:
            if field is not None:
                self.overrides[column.column] = None if field == "-" else field
                self.action_check()
        self.app.push_screen(FieldPicker(column.column, column.field), chosen)

    def action_toggle_remembered(self) -> None:
        self.use_remembered = not self.use_remembered
        self.action_check()

    def _proposed_country(self) -> str | None:
        """The country p reads the phones in: the one they are valid for, or the default
        where the file's own country was read in instead."""
        if self.plan is None:
            return None
        if self.plan.suggestion is not None:
            return self.plan.suggestion.region
        return self.plan.file_region.default if self.plan.file_region else None

    def action_use_country(self) -> None:
        country = self._proposed_country()
        if country is None:
            return
        self.query_one("#country", Input).value = country
        self.action_check()

    def action_status_filter(self) -> None:
        self.status_filter = STATUS_FILTERS[(STATUS_FILTERS.index(self.status_filter) + 1) % len(STATUS_FILTERS)]
        self._show_rows()

    def action_write_errors(self) -> None:
        if self.plan is None:
            return

        plan = self.plan

        def write(path: str | None) -> None:
            if path:
                try:
                    count = plan.write_error_log(Path(path).expanduser(), self.store.files())
                except (OSError, StoreError) as err:
                    self.notify(str(err), severity="error")
                    return
                self.notify(f"Wrote {count} error(s) and warning(s) to {path}")
        default = self.plan.table.path.with_name(self.plan.table.path.stem + "-errors.csv")
        self.app.push_screen(PromptScreen("Save the error log (CSV) to", str(default)), write)

    def action_sample(self) -> None:
        """Write the sample file of the chosen target where the user says; its path goes
        into the file field, to read once it is filled in."""
        target = import_target(str(self.query_one("#target", Select).value))

        def write(path: Path) -> None:
            from importers.templates import write_template

            try:
                write_template(path, target)
            except (OSError, StoreError) as err:
                self.notify(str(err), severity="error")
                return
            self.query_one("#path", Input).value = str(path)
            self.notify(f"Wrote the {target} sample to {path}: fill it in, then enter reads it here")

        def chosen(answer: str | None) -> None:
            if not answer:
                return
            path = Path(answer).expanduser()
            if path.exists():
                self.app.push_screen(ConfirmScreen(Text.assemble("Replace ", literal(path), "?")),
                                     lambda yes: write(path) if yes else None)
            else:
                write(path)
        self.app.push_screen(PromptScreen(f"Write the {target} sample file (.xlsx or .csv) to",
                                          str(Path.cwd() / f"custdesk-{target}.xlsx")), chosen)

    def action_back_step(self) -> None:
        self._set_step("choose")
        self.query_one("#path", Input).focus()

    def action_next_step(self) -> None:
        if self.plan is None:
            return
        if not self.plan.writes():
            self.notify("Nothing to import: no new or changed rows", severity="warning")
            return
        plan = self.plan
        if not plan.blocked:
            self._start_commit(plan)
            return
        counts = plan.counts()
        message = Text(f"{counts['errors']:,} row(s) have errors and will be left out. Import the "
                       f"{counts['created']:,} new and {counts['updated']:,} changed row(s) only?")
        def confirmed(yes: bool | None) -> None:
            if yes:
                self._start_commit(plan)
        self.app.push_screen(ConfirmScreen(message), confirmed)

    def _start_commit(self, plan: ImportPlan) -> None:
        self._busy(True)
        self._commit(plan, self.app)

    @work(thread=True, exclusive=True, group="import")
    def _commit(self, plan: ImportPlan, app: CustdeskApp) -> None:
        # `app` is taken while the screen is shown: a closed screen no longer reaches it.
        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            if worker.is_cancelled:  # the screen was closed: the batch rolls back whole
                raise ImportCancelled()
            self.post_message(WorkProgress(done, total))
        try:
            entry = self.store.apply_batch(plan.batch(), progress=progress)
        except ImportCancelled:
            app.post_message(WorkFailed(f"Import of {plan.table.path.name} cancelled: nothing was imported"))
            return
        except StoreError as err:
            self.post_message(WorkFailed(str(err)))
            return
        except Exception as err:  # the store rolled back; say so instead of crashing
            self.post_message(WorkFailed(f"nothing was imported: {type(err).__name__}: {err}"))
            return
        self.post_message(Imported(entry))

    def on_imported(self, message: Imported) -> None:
        entry = message.entry
        self._busy(False)
        self.entry = entry
        self._set_step("done")
        self.app.after_change()
        done = Text(f"Done. {entry['summary']} (journal #{entry['id']}).  u reverts the whole import.", style="bold green")
        if self.shown_plan.overrides:
            done.append("\nMapping remembered for the next file with these headers (palette: Imports).", style="cyan")
        self.query_one("#summary", Static).update(Group(done, plan_summary(self.shown_plan, self.status_filter)))

    def action_revert(self) -> None:
        if self.entry is None:
            return
        def reverted(_entry: JournalEntry) -> None:
            self.entry = None
            self._set_step("review")
            self.action_check()
        attempt(self.app, self.store.undo, self.entry["id"], success=f"Reverted {self.entry['summary']}", then=reverted)

    def action_close(self) -> None:
        self.app.pop_screen()
