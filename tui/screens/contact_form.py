"""The contact form: a contact's fields and the department of its company it works in."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import RenderableType
from textual.containers import Horizontal
from textual.widgets import Label, Select

from store.model import CONTACT_FIELDS, RelatedRecord

from .modals import ChildForm, literal

NO_DEPARTMENT = "none"  # the choice of no department (a department's id is an int)


class ContactForm(ChildForm):
    """A contact of a corporate customer. Its answer is the typed fields; `department_id`,
    once saved, is the chosen department's id or None (the store checks the department is
    the customer's)."""

    def __init__(self, departments: Sequence[RelatedRecord], values: Mapping[str, Any] | None = None) -> None:
        super().__init__("Contact", CONTACT_FIELDS, values)
        self.departments = departments
        self.department_id: int | None = None

    def on_mount(self) -> None:
        # Below the typed fields, above the keys: mounted rather than composed, so that
        # ChildForm's fields are laid out once, in one place.
        options: list[tuple[RenderableType, int | str]] = [(NO_DEPARTMENT, NO_DEPARTMENT)]
        options += [(literal(d["name"]), d["id"]) for d in self.departments]
        current = next((d["id"] for d in self.departments if d["id"] == self.values.get("department_id")), NO_DEPARTMENT)
        choice: Select[int | str] = Select(options, value=current, allow_blank=False, compact=True,
                                           id="f-department")
        self.query_one(".dialog").mount(Horizontal(Label("Department", classes="label"), choice, classes="field"),
                                        before=self.query_one(".foot"))

    def action_save(self) -> None:
        chosen = self.query_one("#f-department", Select).value
        self.department_id = chosen if isinstance(chosen, int) else None
        super().action_save()


def contact_form(departments: Sequence[RelatedRecord], values: Mapping[str, Any] | None = None) -> ContactForm:
    return ContactForm(departments, values)
