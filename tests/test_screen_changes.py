"""A return from a customer's detail to the table is quick: the escape key reaches the app
from the terminal without Textual's 100–200 ms wait, and the closed detail's objects are
collected once the table is painted (not by a full pass of Python's own amid a later key)."""
import asyncio
import contextlib
import gc
import os
import threading
import time
import tty
import weakref
from collections.abc import Iterator

from helpers import SIZE

from tui.app import CustdeskApp
from tui.memory import WRITE_SECONDS
from tui.screens.detail import DetailScreen
from tui.screens.tables import CustomersScreen
from tui.terminal import ESCAPE_SECONDS, PromptEscapeDriver


async def until(condition, seconds: float = 5.0) -> float:
    """Seconds until `condition()` holds (looked at every millisecond)."""
    start = time.perf_counter()
    while not condition():
        assert time.perf_counter() - start < seconds, "never happened"
        await asyncio.sleep(0.001)
    return time.perf_counter() - start


async def test_escape_typed_in_a_terminal_reaches_the_app_without_textuals_wait(shop, monkeypatch):
    monkeypatch.delenv("ESCDELAY", raising=False)
    app = CustdeskApp(shop)
    assert app.get_driver_class() is PromptEscapeDriver  # (run_test drives the app headless)
    async with app.run_test(size=SIZE) as pilot:
        terminal, typed_into = os.openpty()
        tty.setraw(typed_into)  # (as the app sets its terminal: each key as typed)
        driver = PromptEscapeDriver(app)
        driver.fileno = typed_into
        reading = threading.Thread(target=driver.run_input_thread)
        reading.start()
        try:
            await pilot.press("enter")
            assert isinstance(app.screen, DetailScreen)
            arrived: list[float] = []
            take = app.keys.take

            async def timed_take(key):  # (when each key reaches the app from the terminal)
                arrived.append(time.perf_counter())
                await take(key)
            app.keys.take = timed_take
            typed = time.perf_counter()
            os.write(terminal, b"\x1b")  # the escape key alone
            await until(lambda: isinstance(app.screen, CustomersScreen))
            assert ESCAPE_SECONDS <= arrived[0] - typed < 0.1  # Textual's own driver: 0.1 s at the least
            os.write(terminal, b"\x1b[B")  # the down arrow: a sequence starting with ESC is still one key
            await until(lambda: app.screen.query_one("RecordTable").cursor == 1)
            assert isinstance(app.screen, CustomersScreen)
        finally:
            driver.exit_event.set()
            reading.join()
            os.close(terminal)
            os.close(typed_into)


async def test_a_terminal_that_hangs_up_quits_the_app_and_its_input_thread_stops(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE) as pilot:
        terminal, typed_into = os.openpty()
        tty.setraw(typed_into)
        driver = PromptEscapeDriver(app)
        driver.fileno = typed_into
        reading = threading.Thread(target=driver.run_input_thread)
        reading.start()
        try:
            os.write(terminal, "/ü".encode()[:2])  # (a key, and half a character: no hang-up)
            await until(lambda: app.focused is not None and app.focused.id == "search")
            await pilot.pause(0.2)
            assert app.return_code is None
            os.close(terminal)  # the pane killed, the connection dropped
            await until(lambda: app.return_code == 0)
        finally:
            driver.exit_event.set()
            reading.join(5)
            os.close(typed_into)
        assert not reading.is_alive()


