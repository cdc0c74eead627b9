"""The app at scale, headless: first paint, a search keystroke, jump to the last row, RSS.

    python bench/tui_bench.py [--customers 100000]
"""
from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path

import polars as pl

from common import print_figures  # noqa: E402  (sets the import path)
from store import Store  # noqa: E402
from store.demo import build_demo  # noqa: E402
from store.view import Query  # noqa: E402
from tui.app import CustdeskApp  # noqa: E402
from tui.widgets.table import RecordTable  # noqa: E402


async def drive(path: Path) -> list[tuple[str, str, str]]:
    start = time.perf_counter()
    store = Store(path)
    opened = time.perf_counter() - start
    app = CustdeskApp(store)
    rows = []
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        painted = time.perf_counter() - start
        table = app.screen.query_one(RecordTable)
        rows.append(("open the store", f"{opened:.2f} s", ""))
        rows.append(("first paint (from start)", f"{painted:.2f} s", f"{table.row_count:,} rows"))
        t0 = time.perf_counter()
        await pilot.press("ctrl+underscore")  # bound to nothing: what the test driver itself costs
        idle = time.perf_counter() - t0
        rows.append(("a key bound to nothing (the driver's own cost)", f"{idle * 1000:.0f} ms", "reference"))
        await pilot.press("slash")
        timings = []
        for key in "mül":
            t0 = time.perf_counter()
            await pilot.press(key)
            timings.append(time.perf_counter() - t0)
        view = app.views["customers"]
        t0 = time.perf_counter()
        view.frame.filter(pl.col("email").str.contains("mül", literal=True))
        bare = time.perf_counter() - t0
        t0 = time.perf_counter()
        view.select(Query(text="mül"))
        search = time.perf_counter() - t0
        rows.append(("search keystroke, redrawn (median of 3)", f"{sorted(timings)[1] * 1000:.0f} ms",
                     f"view search {search * 1000:.1f} ms; bare str.contains on one column {bare * 1000:.1f} ms"))
        await pilot.press("escape", "escape", "escape")
        t0 = time.perf_counter()
        await pilot.press("G")
        rows.append(("G: jump to the last row, redrawn", f"{(time.perf_counter() - t0) * 1000:.0f} ms",
                     f"cursor on row {table.cursor + 1:,}"))
        await pilot.press("g")
        t0 = time.perf_counter()
        await pilot.press("d")
        rows.append(("d: deactivate a customer, views and table redrawn", f"{(time.perf_counter() - t0) * 1000:.0f} ms",
                     "one durable commit + the changed rows rebuilt"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(("peak RSS of the process", f"{rss:.0f} MB", "includes building the demo store"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.json"
        with Store(path) as store:
            build_demo(store, customers=args.customers)
            store.db.compact()
        rows = asyncio.run(drive(path))
    print_figures(rows)


if __name__ == "__main__":
    main()
