"""Running a store verb from the app: the wait for the store's lock on a worker thread,
the verb itself on the UI thread (which alone reads the store's tables), its refusal
shown as a message, its result handed on."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from textual import work
from textual.worker import get_current_worker

from store import StoreBusy, StoreError

from .messages import WaitingForStore, WorkFailed

if TYPE_CHECKING:
    from .app import CustdeskApp

# A verb waiting longer than this for another process's commit says so.
BUSY_NOTICE_SECONDS = 0.5
T = TypeVar("T")


@dataclass
class _VerbCall(Generic[T]):
    verb: Callable[..., T]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    success: str | None
    then: Callable[[T], object] | None
    refused: Callable[[StoreError], None] | None
    gave_up: Callable[[], None] | None = None  # the store stayed busy: the verb never ran


def attempt(app: CustdeskApp, verb: Callable[..., T], *args: Any, success: str | None = None,
            then: Callable[[T], object] | None = None, refused: Callable[[StoreError], None] | None = None,
            **kwargs: Any) -> None:
    """Run a store verb; its refusal becomes a message (or goes to `refused`), its result goes to `then`."""
    _reserve_then_run(app, _VerbCall(verb, args, kwargs, success, then, refused))


async def outcome(app: CustdeskApp, verb: Callable[..., T], *args: Any, success: str | None = None, **kwargs: Any) -> T | None:
    """`attempt` awaited by a flow: the verb's result, or None when it was refused (the
    refusal shown as a message) or the store stayed busy (said so)."""
    settled: asyncio.Future[T | None] = asyncio.get_running_loop().create_future()

    def settle(result: T | None) -> None:
        if not settled.done():
            settled.set_result(result)

    def refused(err: StoreError) -> None:
        show_refusal(app, err)
        settle(None)
    _reserve_then_run(app, _VerbCall(verb, args, kwargs, success, settle, refused, lambda: settle(None)))
    return await settled


def show_refusal(app: CustdeskApp, refusal: StoreError) -> None:
    app.notify(str(refusal), severity="error", timeout=8)


@work(thread=True, group="verbs")
def _reserve_then_run(app: CustdeskApp, call: _VerbCall[Any]) -> None:
    worker = get_current_worker()
    held = ExitStack()
    try:
        try:
            held.enter_context(app.store.reserved(wait=BUSY_NOTICE_SECONDS))
        except StoreBusy:
            app.post_message(WaitingForStore())
            held.enter_context(app.store.reserved())
    except StoreBusy as err:
        app.post_message(WorkFailed(str(err)))
        if call.gave_up is not None:
            app.call_from_thread(call.gave_up)
        return
    with held:
        if not worker.is_cancelled:
            app.call_from_thread(_run_verb, app, call)


def _run_verb(app: CustdeskApp, call: _VerbCall[Any]) -> None:
    try:
        result = call.verb(*call.args, **call.kwargs)
    except StoreError as err:
        if call.refused is not None:
            call.refused(err)
        else:
            show_refusal(app, err)
        return
    app.after_change()
    if call.success:
        app.notify(call.success)
    if call.then is not None:
        call.then(result)