@contextlib.contextmanager
def collected_by_the_app_only() -> Iterator[None]:
    """Python's own passes off (what the start left collected first): what is collected
    meanwhile, the app collected."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def test_a_closed_detail_is_collected_once_the_table_is_painted(shop):
    app = CustdeskApp(shop)
    with collected_by_the_app_only():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("enter")
            assert isinstance(app.screen, DetailScreen)
            await pilot.pause()
            gc.collect()  # (what the start and the opening left)
            closed = weakref.ref(app.screen)
            await pilot.press("escape")
            await pilot.pause(WRITE_SECONDS + 0.2)  # (collected once the frame is on its way)
            assert isinstance(app.screen, CustomersScreen) and closed() is None  # (nothing held it at that pass)
            # The detail's widgets and styles (~14,000 objects in cycles here) are gone already;
            # what is left is the repaint's own (~7,000), and the rendered lines of closed
            # widgets (~3,000) that Textual's background-styles cache used to keep for good
            # (`mend_background_styles_cache`).
            assert gc.collect() < 12_000


async def test_a_closed_screen_still_held_when_collected_is_collected_once_let_go(shop):
    """Something may still hold a closed screen at the collection after the paint (the
    worker that wrote an import's rows, a moment longer); it is collected again every
    second until it is gone, no key pressed: a closed import screen held its million rows
    (0.6 GB) until the next keys."""
    from tui.memory import CHECK_SECONDS

    app = CustdeskApp(shop)
    with collected_by_the_app_only():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("enter")
            held = [app.screen]
            closed = weakref.ref(held[0])
            await pilot.press("escape")
            await pilot.pause(WRITE_SECONDS + 0.2)
            assert isinstance(app.screen, CustomersScreen) and closed() is not None
            held.clear()
            await until(lambda: closed() is None, 3 * CHECK_SECONDS)


async def test_closed_screens_do_not_pile_up(shop):
    """Textual forgets a widget's watchers only when what they watch changes: the app's title
    (each screen's Header) and a footer's `compact` (each key a redrawn footer drew) never
    did, so every detail opened and closed left its header and the footer's old keys alive,
    each collection walking them all. After six details, what is alive beside the table
    screen is at most the last detail (a task it started may still hold it for a moment),
    and no closed widget's styles cache."""
    from collections import Counter

    from textual._styles_cache import StylesCache
    from textual.screen import Screen
    from textual.widget import Widget
    from textual.widgets import Header
    from textual.widgets._footer import FooterKey

    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(6):
            await pilot.press("enter")
            assert isinstance(app.screen, DetailScreen)
            await pilot.pause()
            detail_keys = len(app.screen.query(FooterKey))
            await pilot.press("escape")
            await pilot.pause(WRITE_SECONDS + 0.2)
            assert isinstance(app.screen, CustomersScreen)
        gc.collect()
        shown = set(app.screen.walk_children(with_self=True)) | set(app.screen_stack)
        alive = Counter(type(o).__name__ for o in gc.get_objects()
                        if isinstance(o, (Screen, Header, FooterKey)) and o not in shown and type(o) is not Screen)
        assert alive["DetailScreen"] <= 1 and alive["Header"] <= 1 and alive["FooterKey"] <= detail_keys, alive
        # Each widget alive has its styles cache; Textual's own cache of background styles
        # kept closed widgets' caches (and their rendered lines) too.
        objects = gc.get_objects()
        assert sum(isinstance(o, StylesCache) for o in objects) <= sum(isinstance(o, Widget) for o in objects)


def test_freed_memory_goes_back_to_the_system():
    """Building the indexes frees much of what it took; glibc keeps freed blocks among the
    live ones in its heap until asked. Asked, the resident set drops to what is in use."""
    from helpers import run_python

    code = ("from tui.memory import return_freed_memory\n"
            "def rss():\n"
            "    with open('/proc/self/status') as f:\n"
            "        return next(int(l.split()[1]) for l in f if l.startswith('VmRSS:')) / 1024\n"
            "blocks = [bytes(4000) + i.to_bytes(4, 'little') for i in range(50_000)]\n"
            "kept = blocks[::50]  # (one block in fifty stays: the heap cannot shrink from its end)\n"
            "del blocks\n"
            "before = rss(); return_freed_memory(); after = rss()\n"
            "assert before - after > 100, (before, after)")
    result = run_python(code)
    assert result.returncode == 0, result.stderr


async def test_the_tables_footer_keys_are_not_made_again_on_return_but_follow_the_focus(shop):
    """Back from a detail the table shows the same keys: its footer keeps them (making them
    again cost ~20 ms of each escape). Where the keys differ (the search box focused) it
    shows the new ones."""
    from textual.widgets._footer import FooterKey

    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        keys = list(app.screen.query(FooterKey))
        assert any(key.key == "enter" for key in keys)
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert isinstance(app.screen, CustomersScreen)
        assert list(app.screen.query(FooterKey)) == keys  # the same widgets, not made again
        await pilot.press("slash")  # the search box takes the focus: the table's keys go
        await pilot.pause(0.2)
        shown = {key.key for key in app.screen.query(FooterKey)}
        assert shown != {key.key for key in keys} and "enter" not in shown, shown


def test_full_passes_run_when_the_app_chooses_and_the_keyboard_is_quiet():
    """Python's own full pass once landed amid the first paint after an escape (39 ms): in
    the app, full passes run only after a closed screen's paint and, looked at every second,
    when objects wait for one and no key came for half a second, or when many wait."""
    from tui.memory import MOST_PENDING, NO_FULL_PASSES, QUIET_SECONDS, full_passes_when_quiet

    class App:  # (a headless app keeps Python's passes: tests run many apps in one process)
        is_headless = False

        def __init__(self):
            self.timers = []

        def set_interval(self, seconds, callback, name=None):
            self.timers.append(callback)

    app, last_key = App(), [time.monotonic()]
    full_passes: list[int] = []

    def count(phase, info):
        if phase == "start" and info["generation"] == 2:
            full_passes.append(1)
    before = gc.get_threshold()
    gc.callbacks.append(count)
    try:
        full_passes_when_quiet(app, lambda: last_key[0])
        assert gc.get_threshold() == (before[0], before[1], NO_FULL_PASSES)
        [check] = app.timers
        gc.collect()
        last_key[0] -= QUIET_SECONDS
        check()  # quiet, but nothing waits for a full pass
        assert full_passes == [1]  # (the test's own)
        gc.collect(1)
        last_key[0] = time.monotonic()
        check()  # some wait, but a key just came
        assert full_passes == [1]
        last_key[0] -= QUIET_SECONDS
        check()
        assert full_passes == [1, 1]
        last_key[0] = time.monotonic()
        for _ in range(MOST_PENDING):
            gc.collect(1)
        check()  # keys keep coming, but many wait
        assert full_passes == [1, 1, 1]
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*before)
