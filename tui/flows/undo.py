"""`u`: undo a journal entry, once the user said yes to its name."""
from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work

from store.model import JournalEntry

from ..screens.modals import ConfirmScreen, literal
from ..verbs import attempt, working_on
from . import GROUP

if TYPE_CHECKING:
    from ..app import CustdeskApp


@work(group=GROUP)
async def undo(app: CustdeskApp, customer_id: int | None = None) -> None:
    """Undo the store's last undoable action, or (from a customer's detail) the last one
    that changed this customer; asks first, naming it, and undoes exactly that one."""
    entry = app.store.next_undo(customer_id)
    if entry is None:
        app.notify("Nothing to undo" + (" for this customer" if customer_id is not None else ""), severity="warning")
        return
    await _confirm_then_undo(app, entry)


@work(group=GROUP)
async def undo_entry(app: CustdeskApp, entry: JournalEntry) -> None:
    """Undo this journal entry (a sync run's), once the user said yes to its name."""
    await _confirm_then_undo(app, entry)


async def _confirm_then_undo(app: CustdeskApp, entry: JournalEntry) -> None:
    message = Text.assemble("Undo ", literal(entry["summary"]), f" ({app.dates.shown(entry['at'])}, {entry['user']})?")
    if await app.push_screen_wait(ConfirmScreen(message)):
        attempt(app, app.store.undo, entry["id"], success=f"Undone: {entry['summary']}",
                working=working_on(_touched(entry), "Undoing"))


def _touched(entry: JournalEntry) -> int:
    """How many records the entry changed (its counts by table)."""
    touched = entry.get("touched")
    return sum(touched.values()) if isinstance(touched, dict) else 0
