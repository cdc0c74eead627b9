"""The import screen's parts: the path box's completion from the disk, the column-to-field
picker, and the signal that the user walked away from a commit."""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.suggester import Suggester
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from importers.mapping import FIELDS

from .base import StoreModal
from .modals import literal


class PathSuggester(Suggester):
    """Completes the path being typed from the files on disk."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        path = Path(value).expanduser()
        folder, stem = (path, "") if value.endswith("/") else (path.parent, path.name)
        try:
            names = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir() if p.name.startswith(stem))
        except OSError:
            return None
        if not names:
            return None
        return value + names[0][len(stem):]


class ImportCancelled(Exception):
    """Raised in the commit's progress when the screen closed: the batch rolls back whole."""


class FieldPicker(StoreModal[str | None]):
    """Which field a column feeds (or none)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, column: str, current: str | None) -> None:
        super().__init__()
        self.column, self.current = column, current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            title = Text("Column ")
            title.append_text(literal(self.column))
            title.append(" feeds:")
            yield Label(title)
            options = [Option("(do not import)", id="-")] + [Option(f, id=f) for f in FIELDS]
            yield OptionList(*options, id="fields")

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        picker.highlighted = (FIELDS.index(self.current) + 1) if self.current in FIELDS else 0
        picker.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
