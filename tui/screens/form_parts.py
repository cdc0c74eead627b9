"""What the forms are built of: the fields scrolling in what the terminal leaves, yes/no
switches with their word, radio buttons marked by a glyph, and the foot that keeps the
problems and keys in view."""
from __future__ import annotations

from typing import Any

from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, RadioButton, Static, Switch

SAVE_KEYS = "ctrl+s  save     escape  cancel"
FIELDS_MAX = 32  # rows of a form's fields shown at most (the rest scroll)


class FormFields(VerticalScroll, can_focus=False):
    """A form's fields, scrolled to whichever takes focus. Not a focus stop itself:
    `tab` goes from one field to the next, and what is typed after it lands there."""


def flag_field(label: str, value: bool, switch_id: str) -> Horizontal:
    """A yes/no field: its switch (id `switch_id`) and the word for its state, which a
    one-line switch shows by colour alone (`on_switch_changed` keeps the word)."""
    return Horizontal(Label(label, classes="label"), Switch(value, id=switch_id),
                      Label(_yes_no(value), id=f"{switch_id}-state", classes="state"), classes="field")


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


class MarkedRadioButton(RadioButton):
    """A radio button whose glyph says whether it is the choice: `●` chosen, `○` not.
    Textual's draws the same `●` for both and tells them apart by colour alone, which a
    colour-blind user or a monochrome terminal cannot read."""

    # (Textual reads its class constant through the instance: a property serves)
    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]
        return "●" if self.value else "○"


class FitsFields(ModalScreen[Any]):
    """Mixed into a form whose fields sit in a `FormFields` (class `fields`) between a
    title and a `form_foot`: the fields scroll in what the terminal leaves beside the
    rest, so in 80x24 the problems and the keys stay in view under them."""

    def on_mount(self) -> None:
        self.call_after_refresh(self._fit_fields)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_fields)

    def _fit_fields(self) -> None:
        dialog, fields = self.query_one(".dialog"), self.query_one(".fields")
        around = sum(w.outer_size.height + w.styles.margin.height for w in dialog.children if w is not fields)
        room = self.size.height - dialog.styles.gutter.height - around
        fields.styles.max_height = max(3, min(FIELDS_MAX, room))


class FlagWords:
    """Mixed into a screen holding `flag_field`s: the word beside each switch follows it."""

    def on_switch_changed(self, event: Switch.Changed) -> None:
        screen = event.switch.screen
        screen.query_one(f"#{event.switch.id}-state", Label).update(_yes_no(event.value))


def form_foot(keys: str, *, problems: bool = False) -> Vertical:
    """A dialog's keys (and the problems its check found), kept in view at its bottom
    however tall its fields are (a form in an 80x24 terminal scrolls above them)."""
    return Vertical(*([Static("", id="problems")] if problems else []), Label(keys, classes="hint"), classes="foot")
