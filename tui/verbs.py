"""Running a store verb from the app: the wait for the store's lock on a worker thread,
the verb itself on the UI thread (which alone reads the store's tables), its refusal
shown as a message, its result handed on. A verb over many records (`WORKING_FROM`) runs
on that worker instead, the screen drawn meanwhile with what it does (`WorkingScreen`): the
keys typed from its own on wait for its end, the app catches up with no other session and
tells its screens of no change until then (`CustdeskApp.hold_keys`); the workers already
under way (a page read from a server, an export) go on."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from textual import work
from textual.worker import get_current_worker

from store import StoreBusy, StoreError

from .messages import WaitingForStore, WorkFailed
from .screens.modals import WorkingScreen

if TYPE_CHECKING:
    from .app import CustdeskApp

# A verb waiting longer than this for another process's commit says so.
BUSY_NOTICE_SECONDS = 0.5
# A verb over more records than this runs off the UI thread, saying what it does meanwhile:
# at 10,000,000 customers on a server 55,000 deactivated take 20 s, the screen held before.
WORKING_FROM = 1_000
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
    working: str | None = None  # said while the verb runs, off the UI thread (`working_on`)


def working_on(count: int, doing: str) -> str | None:
    """What a verb over `count` records says before it starts ("Deactivating 55,742
    customers …"), when they are many (`WORKING_FROM`); else nothing."""
    return f"{doing} …" if count > WORKING_FROM else None


def attempt(app: CustdeskApp, verb: Callable[..., T], *args: Any, success: str | None = None,
            then: Callable[[T], object] | None = None, refused: Callable[[StoreError], None] | None = None,
            working: str | None = None, **kwargs: Any) -> None:
    """Run a store verb; its refusal becomes a message (or goes to `refused`), its result goes
    to `then`; with `working`, it runs off the UI thread, which shows that meanwhile, and the
    keys typed from now on wait for its end (call it on the UI thread)."""
    _start(app, _VerbCall(verb, args, kwargs, success, then, refused, working=working))


async def outcome(app: CustdeskApp, verb: Callable[..., T], *args: Any, success: str | None = None,
                  working: str | None = None, **kwargs: Any) -> T | None:
    """`attempt` awaited by a flow: the verb's result, or None when it was refused (the
    refusal shown as a message) or the store stayed busy (said so)."""
    settled: asyncio.Future[T | None] = asyncio.get_running_loop().create_future()

    def settle(result: T | None) -> None:
        if not settled.done():
            settled.set_result(result)

    def refused(err: StoreError) -> None:
        show_refusal(app, err)
        settle(None)
    _start(app, _VerbCall(verb, args, kwargs, success, settle, refused, lambda: settle(None), working=working))
    return await settled


def _start(app: CustdeskApp, call: _VerbCall[Any]) -> None:
    """The verb's worker started; for a verb over many, the keys held from now on (on the UI thread)."""
    if call.working is not None:
        app.hold_keys()
    try:
        _reserve_then_run(app, call)
    except BaseException:
        if call.working is not None:
            app.hand_over_keys()
        raise


def show_refusal(app: CustdeskApp, refusal: StoreError) -> None:
    app.notify(str(refusal), severity="error", timeout=8)


@work(thread=True, group="verbs")
def _reserve_then_run(app: CustdeskApp, call: _VerbCall[Any]) -> None:
    # (one verb at a time: the store's lock is the process's, had by every thread at once)
    with app.verb_turn:
        _reserve_and_run(app, call)


def _reserve_and_run(app: CustdeskApp, call: _VerbCall[Any]) -> None:
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
        if call.working is not None:
            app.call_from_thread(app.hand_over_keys)
        if call.gave_up is not None:
            app.call_from_thread(call.gave_up)
        return
    with held:
        if call.working is None:
            if not worker.is_cancelled:
                app.call_from_thread(_run_verb, app, call)
            return
        if worker.is_cancelled:
            app.call_from_thread(app.hand_over_keys)
            return
        screen = WorkingScreen(call.working)
        try:
            app.call_from_thread(app.push_screen, screen)
            result = call.verb(*call.args, **call.kwargs)
        except StoreError as err:
            app.call_from_thread(_stop_working, app, screen, partial(_refused, app, call, err))
        except BaseException:
            app.call_from_thread(_stop_working, app, screen, None)
            raise
        else:
            app.call_from_thread(_stop_working, app, screen, partial(_told, app, call, result), changed=True)


def _stop_working(app: CustdeskApp, screen: WorkingScreen, after: Callable[[], None] | None, *,
                  changed: bool = False) -> None:
    """The verb's end: its screen goes (once on top), the keys held for it are handed over
    (`hand_over_keys`, which tells the screens of the verb's changes, `changed`, with those
    made meanwhile: the keys go after what follows), and what follows it runs (`after`)."""
    try:
        screen.finish()
    finally:
        app.hand_over_keys(changed=changed)
    if after is not None:
        after()


def _run_verb(app: CustdeskApp, call: _VerbCall[Any]) -> None:
    try:
        result = call.verb(*call.args, **call.kwargs)
    except StoreError as err:
        _refused(app, call, err)
        return
    _done(app, call, result)


def _refused(app: CustdeskApp, call: _VerbCall[Any], err: StoreError) -> None:
    if call.refused is not None:
        call.refused(err)
    else:
        show_refusal(app, err)


def _done(app: CustdeskApp, call: _VerbCall[T], result: T) -> None:
    app.after_change()
    _told(app, call, result)


def _told(app: CustdeskApp, call: _VerbCall[T], result: T) -> None:
    """The verb's success said, its result handed on (the screens told of its changes)."""
    if call.success:
        app.notify(call.success)
    if call.then is not None:
        call.then(result)
