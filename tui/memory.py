"""When the garbage collector's full passes run: right after a closed screen's paint, not amid a key.

A customer's detail leaves some 25,000 objects in cycles when it closes (its widgets and
their styles). Python found them in a full pass it started by itself every few screens,
walking every long-lived object too: 0.1-0.35 s at 100,000 customers, landing on whichever
key or return to the table happened to start it (the 0.07-1.03 s of an escape). Here a
screen's garbage is collected as soon as the screen below it is painted, a small pass
(what lives as long as the app, the store's documents and indexes, is kept out of every
pass: `gc.freeze`). The pass waits for the frame to be written (it stops every thread
while it runs), and closed widgets' watchers are forgotten first: Textual kept them, and
every closed screen with them. Python's own full passes never start: the other full
passes run at a pause between keys, or once many objects wait (`full_passes_when_quiet`).
"""
from __future__ import annotations

import ctypes
import functools
import gc
import weakref
from collections.abc import Callable
from time import monotonic
from typing import Any

from textual.app import App
from textual.messages import InvokeLater

WRITE_SECONDS = 0.03  # a 160x50 frame reaches the terminal in a few ms
FORGET_SECONDS = 3.0
QUIET_SECONDS = 0.5  # no key for this long: a full pass is unlikely to keep one waiting
CHECK_SECONDS = 1.0
COLLECT_TRIES = 30  # (a closed screen still held, collected again each `CHECK_SECONDS`)
# Middle-generation passes since the last full one past which a full pass runs, quiet or not:
# ~10 s of typing without a pause (its garbage grew 0.4 MB/s, and a late pass took 165 ms).
MOST_PENDING = 100
NO_FULL_PASSES = 1 << 30  # (Python's own threshold for a full pass: never reached)


def keep_out_of_collections(app: App[Any]) -> None:
    """What exists now lives as long as the app: no full pass walks it again. (Not in a
    headless app: tests run many apps in one process, and a frozen object is never freed.)"""
    if not app.is_headless:
        gc.freeze()


def full_passes_when_quiet(app: App[Any], last_key: Callable[[], float]) -> None:
    """Python starts a full pass by itself once enough objects have outlived its young
    passes; after edits in a detail, one started amid the first paint of the escape to the
    table (39 ms of it). Full passes run only when the app chooses: once a closed screen's
    successor is painted (`collect_after_paint`), and, looked at every second, when objects
    wait for one and no key came for half a second, or many wait (typing without a pause).
    Young passes stay Python's. (Not in a headless app: tests run many apps in one process.)"""
    if app.is_headless:
        return
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, NO_FULL_PASSES)

    def when_quiet() -> None:
        pending = gc.get_count()[2]  # (middle-generation passes since the last full one)
        if pending and (monotonic() - last_key() >= QUIET_SECONDS or pending >= MOST_PENDING):
            gc.collect()
    app.set_interval(CHECK_SECONDS, when_quiet, name="quiet-collect")


def return_freed_memory() -> None:
    """Hand the C heap's free pages back to the system. Building the indexes peaks a gigabyte
    above what stays (2.4 GB at 1,000,000 customers, 1.6 GB after), and glibc keeps what was
    freed in its arenas: some 85 MB of the resident set there. (Not glibc: nothing to do.)"""
    try:
        libc = ctypes.CDLL("libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def collect_after_paint(app: App[Any], closed: object) -> None:
    """A screen just closed: its objects are collected once the screen below is painted and
    on its way to the terminal (Textual's writer thread needs the interpreter to write it,
    and a collection lets no thread run until it ends); and again every second, at a pause
    between keys, while something still holds it (the worker that wrote an import's rows,
    for a moment), up to `COLLECT_TRIES` times: once let go, a closed screen was garbage no
    pass collected in an app waiting for keys (`full_passes_when_quiet` counts on passes
    that start as objects are made), and an import screen's million rows held 0.6 GB until
    the next keys."""
    held = weakref.ref(closed)
    # (in the app's name: `on_unmount` runs in the closing screen's, and the callback Textual
    # makes of it, and the timer's ticks, named that screen as their sender, holding it
    # through the first pass: every closed screen waited for the next)
    def after_paint() -> None:
        app.set_timer(WRITE_SECONDS, lambda: _collect(app, held, COLLECT_TRIES), name="collect")
    app.post_message(InvokeLater(after_paint).set_sender(app))


def _collect(app: App[Any], held: weakref.ref[object], tries: int) -> None:
    forget_closed_watchers(app)
    gc.collect()
    if held() is not None and tries > 1:
        app.set_timer(CHECK_SECONDS, lambda: _collect_when_quiet(app, held, tries - 1), name="collect")


def _collect_when_quiet(app: App[Any], held: weakref.ref[object], tries: int) -> None:
    """`_collect` again, at a pause between keys (as the other full passes: one amid typing
    would hold a key up), unless the screen is gone meanwhile."""
    if held() is None:
        return
    if monotonic() - getattr(app, "last_key_at", 0.0) < QUIET_SECONDS:
        app.set_timer(CHECK_SECONDS, lambda: _collect_when_quiet(app, held, tries), name="collect")
        return
    _collect(app, held, tries)


def mend_background_styles_cache() -> None:
    """Textual caches two background styles with functools' lru_cache on a method (meant for
    the class): each entry held the styles cache of the widget that asked, with every line
    it had rendered. Up to 1,024 closed widgets stayed alive so, some 60 a detail, and each
    full pass walked them (25 ms, then 110 ms after a dozen details). Cached here by the two
    colours alone, as the method computes them; left as it is should Textual change it."""
    from textual._styles_cache import StylesCache

    method = StylesCache.__dict__.get("get_inner_outer")
    compute = getattr(method, "__wrapped__", None)
    if compute is None or not hasattr(method, "cache_clear"):
        return
    by_colours = functools.lru_cache(1024)(lambda base_background, background: compute(None, base_background, background))
    setattr(StylesCache, "get_inner_outer", lambda _self, base_background, background: by_colours(base_background, background))  # noqa: B010 - (typed as the cache it replaces)


def forget_closed_watchers(app: App[Any]) -> None:
    """Drop the watchers of closed widgets. Textual forgets them only when the attribute they
    watch changes: the app's title (each screen's Header watches it) and a Footer's `compact`
    (each key the footer ever drew, by data_bind) never change here, so every closed screen's
    header and every key of a redrawn footer stayed alive, with its styles and caches: some
    80 widgets for a detail opened and closed, and each collection walked them all (50 ms,
    then 220 ms after twenty details at 100,000 customers)."""
    for node in (app, *(node for screen in app.screen_stack for node in screen.walk_children(with_self=True))):
        watchers: dict[str, list[tuple[Any, Any]]] = getattr(node, "__watchers", {})  # (Textual's own name)
        for entries in watchers.values():
            entries[:] = [(watcher, callback) for watcher, callback in entries
                          if not (watcher._closing or watcher._closed)]  # (Textual's own test, and after)


def keep_forgetting_closed_watchers(app: App[Any]) -> None:
    """Also every few seconds: a footer redraws its keys whenever the bindings change (a
    focus moved, a row chosen), with no screen closing; its old keys, once forgotten, are
    young objects Python's own small passes collect."""
    app.set_interval(FORGET_SECONDS, lambda: forget_closed_watchers(app), name="forget-watchers")
