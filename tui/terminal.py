"""The terminal driver: Textual's own, reporting a lone `escape` sooner.

A terminal sends `escape` as the same byte that starts the sequences of other keys
(arrows: ESC [ A), so a lone ESC means the escape key only once nothing follows it for a
while. Textual waits 100 ms (ESCDELAY) for that, and its input thread only looks again
when its 100 ms wait for input ends: `escape` reached the app 100–200 ms after it was
typed, most of the 0.1 s a screen change may take (a terminal speaking the kitty
keyboard protocol sends escape unambiguously and waits for nothing).

Here the wait is ESCAPE_SECONDS, unless the user set ESCDELAY (as for curses programs: a
slow remote link may split a key's sequence), and the input thread looks again exactly
when it is over. Only this loop differs from Textual's `LinuxDriver.run_input_thread`,
and what it does when the terminal hangs up (reads end, nothing more can be typed: a
killed tmux pane, a dropped SSH connection whose hang-up signal did not reach the app):
it tells the app (`TerminalClosed`), which closes the store and exits. Textual's loop went
on selecting the closed terminal, a core spinning for good (found: an app left so for an
hour, after its tmux pane was killed).
"""
from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder

from textual import constants
from textual._loop import loop_last
from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message

# Escape sequences arrive in one write of the terminal; 25 ms is the usual ttimeoutlen of
# editors over a network.
ESCAPE_SECONDS = 0.025
IDLE_SECONDS = 0.1  # how often the input thread looks at its exit flag when no key comes


class TerminalClosed(Message):
    """The terminal the keys come from hung up: nothing more can be typed."""


def escape_delay() -> float:
    """Seconds a lone ESC is waited on: the user's ESCDELAY (ms, as Textual reads it), else ESCAPE_SECONDS."""
    return constants.ESCAPE_DELAY if "ESCDELAY" in os.environ else ESCAPE_SECONDS


class PromptEscapeDriver(LinuxDriver):
    """Textual's Linux/macOS driver, its input thread waking when a lone ESC is due."""

    def run_input_thread(self) -> None:
        # Textual's parser reads the delay from its constants at each ESC.
        setattr(constants, "ESCAPE_DELAY", escape_delay())  # noqa: B010 (a Final of Textual's, set on purpose)
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def process(events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> bool:
            """Handle what was typed; False once the terminal has hung up (its reads end)."""
            for last, (_key, mask) in loop_last(events):
                if mask & selectors.EVENT_READ:
                    typed = os.read(self.fileno, 1024 * 4)
                    if not typed:
                        return False
                    text = decode(typed, final=final and last)  # ('' while a character is cut short)
                    for message in parser.feed(text) if text else ():
                        self.process_message(message)
            for message in parser.tick():
                self.process_message(message)
            return True

        def wait() -> float:
            # An ESC waits for what may follow it: look again when that wait is over.
            due = parser._timeout_time  # (the parser's own deadline for the ESC)
            return IDLE_SECONDS if due is None else max(0.0, min(IDLE_SECONDS, due - get_time()))

        try:
            while not self.exit_event.is_set():
                if not process(selector.select(wait())):
                    self.process_message(TerminalClosed())
                    self.exit_event.wait()  # (until the app, closing, stops this driver)
                    return
            selector.unregister(self.fileno)
            process(selector.select(IDLE_SECONDS), final=True)
        finally:
            selector.close()
            try:
                for _message in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass

