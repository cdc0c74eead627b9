"""`a` on a prospect: one that likely is a customer already is offered as a merge into
it; else (or on `n`) the customer form, pre-filled, activates it."""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.worker import WorkerCancelled, WorkerFailed

from store import StoreError
from store.domain.sources import activation_kind
from store.model import Customer, Prospect, display_name

from ..messages import WorkFailed
from ..screens.modals import ConfirmScreen, CustomerForm, literal
from ..verbs import attempt
from . import GROUP

if TYPE_CHECKING:
    from store import Store
    from store.views.duplicates import LikelyCustomer

    from ..app import CustdeskApp

# The look says so only when it takes a while (the matcher's first in a big store).
LOOKING_NOTICE_SECONDS = 0.5


@work(group=GROUP)
async def activate_source(app: CustdeskApp, source_id: int | None) -> None:
    if source_id is None:
        return
    notice = app.set_timer(LOOKING_NOTICE_SECONDS, lambda: app.notify("Looking for the customers this prospect may already be …"))
    # On a thread (the matcher's first look in a process builds its index: seconds in a big store); a
    # second `a` meanwhile takes over from the first.
    look = app.run_worker(partial(_look, app.store, source_id), name="look before activating", group="activate",
                          thread=True, exclusive=True, exit_on_error=False)
    try:
        source, likely = await look.wait()
    except WorkerCancelled:
        return
    except WorkerFailed as failed:  # a record no rule foresaw must not take the app down either
        err = failed.error
        app.post_message(WorkFailed(str(err) if isinstance(err, StoreError) else
                                    f"looking for the customers this prospect likely is failed ({type(err).__name__}: {err})"))
        return
    finally:
        notice.stop()
    if likely:
        customer = likely[0].customer
        if await app.push_screen_wait(ConfirmScreen(_likely_message(likely[0]))):
            attempt(app, app.store.merge_source_into, source_id, customer["id"], success=f"Merged into {customer['number']}; u undoes")
            return
    result = await app.push_screen_wait(CustomerForm(app.store, "Activate prospect: check and save", source,
                                                     activation_kind(source)))
    if result:
        kind, data = result

        def activated(customer: Customer) -> None:
            app.notify(f"{display_name(customer)} is customer {customer['number']} now")
        attempt(app, app.store.activate, source_id, kind, data, then=activated)


def _look(store: Store, source_id: int) -> tuple[Prospect, list[LikelyCustomer]]:
    return store.source(source_id), store.customers_like_source(source_id)


def _likely_message(likely: LikelyCustomer) -> Text:
    customer, why = likely.customer, ", ".join(likely.reasons)
    return Text.assemble("This prospect is likely customer ", f"{customer['number']} ",
                         literal(display_name(customer)), literal(f" ({why})" if why else ""),
                         ". Merge it into that customer instead? (n activates it as a new customer)")
