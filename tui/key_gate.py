"""Keys handled one at a time, each routed where the key before it left the app.

Textual routes a key to the focused widget when the app takes it from its queue; the
key then bubbles up widget by widget (each hop a message) to the app, which runs the
bindings. Keys typed faster than that round trip were all routed before the first one's
binding had run: after `/` the letters went to the table (firing `a` and `u` on the
source list) instead of the search box, and a `delete` right after a search acted on
the row the cursor was on before the search narrowed the table.

The gate holds a key until the one before it has been handled through: a `KeyHandled`
marker, posted to the same widget right behind the key, bubbles the same way and so
reaches the app after the key's handlers, its bindings and what they posted on that path
(a search box's change, a screen's resume). The next key is routed after what the
bindings scheduled on the app (a focus move), and once a flow the key started
(`tui.flows`) has shown its dialog or ended: to the screen and widget that then show.
"""
from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from time import monotonic
from typing import Any

from textual import events
from textual.app import App
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker

from .flows import GROUP as FLOWS

# A marker is lost only when the widget it waits in is removed (its screen closed): the
# gate opens once that widget is gone, and past this long in any case; so it does for a
# flow that neither shows a dialog nor ends.
LOST_AFTER_SECONDS = 5.0
WATCH_SECONDS = 0.1
FLOW_POLL_SECONDS = 0.01


class KeyHandled(Message):
    """The key `key`, ahead of this marker on the same path, has been handled."""

    def __init__(self, key: events.Key) -> None:
        super().__init__()
        self.key = key


class KeyGate:
    """One key in flight at a time. `route` is Textual's own routing of one key (`App.on_event`):
    the app's priority bindings, else a post to the focused widget or the screen."""

    def __init__(self, app: App[Any], route: Callable[[events.Key], Awaitable[None]]) -> None:
        self._app = app
        self._route = route
        self._waiting: deque[events.Key] = deque()
        self._in_flight: tuple[events.Key, MessagePump, float] | None = None  # key, its marker's widget, since
        self._watch: Timer | None = None
        self._workers: set[Worker[Any]] = set()  # those running when the key in flight was routed
        # After a key that started a flow: the flows, the screen they started on, since when.
        self._settling: tuple[list[Worker[Any]], Screen[Any], float] | None = None
        self.routed = 0  # keys routed so far

    @property
    def idle(self) -> bool:
        """No key waits, none is in flight and no flow a key started is being waited for."""
        return not self._waiting and self._in_flight is None and self._settling is None

    def take_waiting(self) -> list[events.Key]:
        """The keys waiting to be routed, no longer waiting here (the app holds them: `CustdeskApp.hold_keys`)."""
        waiting = list(self._waiting)
        self._waiting.clear()
        return waiting

    async def take(self, key: events.Key) -> None:
        """A key from the terminal: routed now if none is in flight, else after those before it."""
        self._waiting.append(key)
        if len(self._waiting) == 1 and self._in_flight is None and self._settling is None:
            await self._send()

    def handled(self, marker: KeyHandled) -> None:
        """A marker reached the app: the next key goes after what the bindings scheduled,
        and after the dialog of a flow they started."""
        if self._in_flight is None or self._in_flight[0] is not marker.key:
            return  # (the marker of a key given up for lost)
        self._in_flight = None
        if not self._app.screen_stack:
            return  # the app is closing
        flows = [w for w in self._app.workers if w.group == FLOWS and w not in self._workers and not w.is_finished]
        self._settling = (flows, self._app.screen, monotonic())
        self._app.call_later(self._send_when_settled)

    async def _send_when_settled(self) -> None:
        await asyncio.sleep(0)  # (a flow just started takes its first step: most push their dialog in it)
        if self._settling is None or not self._app.screen_stack:
            return
        flows, screen, since = self._settling
        waiting = any(not w.is_finished for w in flows) and self._app.screen is screen
        if waiting and monotonic() - since < LOST_AFTER_SECONDS:
            self._app.set_timer(FLOW_POLL_SECONDS, self._send_when_settled, name="key-gate")
            return
        self._settling = None
        await self._send()

    async def _send(self) -> None:
        while self._waiting and self._in_flight is None and self._settling is None and self._app.screen_stack:
            key = self._waiting.popleft()
            self._workers = set(self._app.workers)
            self.routed += 1
            await self._route(key)
            if not key.is_forwarded:
                continue  # a priority binding of the app took it: nothing is in flight
            where = self._app.focused or self._app.screen  # (where Textual posted it)
            if where.post_message(KeyHandled(key)):
                self._in_flight = (key, where, monotonic())
                self._watch_for_loss()

    def _watch_for_loss(self) -> None:
        if self._watch is None:
            self._watch = self._app.set_interval(WATCH_SECONDS, self._check_lost, name="key-gate")

    async def _check_lost(self) -> None:
        if self._in_flight is None:
            if self._watch is not None:
                self._watch.stop()
                self._watch = None
            return
        _key, where, since = self._in_flight
        gone = where._closing or where._closed or not where.is_attached  # (a widget not yet running is not lost)
        if gone or monotonic() - since > LOST_AFTER_SECONDS:
            self._in_flight = None
            await self._send()
