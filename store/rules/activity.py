"""Which way the one (de)activate key goes for a set of customers: the store applies
it (`Store.switch_active`), the app names its key after it."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

Switch = Literal["deactivate", "reactivate"]


def switch_of(actives: Iterable[bool]) -> Switch:
    """Deactivate the active ones if any is active; else reactivate them all."""
    return "deactivate" if any(actives) else "reactivate"
