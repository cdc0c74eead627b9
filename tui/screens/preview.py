"""The customer table's first page, shown while the store loads behind it.

`store.views.page` gives the first rows of the table (as the last session left them
beside a store file; read from a server at every start); this screen shows them as the
customer table will (same columns, styles, search box and filter bar) until the app
has loaded the store and put the real table in its place. It handles no key: the app
holds those typed meanwhile for the table (`CustdeskApp.on_event`).
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Header, Input, Static

from store.views.page import Page

from ..widgets.footer import SteadyFooter
from ..widgets.table import RecordTable
from .customer_rows import COLUMNS, SEARCH_PLACEHOLDER, UNFILTERED, filter_bar, row_style


class PreviewScreen(Screen[None]):
    def __init__(self, page: Page) -> None:
        super().__init__()
        self.page = page

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder=SEARCH_PLACEHOLDER, id="search")
        total = self.page["counts"].get("customers", len(self.page["rows"]))
        yield Static(filter_bar(UNFILTERED, "", total, 0, total), id="filters")
        yield RecordTable(COLUMNS, row_style=row_style, id="table")
        yield SteadyFooter()

    def on_mount(self) -> None:
        table = self.query_one(RecordTable)
        table.show_page(self.page["rows"])
        table.focus()
