"""The customer table (home) and the source list: what each shows and what its keys do."""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.widgets import ProgressBar
from textual.worker import get_current_worker

from store import StoreError
from store.model import CORPORATE, PRIVATE, SOURCES, Customer, display_name
from store.rules.activity import Switch, switch_of
from store.views.query import CUSTOMER_SORTABLE, SOURCE_SORTABLE, Interrupted

from ..flows.activate import activate_source
from ..flows.customer import delete_customer, edit_customer, obfuscate_customer, switch_active
from ..flows.merge import merge
from ..flows.undo import undo
from ..messages import Exported, WorkFailed, WorkProgress
from ..verbs import attempt, working_on
from ..widgets.table import Column, RecordTable, Row
from .customer_rows import COLUMNS, row_style
from .modals import ConfirmScreen, CustomerForm, CustomerValues, PromptScreen, literal
from .table_screen import TableScreen

KIND_CYCLE = (None, CORPORATE, PRIVATE)
ACTIVE_CYCLE = (None, True, False)


def _known(tags: list[str] | None) -> str:
    return "too many customers to list them" if tags is None else ", ".join(tags[:20]) or "none yet"


def _tags_title(known: str) -> str:
    return f"Show customers tagged (empty: all). Tags: {known}"


class ExportCancelled(Exception):
    """Raised in an export's progress when its worker is cancelled: no file is written."""


