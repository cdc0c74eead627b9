"""Erasure requests (`E`, or the palette): what customers and prospects asked through their
self-service link to have erased, oldest first, and staff's answer to each: a customer is
obfuscated (refused, saying why, while orders, offers or tickets are open), a prospect
erased (deleted, and purged from the journal). A request shows as done once its record
is (the store tells it so)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from store.base.errors import NotFound
from store.model import CUSTOMERS, display_name

from ..flows.customer import obfuscate_customer
from ..verbs import attempt
from ..widgets.footer import SteadyFooter
from .base import StoreScreen, cursor_key
from .modals import ConfirmScreen, literal

COLUMNS = ("asked", "who", "record", "state")


class ErasureRequestsScreen(StoreScreen[None]):
    """The self-service erasure requests (see the module's docstring)."""

    BINDINGS = [Binding("enter", "open", "Open record", id="open-record"),
                Binding("o", "erase", "Erase", id="erase"),
                Binding("escape", "back", "Back", id="back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="requests", cursor_type="row", zebra_stripes=True)
        yield Static(id="requests-note")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one("#requests", DataTable).add_columns(*COLUMNS)
        self.redraw()

    def redraw(self) -> None:
        table = self.query_one("#requests", DataTable)
        cursor = table.cursor_row
        table.clear()
        self.requests = {str(n): r for n, r in enumerate(self.store.erasure_requests())}
        for key, request in self.requests.items():
            state = Text("done", style="dim") if request["done"] else Text("waiting", style="bold")
            table.add_row(self.app.dates.shown(request["at"]), literal(self._who(request)),
                          "customer" if request["table"] == CUSTOMERS else "prospect", state, key=key)
        table.move_cursor(row=min(cursor, max(table.row_count - 1, 0)))
        waiting = sum(not r["done"] for r in self.requests.values())
        self.query_one("#requests-note", Static).update(
            "Nobody has asked to be erased." if not self.requests else
            f"{waiting} waiting. o erases the highlighted one: a customer is obfuscated, a prospect deleted and purged.")
        table.focus()

    def _who(self, request: dict[str, Any]) -> str:
        record = self._record(request)
        return request["label"] if record is None else f"{request['label']}  {display_name(record)}"

    def _record(self, request: dict[str, Any]) -> Mapping[str, Any] | None:
        try:
            return self.store.record(request["table"], request["id"])
        except NotFound:
            return None

    def current(self) -> dict[str, Any] | None:
        key = cursor_key(self.query_one("#requests", DataTable))
        return None if key is None else self.requests[key]

    def on_data_table_row_highlighted(self) -> None:
        self.refresh_bindings()

    def on_data_table_row_selected(self) -> None:
        self.action_open()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open", "erase"):
            request = self.current() if self.is_mounted else None
            if request is None or self._record(request) is None:
                return None
            return True if action == "open" else (None if request["done"] else True)
        return True

    def action_open(self) -> None:
        from .detail import DetailScreen, SourceDetailScreen

        request = self.current()
        if request is None or self._record(request) is None:
            return
        self.app.push_screen(DetailScreen(request["id"]) if request["table"] == CUSTOMERS
                             else SourceDetailScreen(request["id"]))

    def action_erase(self) -> None:
        request = self.current()
        if request is None or request["done"]:
            return
        if request["table"] == CUSTOMERS:
            obfuscate_customer(self.app, request["id"])
            return
        source_id = request["id"]

        def confirmed(yes: bool | None) -> None:
            if yes:
                attempt(self.app, self.store.erase_prospect, source_id, success=f"Erased {request['label']}")
        message = Text.assemble("Erase ", literal(self._who(request)), (
            " as they asked? The prospect is deleted and what the journal kept of it purged. This cannot be undone.",
            "bold red"))
        self.app.push_screen(ConfirmScreen(message), confirmed)

    def action_back(self) -> None:
        self.app.pop_screen()
