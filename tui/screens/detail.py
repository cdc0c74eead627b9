"""Record detail: a customer's main information, then one tab per related kind;
and the detail of a prospect with its notes, origin and raw imported row."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Header, Static, TabbedContent, TabPane, Tabs

from store.base.text import printable
from store.domain.signup import SIGN_UP
from store.model import CONTACTS, CONVERSATIONS, CORPORATE, DEPARTMENTS, EXPORTS, RELATED_KINDS, RelatedRecord, display_name, singular
from store.rules.activity import switch_of

from ..flows.activate import activate_source
from ..flows.customer import delete_customer, edit_customer, obfuscate_customer, switch_active
from ..flows.merge import merge
from ..flows.related import add_row, edit_row, set_picture, set_status
from ..flows.undo import undo
from ..verbs import attempt
from ..widgets.footer import SteadyFooter
from ..widgets.history import HistoryTable
from ..widgets.picture import picture_widget
from .answers import answer_lines
from .base import StoreScreen, cursor_key
from .modals import InfoScreen, literal

# Tab id → (title, columns shown); departments and contacts only for corporate customers,
# first (a company's structure), so that at 80 columns the tabs cut off at the right
# are the least used ones (`]` and the tab bar's scrolling reach them).
TABS = {
    DEPARTMENTS: ("Departments", ("name", "headquarters", "email", "phone", "city")),
    CONTACTS: ("Contacts", ("first_name", "last_name", "role", "department", "email", "phone")),
    "orders": ("Orders", ("number", "date", "status", "title", "amount")),
    "invoices": ("Invoices", ("number", "date", "status", "title", "amount")),
    "offers": ("Offers", ("number", "date", "status", "title", "amount")),
    "tickets": ("Tickets", ("number", "date", "status", "title")),
    "tasks": ("Tasks", ("number", "date", "status", "title")),
    "returns": ("Returns", ("number", "date", "status", "title", "amount", "order", "reason")),
    "contracts": ("Contracts", ("number", "date", "status", "title")),
    CONVERSATIONS: ("Conversations", ("at", "channel", "direction", "subject")),
    EXPORTS: ("Export log", ("at", "format", "target", "user")),
}
# The last tab: the customer's timeline (store.history), not a related kind.
HISTORY = "history"
# What `+` creates on each tab.
CREATES = {"orders", "offers", "tickets", "tasks", "contracts", DEPARTMENTS, CONTACTS}
MAIN_FIELDS = (("number", "Number"), ("kind", "Kind"), ("active", "Active"), ("company", "Company"),
               ("first_name", "First name"), ("last_name", "Last name"), ("email", "Email"), ("phone", "Phone"),
               ("mobile", "Mobile"), ("street", "Street"), ("postcode", "Postcode"), ("city", "City"),
               ("country", "Country"), ("vat_id", "VAT id"), ("external_id", "External id"), ("tags", "Tags"),
               ("obfuscate_enabled", "Obfuscate when inactive"), ("notes", "Notes"), ("created_at", "Created"),
               ("updated_at", "Updated"),
               ("deactivated_at", "Deactivated"), ("obfuscated_at", "Obfuscated"))


# The room the left half of a field grid keeps at least: a label of 10, an email of 22.
LEFT_MIN = 34


class FieldGrid:
    """Label/value pairs in two halves side by side: the first down the left (number, names,
    email, phone, street: short labels, long values), the rest down the right (dates,
    yes/no: long labels, short values); values are data, shown literally. Where the room is
    short (80 columns) the right keeps its width and the left's values wrap, an email (which
    has no space) at any character: never cut."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        half = (len(self.pairs) + 1) // 2
        grid = Table.grid(padding=(0, 2))
        grid.add_column()
        grid.add_column(no_wrap=True, max_width=max(options.max_width // 2, options.max_width - 2 - LEFT_MIN))
        grid.add_row(_pairs(self.pairs[:half]), _pairs(self.pairs[half:]))
        yield grid


def _pairs(pairs: list[tuple[str, str]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in pairs:
        grid.add_row(label, literal(value))
    return grid


class DetailScreen(StoreScreen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("e", "edit", "Edit", id="edit"),
        Binding("plus", "add", "New on this tab", id="new-on-this-tab"),
        Binding("E", "edit_row", "Edit row", id="edit-row"),
        Binding("D", "done", "Task done", id="task-done"),
        Binding("s", "set_status", "Set status", id="set-status"),
        Binding("h", "headquarters", "Make headquarters", id="make-headquarters"),
        Binding("i", "row_detail", "Row details", id="row-details"),
        Binding("d", "deactivate", "Deactivate", id="deactivate"),
        Binding("d", "reactivate", "Activate", id="reactivate"),
        Binding("m", "merge", "Merge", id="merge"),
        Binding("delete", "delete", "Delete", id="delete"),
        Binding("o", "obfuscate", "Obfuscate", id="obfuscate"),
        Binding("u", "undo", "Undo", id="undo"),
        Binding("P", "picture", "Picture", id="picture"),
        Binding("right_square_bracket", "tab(1)", "Next tab", show=False, id="next-tab"),
        Binding("left_square_bracket", "tab(-1)", "Previous tab", show=False, id="previous-tab"),
    ]

    def __init__(self, customer_id: int) -> None:
        super().__init__()
        self.customer_id = customer_id
        self.picture_shown: str | None = None  # its name: pictures are named by their content

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="top"):
            yield Static(id="main")
            yield Vertical(id="picture-box")
        with TabbedContent(id="tabs"):
            for key, (title, columns) in TABS.items():
                with TabPane(title, id=f"tab-{key}"):
                    table: DataTable[object] = DataTable(id=f"table-{key}", cursor_type="row", zebra_stripes=True)
                    table.add_columns(*[c.replace("_", " ") for c in columns])
                    yield table
            with TabPane("History", id=f"tab-{HISTORY}"):
                yield HistoryTable(id=f"table-{HISTORY}")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        if not self.store.has_customer(self.customer_id):
            self.app.pop_screen()  # merged away or deleted (here or by someone else)
            return
        customer = self.store.customer(self.customer_id)
        title = Text(f"{customer['number']}  ", style="bold")
        title.append_text(literal(display_name(customer)))
        title.append("  inactive" if not customer["active"] else "", style="bold red")
        main = Table.grid()
        main.add_row(title)
        main.add_row(FieldGrid([(label, self.app.dates.value(key, customer.get(key))) for key, label in MAIN_FIELDS
                                if customer.get(key) not in (None, "", [])]
                               + answer_lines(customer, self.app.dates)))
        self.query_one("#main", Static).update(main)
        picture = customer.get("picture")
        self._show_picture(picture if isinstance(picture, str) else None)
        corporate = customer["kind"] == CORPORATE
        tabs = self.query_one("#tabs", TabbedContent)
        for key, (_title, columns) in TABS.items():
            if key in (DEPARTMENTS, CONTACTS):
                (tabs.show_tab if corporate else tabs.hide_tab)(f"tab-{key}")
            self._fill(key, columns)
        self.query_one(f"#table-{HISTORY}", HistoryTable).show(self.store.history(self.customer_id), self.app.dates)
        self.refresh_bindings()  # `d` is named after what it will do now

    def _fill(self, key: str, columns: tuple[str, ...]) -> None:
        table = self.query_one(f"#table-{key}", DataTable)
        table.clear()
        for row in self._named(key, self.store.children(self.customer_id, key)):
            table.add_row(*[literal(self.app.dates.value(c, row.get(c))) for c in columns], key=str(row["id"]))

    def _named(self, key: str, rows: list[RelatedRecord]) -> Sequence[Mapping[str, object]]:
        """Rows as shown: a contact names its department (it holds the department's id)."""
        if key != CONTACTS:
            return rows
        names = {d["id"]: d["name"] for d in self.store.children(self.customer_id, DEPARTMENTS)}
        return [{**{k: v for k, v in row.items() if k != "department_id"}, "department": names.get(row.get("department_id") or 0)}
                for row in rows]

    def _show_picture(self, name: str | None) -> None:
        if name == self.picture_shown:
            return
        self.picture_shown = name
        found = self.store.picture(self.customer_id) if name else None  # (None: its file is gone)
        box = self.query_one("#picture-box")
        box.remove_children()
        if found is not None:
            box.mount(picture_widget(found[0]))
        box.set_class(found is not None, "has-picture")

    def on_resize(self) -> None:
        # Under 100 columns the fields need the room more than the picture does.
        self.set_class(self.size.width < 100, "narrow")

    def action_picture(self) -> None:
        set_picture(self.app, self.customer_id)

    def action_tab(self, step: int) -> None:
        """The next or previous tab shown, its rows taking the keys (wherever focus was)."""
        bar = self.query_one("#tabs", TabbedContent).query_one(Tabs)
        (bar.action_next_tab if step > 0 else bar.action_previous_tab)()
        self.call_after_refresh(lambda: self.query_one(f"#table-{self.current_tab()}", DataTable).focus())

    def current_tab(self) -> str:
        return self.query_one("#tabs", TabbedContent).active.removeprefix("tab-")

    def current_row_id(self) -> int | None:
        if self.current_tab() == HISTORY:
            return None
        key = cursor_key(self.query_one(f"#table-{self.current_tab()}", DataTable))
        return None if key is None else int(key)

    # Which tabs each row key belongs to: elsewhere it is left out of the footer (which
    # has no room to spare at 80 columns); on its tab, greyed while there is no row.
    ROW_KEYS_TABS = {"done": ("tasks",), "edit_row": (DEPARTMENTS, CONTACTS), "set_status": RELATED_KINDS,
                     "headquarters": (DEPARTMENTS,), "row_detail": tuple(TABS)}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "add":
            return self.current_tab() in CREATES
        if action in self.ROW_KEYS_TABS:
            if self.current_tab() not in self.ROW_KEYS_TABS[action]:
                return False
            return True if self.current_row_id() is not None else None
        if action in ("deactivate", "reactivate") and self.store.has_customer(self.customer_id):
            return action == switch_of([self.store.customer(self.customer_id)["active"]])
        return True

    def on_tabbed_content_tab_activated(self) -> None:
        self.refresh_bindings()

    # -- actions ---------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_edit(self) -> None:
        edit_customer(self.app, self.customer_id)

    def action_deactivate(self) -> None:
        switch_active(self.app, [self.customer_id])

    action_reactivate = action_deactivate  # the store decides the way; the two keys only name it

    def action_merge(self) -> None:
        merge(self.app, self.customer_id)

    def action_delete(self) -> None:
        delete_customer(self.app, self.customer_id)  # the screen closes itself once the customer is gone

    def action_obfuscate(self) -> None:
        obfuscate_customer(self.app, self.customer_id)

    def action_undo(self) -> None:
        undo(self.app, self.customer_id)

    def action_add(self) -> None:
        add_row(self.app, self.customer_id, self.current_tab())

    def action_edit_row(self) -> None:
        row_id = self.current_row_id()
        if row_id is not None:
            edit_row(self.app, self.current_tab(), row_id)

    def action_done(self) -> None:
        row_id = self.current_row_id()
        if row_id is not None:
            attempt(self.app, self.store.complete_task, row_id, success="Task done")

    def action_set_status(self) -> None:
        tab, row_id = self.current_tab(), self.current_row_id()
        if tab in RELATED_KINDS and row_id is not None:
            set_status(self.app, tab, row_id)

    def action_headquarters(self) -> None:
        row_id = self.current_row_id()
        if self.current_tab() == DEPARTMENTS and row_id is not None:
            attempt(self.app, self.store.set_headquarters, row_id, success="Headquarters set")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_row_detail()

    def action_row_detail(self) -> None:
        tab, row_id = self.current_tab(), self.current_row_id()
        if row_id is None:
            return
        row = self._named(tab, [self.store.child(tab, row_id)])[0]
        fields = [(k.replace("_", " ").capitalize(), self.app.dates.value(k, v)) for k, v in row.items()
                  if k not in ("id", "rev", "schema_version", "customer_id") and v not in (None, "", [])]
        self.app.push_screen(InfoScreen(f"{singular(tab).capitalize()} "
                                        f"{row.get('number') or row.get('name') or row_id}", fields))


class SourceDetailScreen(StoreScreen[None]):
    """A prospect: its fields, notes, origin and the raw row it was imported from."""

    BINDINGS = [Binding("escape", "back", "Back", id="back"), Binding("a", "activate", "Activate", id="activate")]

    def __init__(self, source_id: int) -> None:
        super().__init__()
        self.source_id = source_id

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(id="source")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        if not self.store.has_source(self.source_id):
            self.app.pop_screen()
            return
        source = self.store.source(self.source_id)
        body = Table.grid(padding=(1, 0))
        title = Text("Prospect  ", style="bold")
        title.append_text(literal(display_name(source)))
        body.add_row(title)
        labels = dict(MAIN_FIELDS)  # (the customer's labels: "VAT id", not "Vat id")
        fields = [(labels[k], self.app.dates.value(k, source.get(k))) for k in
                  ("company", "first_name", "last_name", "email", "phone", "mobile", "street", "postcode", "city",
                   "country", "vat_id", "external_id", "notes") if source.get(k)]
        body.add_row(FieldGrid(fields))
        origin = source.get("origin") or {}
        where = self._signed_up(origin) if origin.get("profile") == SIGN_UP else self._imported(origin)
        where.append(("Imported", self.app.dates.shown(source.get("imported_at"))))
        body.add_row(FieldGrid([(label, str(value)) for label, value in where if value not in (None, "")]))
        if rows := source.get("raw"):  # (a sign-up or a prospect added by hand came from no file's row)
            raw = Table(title="Raw imported row", title_justify="left", show_header=True, header_style="bold")
            raw.add_column("column", style="dim")
            raw.add_column("value")
            for column, value in rows.items():
                raw.add_row(Text(printable(str(column))), literal(value))
            body.add_row(raw)
        self.query_one("#source", Static).update(body)

    @staticmethod
    def _imported(origin: Mapping[str, object]) -> list[tuple[str, object]]:
        return [("From file", origin.get("file")), ("Sheet", origin.get("sheet")), ("Row", origin.get("row")),
                ("Sync profile", origin.get("profile")), ("Accounting id", origin.get("id")),
                ("In accounting", "archived" if origin.get("archived") else None),
                ("Last export", "no longer in it" if origin.get("removed") else None)]

    def _signed_up(self, origin: Mapping[str, object]) -> list[tuple[str, object]]:
        """A sign-up: when the person agreed, and whether they confirmed the address (double opt-in)."""
        shown = self.app.dates.shown
        confirmed = (shown(origin["confirmed_at"]) if origin.get("confirmed_at")
                     else "unconfirmed: the link in the confirmation mail was not followed yet")
        return [("Came by", "the sign-up page"), ("Page", origin.get("consent_page")),
                ("Consent given", shown(origin.get("consent_at"))), ("Consent wording", origin.get("consent_text")),
                ("Confirmed", confirmed), ("News by email", shown(origin.get("email_marketing_at"))),
                ("Signed up again", shown(origin.get("signed_up_again")))]

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_activate(self) -> None:
        activate_source(self.app, self.source_id)