class CustomersScreen(TableScreen):
    """Home: every customer."""

    COLUMNS = COLUMNS
    SORTABLE = CUSTOMER_SORTABLE
    BINDINGS = [
        Binding("enter", "open", "Open", id="open"),
        Binding("n", "new", "New", id="new"),
        Binding("e", "edit", "Edit", id="edit"),
        Binding("t", "tag", "Tag", id="tag"),
        Binding("m", "merge", "Merge", id="merge"),
        # One key, named after what it will do to the highlighted (or selected) customers.
        Binding("d", "deactivate", "Deactivate", id="deactivate"),
        Binding("d", "reactivate", "Activate", id="reactivate"),
        Binding("delete", "delete", "Delete", id="delete"),
        Binding("o", "obfuscate", "Obfuscate", id="obfuscate"),
        Binding("u", "undo", "Undo", id="undo"),
        Binding("i", "import", "Import", id="import"),
        Binding("x", "export", "Export", id="export"),
        Binding("p", "prospects", "Prospects", id="prospects"),
        Binding("M", "mail", "Mail", id="mail"),
        Binding("D", "app.duplicates", "Duplicates", show=False, id="duplicates"),
        Binding("f", "kind_filter", "Kind filter", show=False, id="kind-filter"),
        Binding("F", "active_filter", "Active filter", show=False, id="active-filter"),
        Binding("T", "tag_filter", "Tag filter", show=False, id="tag-filter"),
        Binding("escape", "back", "Back", show=False, id="back"),
    ]
    NEEDS_ROW = frozenset({"open", "edit", "tag", "merge", "deactivate", "reactivate", "delete", "obfuscate", "export",
                           "mail"})
    _shown_switch: Switch | None = None  # the way `d` is named in the footer now
    _selection_switch: Switch = "deactivate"  # what `d` does to the selection (see update_filters)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if allowed and action in ("deactivate", "reactivate"):
            return action == self._switch()  # the other one is hidden
        return allowed

    def update_filters(self) -> None:
        super().update_filters()
        # Worked out when the selection or the rows change, not at every cursor move.
        if self.selected:
            self._selection_switch = switch_of(self.held.values())

    def _switch(self) -> Switch:
        """What `d` will do to the targets (`switch_of`, the store's rule)."""
        if self.selected:
            return self._selection_switch
        tables = self.query(RecordTable)
        row = tables.first().current_row() if tables else None
        return switch_of([bool(row["active"])] if row is not None else [True])

    def on_record_table_moved(self, event: RecordTable.Moved) -> None:
        super().on_record_table_moved(event)
        switch = self._switch()
        if switch != self._shown_switch:
            self._shown_switch = switch
            self.refresh_bindings()

    def row_style(self, row: Row) -> str:
        return row_style(row)

    def filter_labels(self) -> list[tuple[str, str]]:
        q = self.query_state
        active = {None: "all", True: "active", False: "inactive"}[q.active]
        return [("kind", q.kind or "all"), ("status", active), ("tag", q.tag or "all"), *super().filter_labels()]

    def action_kind_filter(self) -> None:
        self.query_state.kind = KIND_CYCLE[(KIND_CYCLE.index(self.query_state.kind) + 1) % 3]
        self.redraw(first=True)

    def action_active_filter(self) -> None:
        self.query_state.active = ACTIVE_CYCLE[(ACTIVE_CYCLE.index(self.query_state.active) + 1) % 3]
        self.redraw(first=True)

    def action_tag_filter(self) -> None:
        # A server lists the tags in up to 0.3 s: the prompt is up at once and says them when
        # read (keys typed meanwhile go into it, not to the table as commands).
        remote = self.rows.remote
        prompt = PromptScreen(_tags_title("reading them …" if remote else _known(self.rows.tags())),
                              self.query_state.tag or "")

        def chosen(value: str | None) -> None:
            if value is not None:
                self.query_state.tag = value.strip() or None
                self.redraw(first=True)
        self.app.push_screen(prompt, chosen)
        if remote:
            self._list_tags(prompt)

    @work(thread=True, group="tags")
    def _list_tags(self, prompt: PromptScreen) -> None:
        self.app.call_from_thread(prompt.retitle, _tags_title(self._known_tags()))

    def _known_tags(self, tries: int = 2) -> str:
        try:
            return _known(self.rows.tags())
        except Interrupted:  # (the table read again meanwhile stopped this read)
            return self._known_tags(tries - 1) if tries > 1 else "not listed (the table was busy); type one"
        except StoreError as err:  # (a server gone: said in the prompt; the filter still works)
            return f"not listed ({err})"

    def action_open(self) -> None:
        from .detail import DetailScreen
        if self.table.current_id is not None:
            self.app.push_screen(DetailScreen(self.table.current_id))

    def action_new(self) -> None:
        def save(result: CustomerValues | None) -> None:
            if result:
                kind, data = result
                def added(customer: Customer) -> None:
                    self.redraw(keep=customer["id"])
                    self.notify(f"Added {customer['number']}")
                attempt(self.app, self.store.add_customer, kind, data, then=added)
        self.app.push_screen(CustomerForm(self.store, "New customer"), save)

    def action_edit(self) -> None:
        edit_customer(self.app, self.table.current_id)

    def action_tag(self) -> None:
        ids = self.targets()

        def apply(value: str | None) -> None:
            if not value:
                return
            add = [t.strip() for t in value.split(",") if t.strip() and not t.strip().startswith("-")]
            remove = [t.strip()[1:].strip() for t in value.split(",") if t.strip().startswith("-")]
            attempt(self.app, self.store.set_tags, ids, add=add, remove=remove,
                    then=lambda changed: self.notify(f"Tags changed on {changed} customer(s)"),
                    working=working_on(len(ids), f"Tagging {len(ids):,} customers"))
        self.app.push_screen(PromptScreen(f"Tags for {len(ids)} customer(s): 'vip, newsletter' adds, '-vip' removes"), apply)

    def action_merge(self) -> None:
        others = sorted(self.selected - {self.table.current_id})
        if len(others) == 1:
            merge(self.app, self.table.current_id, others[0])
        else:
            merge(self.app, self.table.current_id)

    def action_deactivate(self) -> None:
        switch_active(self.app, self.targets())

    action_reactivate = action_deactivate  # the store decides the way; the two keys only name it

    def action_delete(self) -> None:
        delete_customer(self.app, self.table.current_id)

    def action_obfuscate(self) -> None:
        obfuscate_customer(self.app, self.table.current_id)

    def action_undo(self) -> None:
        undo(self.app)

    def action_import(self) -> None:
        from .import_review import ImportScreen
        self.app.push_screen(ImportScreen())

    async def action_export(self) -> None:
        ids = await self.all_targets()
        if ids is None:
            return

        def write(path: str | None) -> None:
            if path:
                self._export(ids, Path(path).expanduser())
        self.app.push_screen(PromptScreen(f"Export {len(ids):,} customer(s) to (.csv, .xlsx or .vcf)",
                                          str(Path.cwd() / "customers.csv")), write)

    @work(thread=True, group="export")  # (not exclusive: a second export must not stop the first)
    def _export(self, ids: list[int], path: Path) -> None:
        from exporters.customers import export_customers  # openpyxl: 0.2 s the first screen does not wait for

        worker = get_current_worker()

        def progress(_what: str, done: int, total: int) -> None:
            if worker.is_cancelled:  # (the app closing: the file is not put in place)
                raise ExportCancelled
            self.post_message(WorkProgress(done, total))

        try:
            count = export_customers(self.store, path, ids, progress)
        except ExportCancelled:
            return
        except (StoreError, OSError) as err:
            self.post_message(WorkFailed(str(err)))
            return
        self.post_message(Exported(count, path, len(ids) - count))

    def on_work_progress(self, message: WorkProgress) -> None:
        bar = self.query_one("#work-progress", ProgressBar)
        bar.display = True
        bar.update(total=message.total, progress=message.done)

    def on_work_failed(self, _message: WorkFailed) -> None:  # (the app says why)
        self.query_one("#work-progress", ProgressBar).display = False

    def on_exported(self, message: Exported) -> None:
        self.query_one("#work-progress", ProgressBar).display = False
        gone = f" ({message.gone:,} no longer exist)" if message.gone else ""
        self.notify(f"Exported {message.count:,} customer(s) to {message.target}{gone}")
        if self.app.is_web:  # (custdesk serve: the file goes to the browser as a download too)
            self.app.deliver_binary(message.target)
        self.app.after_change()

    def action_prospects(self) -> None:
        self.app.push_screen(SourcesScreen())

    async def action_mail(self) -> None:
        from .mail import MailScreen, PickTemplate
        ids = await self.all_targets()
        if ids is None:
            return
        templates = self.store.templates()
        if not templates:
            self.notify("No templates yet: ctrl+t opens the templates", severity="warning")
            return
        self.app.push_screen(PickTemplate(templates),
                             lambda name: name and self.app.push_screen(MailScreen(name, ids)))


