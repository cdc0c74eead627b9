"""The flows on one customer, shared by the customer table and the detail screen:
edit, delete, obfuscate, (de)activate."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work

from store.model import display_name

from ..screens.modals import ConfirmScreen, CustomerForm, literal
from ..verbs import attempt, working_on
from . import GROUP

if TYPE_CHECKING:
    from ..app import CustdeskApp


@work(group=GROUP)
async def edit_customer(app: CustdeskApp, customer_id: int | None) -> None:
    if customer_id is None:
        return
    current = app.store.customer(customer_id)
    result = await app.push_screen_wait(CustomerForm(app.store, f"Edit {current['number']}", current, stored=current))
    if result:
        kind, data = result
        attempt(app, app.store.edit_customer, customer_id, {**data, "kind": kind},
                expected_rev=current["rev"], success=f"Saved {current['number']}")


@work(group=GROUP)
async def delete_customer(app: CustdeskApp, customer_id: int | None) -> None:
    await _confirmed(app, customer_id, "Delete", " and everything it owns? (u undoes it)", app.store.delete,
                     "Deleted {number}; u undoes")


@work(group=GROUP)
async def obfuscate_customer(app: CustdeskApp, customer_id: int | None) -> None:
    tail = ("? Its personal data is replaced by fakes and its conversations deleted. This cannot be undone.",
            "bold red")
    await _confirmed(app, customer_id, "Obfuscate", tail, app.store.obfuscate, "Obfuscated {number}")


async def _confirmed(app: CustdeskApp, customer_id: int | None, doing: str, tail: str | tuple[str, str],
                     verb: Callable[[int], object], success: str) -> None:
    """Ask "<doing> <number> <name><tail>", then run `verb` on the customer if the answer is yes."""
    if customer_id is None:
        return
    customer = app.store.customer(customer_id)
    message = Text.assemble(f"{doing} {customer['number']} ", literal(display_name(customer)), tail)
    if await app.push_screen_wait(ConfirmScreen(message)):
        attempt(app, verb, customer_id, success=success.format(number=customer["number"]))


def switch_active(app: CustdeskApp, customer_ids: list[int]) -> None:
    """`d`: the store decides which way (see `Store.switch_active`); say what it did."""
    def done(result: tuple[str, int]) -> None:
        verb, count = result
        app.notify(f"{verb.capitalize()}d {count} customer(s); u undoes")
    attempt(app, app.store.switch_active, customer_ids, then=done,
            working=working_on(len(customer_ids), f"Deactivating or activating {len(customer_ids):,} customers"))
