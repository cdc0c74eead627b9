"""A store opened without its checksums summed is checked on a thread meanwhile.

Summing a large store's tables (`Store.verify`) takes ~0.1-0.4 s at 100,000 customers,
all of it in zlib and in reads, which leave the interpreter to the command's own work.
A command that plans against a few records (an import, a sync) opens the store with
`verify=False`, starts the check here, and asks for its verdict (`Store.verify` again:
done by then, or waited for) before it writes or says anything; the engine checks again
before any write. A damaged store is thus refused as by a checked open.
"""
from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

from store.base.errors import StoreError

if TYPE_CHECKING:
    from store import Store


def check_meanwhile(store: Store) -> None:
    """Start checking the store's large tables on a thread; the verdict is `store.verify()`'s."""
    def check() -> None:
        with contextlib.suppress(StoreError, OSError):  # (said by the caller's own `verify`)
            store.verify()

    threading.Thread(target=check, name="custdesk-verify", daemon=True).start()
