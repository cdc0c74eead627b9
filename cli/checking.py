"""A store opened without its checksums summed is checked on a thread meanwhile.

Summing a large store's tables (`Store.verify`) takes ~0.1-0.4 s at 100,000 customers,
all of it in zlib and in reads, which leave the interpreter to the command's own work.
A command that plans against a few records (an import, a sync) opens the store with
`verify=False` and starts the check here; before anything is written the engine asks
for the verdict (`Database._write`: done by then, or waited for), so a damaged store is
never written to. A run that writes nothing (a dry run, a file synced already) reads no
more of the store than it needs, each table checked when its text is first read.
"""
from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

from cli.common import open_store
from store.base.errors import StoreError

if TYPE_CHECKING:
    import click

    from store import Store


def check_meanwhile(store: Store) -> None:
    """Start checking the store's large tables on a thread; the verdict is `store.verify()`'s."""
    def check() -> None:
        with contextlib.suppress(StoreError, OSError):  # (said by the caller's own `verify`)
            store.verify()

    threading.Thread(target=check, name="custdesk-verify", daemon=True).start()


def open_for_planning(ctx: click.Context, *, dry_run: bool) -> Store:
    """The store of --db opened without summing its tables first, summed meanwhile on a
    thread for a run that may write (not for a dry run)."""
    store = open_store(ctx, verify=False)
    if not dry_run:
        check_meanwhile(store)
    return store
