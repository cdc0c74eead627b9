"""The base of custdesk's screens: the app and its store, typed; the store's changes
arrive as a `StoreChanged` message, which redraws the screen."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from textual import getters
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable

from store import Store
from tui.memory import collect_after_paint
from tui.messages import StoreChanged

if TYPE_CHECKING:
    from tui.app import CustdeskApp

ResultType = TypeVar("ResultType")


class AppScreen(Screen[ResultType]):
    """A screen of the app, with the app and the store typed."""

    if TYPE_CHECKING:  # Textual's typed `app` getter; at run time the inherited property serves
        app = getters.app(CustdeskApp)

    @property
    def store(self) -> Store:
        return self.app.store

    def on_unmount(self) -> None:
        # Closed: its widgets are garbage in cycles, collected once the screen below is painted.
        collect_after_paint(self.app, self)


class StoreScreen(AppScreen[ResultType]):
    """A full screen showing store data: redrawn whenever the store changes."""

    _missed_changes = False

    def on_store_changed(self, _message: StoreChanged) -> None:
        # A screen out of view (under another full screen) redraws once it is back, not at
        # every change meanwhile: at 100k customers a table redraw is tens of milliseconds.
        if self.app.shows(self):
            self.redraw()
        else:
            self._missed_changes = True

    def on_screen_resume(self) -> None:
        if self._missed_changes:
            self._missed_changes = False
            self.redraw()

    def redraw(self) -> None:
        """Show the store as it is now (each screen says how)."""
        raise NotImplementedError


class StoreModal(ModalScreen[ResultType], AppScreen[ResultType]):
    """A dialog over a screen; it may read the store, and leaves redrawing to the screen below.
    ModalScreen first: Textual's CSS follows the first base only, and its modal rules
    (the screen below dimmed, the dialog centred in app.tcss) are ModalScreen's."""


def cursor_key(table: DataTable[Any]) -> str | None:
    """The key of the row under the table's cursor (None: the table is empty)."""
    if table.row_count == 0:
        return None
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
