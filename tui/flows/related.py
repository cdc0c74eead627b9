"""The detail screen's flows on a customer's related records and picture: a new row on a
tab, a department or contact edited, a status set, the picture set or removed."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

from store.model import CONTACTS, DEPARTMENTS, RELATED_KINDS, singular

from ..screens.contact_form import contact_form
from ..screens.modals import ChoiceScreen, PromptScreen, department_form
from ..verbs import attempt
from . import GROUP

if TYPE_CHECKING:
    from ..app import CustdeskApp


@work(group=GROUP)
async def add_row(app: CustdeskApp, customer_id: int, tab: str) -> None:
    """`+`: a department or contact by its form, any other kind by its title."""
    store = app.store
    if tab == DEPARTMENTS:
        values = await app.push_screen_wait(department_form())
        if values:
            attempt(app, store.add_department, customer_id, values, success="Department added")
    elif tab == CONTACTS:
        form = contact_form(store.children(customer_id, DEPARTMENTS))
        if values := await app.push_screen_wait(form):
            attempt(app, store.add_contact, customer_id, values, department_id=form.department_id, success="Contact added")
    elif tab in RELATED_KINDS:
        title = await app.push_screen_wait(PromptScreen(f"Title of the new {singular(tab)}"))
        if title is not None:
            attempt(app, store.add_related, tab, customer_id, {"title": title}, success=f"New {singular(tab)} created")


@work(group=GROUP)
async def edit_row(app: CustdeskApp, tab: str, row_id: int) -> None:
    """`E`: the department or contact under the cursor, by its form."""
    store = app.store
    current = store.child(tab, row_id)
    if tab == DEPARTMENTS:
        if values := await app.push_screen_wait(department_form(current)):
            attempt(app, store.edit_department, row_id, values, success="Department saved")
    elif tab == CONTACTS:
        form = contact_form(store.children(current["customer_id"], DEPARTMENTS), current)
        if values := await app.push_screen_wait(form):
            attempt(app, store.edit_contact, row_id, {**values, "department_id": form.department_id}, success="Contact saved")


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