class SourcesScreen(TableScreen):
    """The source list: prospects from imports and syncs, waiting to be activated."""

    TABLE = SOURCES
    COLUMNS = [Column("name", "Name", 3, flex=True), Column("company", "Company", 3, flex=True),
               Column("email", "Email", 4, flex=True), Column("phone", "Phone", 15, drop=1),
               Column("city", "City", 2, flex=True, drop=3), Column("origin", "Origin", 4, flex=True, drop=2),
               Column("imported", "Imported", 16, drop=4, dated=True)]
    SORTABLE = SOURCE_SORTABLE
    BINDINGS = [
        Binding("enter", "open", "Detail", id="detail"),
        Binding("a", "activate", "Activate", id="activate"),
        Binding("delete", "discard", "Discard", id="discard"),
        Binding("i", "import", "Import", id="import"),
        Binding("y", "app.sync_runs", "Sync runs", id="sync-runs"),
        Binding("u", "undo", "Undo", id="undo"),
        Binding("escape", "back", "Back", id="back"),
    ]
    NEEDS_ROW = frozenset({"open", "activate", "discard"})

    def action_open(self) -> None:
        from .detail import SourceDetailScreen
        if self.table.current_id is not None:
            self.app.push_screen(SourceDetailScreen(self.table.current_id))

    def action_activate(self) -> None:
        activate_source(self.app, self.table.current_id)

    def action_discard(self) -> None:
        ids = self.targets()
        names = ", ".join(display_name(self.store.source(i)) for i in ids[:3]) + (" …" if len(ids) > 3 else "")

        def confirmed(yes: bool | None) -> None:
            if yes:
                attempt(self.app, self.store.discard, ids, success=f"Discarded {len(ids)} prospect(s); u undoes",
                        working=working_on(len(ids), f"Discarding {len(ids):,} prospects"))
        message = Text.assemble(f"Discard {len(ids)} prospect(s): ", literal(names), "?")
        self.app.push_screen(ConfirmScreen(message), confirmed)

    def action_import(self) -> None:
        from .import_review import ImportScreen
        self.app.push_screen(ImportScreen())

    def action_undo(self) -> None:
        undo(self.app)

