"""Picking a customer: by typing, or from the likely duplicates the matcher suggests."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from store import StoreError
from store.base.text import printable
from store.model import display_name

from ..messages import WorkFailed

if TYPE_CHECKING:  # (store.views.duplicates loads the matcher: imported where a merge first needs it)
    from store.views.duplicates import LikelyCustomer


class Suggested(Message):
    """A picker's suggestions, as its worker found them."""

    def __init__(self, found: list[LikelyCustomer]) -> None:
        super().__init__()
        self.found = found


class PickCustomer(ModalScreen[int | None]):
    """Find a customer by typing; while nothing is typed, the customers `suggest` names (the
    likely duplicates) are listed, surest first, with the score and the reasons. `suggest`
    runs in a worker (its first call in a process builds the matcher's index: seconds in a
    big store): the search works at once, and what was typed is not overwritten."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, search: Callable[[str], Sequence[Mapping[str, Any]]], title: str,
                 suggest: Callable[[], list[LikelyCustomer]], exclude: int | None = None) -> None:
        super().__init__()
        self.search, self.title_text, self.suggest, self.exclude = search, title, suggest, exclude
        self.suggestions: list[LikelyCustomer] | None = None  # None: still looking

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(self.title_text, classes="title", markup=False)
            yield Input(placeholder="type a name, number, email or phone", id="pick-query")
            yield OptionList(id="pick-list")

    def on_mount(self) -> None:
        self._show_suggestions()
        self._look_for_suggestions()

    @work(thread=True, exclusive=True, group="suggest")
    def _look_for_suggestions(self) -> None:
        try:
            found = self.suggest()
        except StoreError as err:
            self.post_message(WorkFailed(str(err)))
            return
        except Exception as err:  # a record no rule foresaw must not take the app down: the search still works
            self.post_message(WorkFailed(f"looking for likely duplicates failed ({type(err).__name__}: {err})"))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(Suggested(found))

    def on_suggested(self, message: Suggested) -> None:
        self.suggestions = [s for s in message.found if s.customer["id"] != self.exclude]
        if not self.query_one("#pick-query", Input).value.strip():
            self._show_suggestions()

    def on_work_failed(self, message: WorkFailed) -> None:
        self.suggestions = []  # (the app says why)
        if not self.query_one("#pick-query", Input).value.strip():
            self._show_suggestions()

    def _show_suggestions(self) -> None:
        options = self.query_one("#pick-list", OptionList)
        options.clear_options()
        if not self.suggestions:
            note = "looking for likely duplicates …" if self.suggestions is None else "no likely duplicates: type to search"
            options.add_option(Option(Text(note, style="dim italic"), disabled=True))
            return
        for likely in self.suggestions:
            label = _customer_line(likely.customer)
            if likely.score is not None:
                label.append(f"  {likely.score:.0%}", style="bold")
            label.append(f"  {printable(', '.join(likely.reasons))}", style="dim")
            options.add_option(Option(label, id=str(likely.customer["id"])))

    def _show_found(self, customers: Iterable[Mapping[str, Any]]) -> None:
        options = self.query_one("#pick-list", OptionList)
        options.clear_options()
        for c in customers:
            if c["id"] == self.exclude:
                continue
            label = _customer_line(c)
            label.append(f"  {printable(c.get('email') or '')}  {printable(c.get('phone') or '')}", style="dim")
            options.add_option(Option(label, id=str(c["id"])))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.value.strip():
            self._show_found(self.search(event.value))
        else:
            self._show_suggestions()

    def on_input_submitted(self) -> None:
        options = self.query_one("#pick-list", OptionList)
        if any(not option.disabled for option in options.options):
            options.highlighted = options.highlighted or 0
            options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.dismiss(int(event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _customer_line(customer: Mapping[str, Any]) -> Text:
    """A customer's number and name, as a picker lists them (data: never markup)."""
    label = Text(f"{customer['number']}  ")
    label.append(printable(display_name(customer)))
    return label
