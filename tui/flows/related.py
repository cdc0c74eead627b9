"""The detail screen's flows on a customer's related records and picture: a new row on a
tab, a department or contact edited, a status set, the picture set or removed."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work

from store.model import CONTACTS, DEPARTMENTS, RELATED_KINDS, singular

from ..screens.modals import ChoiceScreen, PromptScreen, contact_form, department_form
from ..verbs import attempt
from . import GROUP

if TYPE_CHECKING:
    from ..app import CustdeskApp


@work(group=GROUP)
async def add_row(app: CustdeskApp, customer_id: int, tab: str) -> None:
    """`+`: a department or contact by its form, any other kind by its title."""
    store = app.store
    if tab in (DEPARTMENTS, CONTACTS):
        form, verb, what = ((department_form(), store.add_department, "Department") if tab == DEPARTMENTS
                            else (contact_form(), store.add_contact, "Contact"))
        values = await app.push_screen_wait(form)
        if values:
            attempt(app, verb, customer_id, values, success=f"{what} added")
    elif tab in RELATED_KINDS:
        title = await app.push_screen_wait(PromptScreen(f"Title of the new {singular(tab)}"))
        if title is not None:
            attempt(app, store.add_related, tab, customer_id, {"title": title}, success=f"New {singular(tab)} created")


@work(group=GROUP)
async def edit_row(app: CustdeskApp, tab: str, row_id: int) -> None:
    """`E`: the department or contact under the cursor, by its form."""
    store = app.store
    current = store.child(tab, row_id)
    verb: Callable[[int, Mapping[str, Any]], object]
    if tab == DEPARTMENTS:
        form, verb, what = department_form(current), store.edit_department, "Department"
    elif tab == CONTACTS:
        form, verb, what = contact_form(current), store.edit_contact, "Contact"
    else:
        return
    values = await app.push_screen_wait(form)
    if values:
        attempt(app, verb, row_id, values, success=f"{what} saved")


@work(group=GROUP)
async def set_status(app: CustdeskApp, tab: str, row_id: int) -> None:
    """`s`: the status of the row under the cursor, from its kind's statuses."""
    current = app.store.child(tab, row_id)
    status = await app.push_screen_wait(ChoiceScreen(f"Status of {current['number']}", RELATED_KINDS[tab][2],
                                                     current.get("status")))
    if status:
        attempt(app, app.store.set_status, tab, row_id, status, success=f"{current['number']} is now {status}")


@work(group=GROUP)
async def set_picture(app: CustdeskApp, customer_id: int) -> None:
    """`P`: the picture from a file the user names; left empty, the picture removed."""
    customer = app.store.customer(customer_id)
    answer = await app.push_screen_wait(PromptScreen(f"Picture of {customer['number']}: a PNG, JPEG or WebP file"
                                                     + (" (empty: remove it)" if customer.get("picture") else ""),
                                                     str(Path.cwd()) + "/"))
    if answer is None:
        return
    if answer.strip():
        attempt(app, app.store.set_picture, customer_id, Path(answer.strip()).expanduser(), success="Picture set")
    elif customer.get("picture"):
        attempt(app, app.store.remove_picture, customer_id, success="Picture removed")
