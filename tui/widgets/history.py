"""A customer's History tab: its timeline, newest first, one row per field changed."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from store.base.text import printable
from store.domain.history import Event, field_named

from ..dates import Dates

# The change before the entry's summary: at 80 columns a long summary is cut, not the change.
COLUMNS = ("when", "who", "field", "change", "entry")


def _cell(value: object) -> Text:
    return Text(printable("" if value is None else str(value)))


class HistoryTable(DataTable[Text]):
    """The events of `store.history`, each entry's first row naming it, the others only its changes."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.add_columns(*COLUMNS)

    def show(self, events: list[Event], dates: Dates) -> None:
        self.clear()
        for event in reversed(events):
            head = [_cell(dates.shown(event["at"])), _cell(event["user"])]
            summary = _cell(f"#{event['entry']} {event['summary']}")
            changes = event["changes"] or [None]
            for n, change in enumerate(changes):
                cells = head if n == 0 else [Text(""), Text("")]
                if change is None:
                    middle = [Text(""), Text(event["what"], style="dim")]
                else:
                    middle = [_cell(field_named(change)),
                              _cell(dates.change(change["field"], change["old"], change["new"], change["hidden"]))]
                self.add_row(*cells, *middle, summary if n == 0 else Text(""), key=f"{event['entry']}:{n}")
