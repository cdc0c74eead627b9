"""When the garbage collector's full passes run: right after a closed screen's paint, not amid a key.

A customer's detail leaves some 25,000 objects in cycles when it closes (its widgets and
their styles). Python found them in a full pass it started by itself every few screens,
walking every long-lived object too: 0.1-0.35 s at 100,000 customers, landing on whichever
key or return to the table happened to start it (the 0.07-1.03 s of an escape). Here a
screen's garbage is collected as soon as the screen below it is painted, a small pass
(what lives as long as the app, the store's documents and indexes, is kept out of every
pass: `gc.freeze`), so none is left to pile up for a pass of Python's own.
"""
from __future__ import annotations

import gc
from typing import Any

from textual.app import App


def keep_out_of_collections(app: App[Any]) -> None:
    """What exists now lives as long as the app: no full pass walks it again. (Not in a
    headless app: tests run many apps in one process, and a frozen object is never freed.)"""
    if not app.is_headless:
        gc.freeze()


def collect_after_paint(app: App[Any]) -> None:
    """A screen just closed: its objects are collected once the screen below is painted."""
    app.call_after_refresh(gc.collect)
