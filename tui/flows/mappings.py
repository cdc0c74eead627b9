"""`f` on the Imports screen: forget a remembered mapping, once the user said yes to its name."""
from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work

from store.domain.import_runs import RememberedMapping

from ..screens.modals import ConfirmScreen, literal
from ..verbs import attempt
from . import GROUP

if TYPE_CHECKING:
    from ..app import CustdeskApp


@work(group=GROUP)
async def forget_mapping(app: CustdeskApp, mapping: RememberedMapping) -> None:
    message = Text.assemble("Forget the ", literal(mapping.message()), f" for files imported into {mapping.target}? "
                            "The next file of these headers is mapped afresh.")
    if await app.push_screen_wait(ConfirmScreen(message)):
        attempt(app, app.store.forget_mapping, mapping.id, success=f"Forgot the {mapping.message()}")
