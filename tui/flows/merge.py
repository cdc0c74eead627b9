"""Merging two customers: the partner picked (likely duplicates first), the merge screen,
and the merge itself once confirmed."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work

from store.model import CHILD_TABLES, CUSTOMERS, Customer, display_name
from store.rules.merging import Choice, merge_outcome
from store.views.query import Query

from ..screens.modals import ConfirmScreen, literal
from ..screens.pick_customer import PickCustomer
from ..verbs import attempt
from . import GROUP

if TYPE_CHECKING:
    from store.views.duplicates import LikelyCustomer

    from ..app import CustdeskApp


@work(group=GROUP)
async def merge(app: CustdeskApp, keep_id: int | None, other_id: int | None = None) -> None:
    """The merge screen for `keep_id` and `other_id`; without `other_id`, the partner picked first."""
    from ..screens.merge import MergeScreen  # (loaded when a merge first needs it, as every screen past the first)
    if keep_id is None:
        return
    if other_id is None:
        other_id = await app.push_screen_wait(partner_picker(app, keep_id))
        if other_id is None:
            return
    await app.push_screen(MergeScreen(keep_id, other_id))


def partner_picker(app: CustdeskApp, customer_id: int) -> PickCustomer:
    """The merge partner: likely duplicates first (looked for in the picker's worker), any
    customer by search."""
    rows = app.views.rows(CUSTOMERS)

    def search(text: str) -> list[Customer]:
        return [app.store.customer(row["id"]) for row in rows.shown(Query(text=text)).rows(0, 30)]

    def suggest() -> list[LikelyCustomer]:
        from store.views.duplicates import likely_duplicates  # rapidfuzz: loaded when a merge first needs it
        return likely_duplicates(app.store, customer_id)
    return PickCustomer(search, "Merge with which customer? (likely duplicates first)", suggest, exclude=customer_id)



@work(group=GROUP)
async def confirm_merge(app: CustdeskApp, keep_id: int, other_id: int, choices: Mapping[str, Choice]) -> None:
    """The merge screen's `enter`: asks, naming both and what moves; merged, the kept
    customer's detail takes the merge screen's place."""
    from ..screens.detail import DetailScreen
    keep, other = app.store.customer(keep_id), app.store.customer(other_id)
    moving = sum(app.store.related_counts(other_id).get(t, 0) for t in CHILD_TABLES)
    message = Text.assemble(f"Merge {other['number']} ", literal(display_name(other)), f" into {keep['number']} ",
                            literal(display_name(keep)),
                            f"? {moving} related record(s) move over and {other['number']} is removed. u undoes it.")
    for aside in merge_outcome(keep, other, choices)[1]:  # what the merge screen said would be kept, and where
        message.append_text(Text.assemble("\n", literal(aside.line())))
    if await app.push_screen_wait(ConfirmScreen(message)):
        attempt(app, app.store.merge_into, keep_id, other_id, dict(choices),
                success=f"Merged {other['number']} into {keep['number']}; u undoes",
                then=lambda _merged: app.switch_screen(DetailScreen(keep_id)))
