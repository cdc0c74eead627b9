"""The app on a store, headless, in a fresh process (for bench/run.py):

    python bench/tui_bench.py STORE   # prints one JSON object of figures

First paint from the start of the process's work (opening the store
included), a search keystroke, G, d; RSS once the background index build
is done (and its peak). Textual's test driver costs some tens of ms a key by itself: that
is measured on a key bound to nothing and taken off the keystroke figures.
"""
from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from common import median, rss_mb

from store import Store
from tui.app import PREPARE_AFTER_SECONDS, CustdeskApp
from tui.widgets.table import RecordTable


async def press_timed(pilot, key: str) -> float:
    start = time.perf_counter()
    await pilot.press(key)
    return time.perf_counter() - start


async def drive(path: Path) -> dict:
    start = time.perf_counter()
    store = Store(path, verify=False)  # as `custdesk` opens the app: checksums checked after the first paint
    figures = {"open": time.perf_counter() - start}
    app = CustdeskApp(store)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        figures["first_paint"] = time.perf_counter() - start
        table = app.screen.query_one(RecordTable)
        figures["rows"] = table.row_count
        await pilot.pause(PREPARE_AFTER_SECONDS + 0.2)
        await app.workers.wait_for_complete()  # the indexes, built in the background
        await pilot.pause(1.5)  # polars' allocator returns freed memory after 1 s
        figures["rss"] = rss_mb()
        figures["peak_rss"] = rss_mb("VmHWM")
        # ctrl+underscore is bound to nothing: what the driver itself costs a key.
        figures["driver"] = median([await press_timed(pilot, "ctrl+underscore") for _ in range(9)])
        await pilot.press("slash")
        typed = [await press_timed(pilot, key) for key in "müller"]
        figures["search"] = median(typed + [await press_timed(pilot, "backspace") for _ in "müller"])
        await pilot.press("escape", "escape", "escape")
        figures["G"] = await press_timed(pilot, "G")
        figures["last_row"] = table.cursor + 1
        await pilot.press("g")
        figures["d"] = await press_timed(pilot, "d")
    return figures


if __name__ == "__main__":
    print(json.dumps(asyncio.run(drive(Path(sys.argv[1])))))
