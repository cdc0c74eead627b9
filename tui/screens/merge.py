"""Merge: two customers side by side, a choice per field, what will move."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import Header, Static

from store.base.text import printable
from store.rules.merging import MERGE_FIELDS, Choice, choices_for, default_choices, merge_outcome

from ..flows.merge import confirm_merge
from ..widgets.footer import SteadyFooter
from .base import StoreScreen
from .modals import literal

FIELDS = tuple(f for f in MERGE_FIELDS if f != "obfuscate_enabled")


class MergeScreen(StoreScreen[None]):
    """Keep the left customer; for each field take its value or the right one's."""

    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False, id="up"),
        Binding("down,j", "move(1)", "Down", show=False, id="down"),
        Binding("space,left,right,h,l", "flip", "Flip field", id="flip-field"),
        Binding("w", "swap", "Keep the other", id="keep-the-other"),
        Binding("enter", "merge", "Merge", id="merge"),
        Binding("escape", "back", "Cancel", id="cancel"),
    ]
    row = reactive(0)

    def __init__(self, keep_id: int, other_id: int) -> None:
        super().__init__()
        self.keep_id, self.other_id = keep_id, other_id
        self.choices: dict[str, Choice] = {}


    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="merge")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self._default_choices()
        self.redraw()

    def _default_choices(self) -> None:
        keep, other = self.store.customer(self.keep_id), self.store.customer(self.other_id)
        self.choices = {f: choice for f, choice in default_choices(keep, other).items() if f in FIELDS}

    def watch_row(self) -> None:
        if self.is_mounted:
            self.redraw()

    def redraw(self) -> None:
        if not (self.store.has_customer(self.keep_id) and self.store.has_customer(self.other_id)):
            return  # merged (or deleted by someone else): the screen is on its way out
        keep, other = self.store.customer(self.keep_id), self.store.customer(self.other_id)
        table = Table(expand=True, header_style="bold")
        table.add_column("field", style="dim", no_wrap=True)
        table.add_column(Text(f"keep {keep['number']}"))
        table.add_column(Text(f"merge in {other['number']} (removed)"))
        for index, name in enumerate(FIELDS):
            left, right = (literal(self.app.dates.value(name, side.get(name))) for side in (keep, other))
            for side, cell in (("keep", left), ("other", right)):
                if self.choices[name] in (side, "both"):
                    cell.stylize("bold green")
                    cell.append(" ✓", style="green")
            table.add_row(Text(name.replace("_", " "), style="reverse" if index == self.row else ""), left, right)
        counts = self.store.related_counts(self.other_id)
        moving = ", ".join(f"{n} {t}" for t, n in counts.items() if n) or "nothing"
        # The email and phone not chosen, and where they go: said in the blank line under the table.
        asides = merge_outcome(keep, other, self.choices)[1]
        summary = Text(f"{'' if asides else chr(10)}Moves to {keep['number']}: {moving}.  ", style="bold")
        summary.append("space flips the field under the cursor; w keeps the other customer instead; enter merges.", style="dim")
        body = Table.grid()
        body.add_row(table)
        for aside in asides:
            body.add_row(Text(printable(aside.line()), style="bold yellow"))
        body.add_row(summary)
        self.query_one("#merge", Static).update(body)

    def action_move(self, step: int) -> None:
        self.row = max(0, min(len(FIELDS) - 1, self.row + step))

    def action_flip(self) -> None:
        name = FIELDS[self.row]
        cycle = choices_for(name)
        self.choices[name] = cycle[(cycle.index(self.choices[name]) + 1) % len(cycle)]
        self.redraw()

    def action_swap(self) -> None:
        self.keep_id, self.other_id = self.other_id, self.keep_id
        self._default_choices()
        self.redraw()

    def action_merge(self) -> None:
        confirm_merge(self.app, self.keep_id, self.other_id, self.choices)

    def action_back(self) -> None:
        self.app.pop_screen()
