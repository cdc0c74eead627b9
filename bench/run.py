"""Every speed figure, each beside its reference measured in the same run, at
each store size: one Markdown table (the README's Performance section).

    python bench/run.py [--sizes 100000,1000000]      (make bench)

Per size: a realistic CSV (and, up to 100k, XLSX) imported into an empty
store; a demo store of that many customers (fixed seed, ~4.7 documents per
customer) opened in a fresh process; one durable edit; a search keystroke;
merge and undo; the app, headless, in a fresh process; and whole processes
as a user meets them (`process_bench`): the command line from exec to exit,
the app in a tmux pane until its first rows show, an import of the CSV.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import Figure, in_fresh_process, print_table
from process_bench import process_figures
from store_bench import bare_orjson_load, edit_figures

XLSX_UP_TO = 100_000  # an XLSX of 1M rows is past what Excel itself opens (1,048,576 rows)

GOALS = {
    "import CSV: total": "≤ 3 s (≤ 15x polars read) / ≤ 30 s",
    "open the store (fresh process)": "≤ 1 s / ≤ 8 s",
    "one durable edit (deactivate), median of 50": "≤ 50 ms / ≤ 50 ms",
    "search keystroke in the app, handled and redrawn": "≤ 50 ms / ≤ 200 ms",
    "app: first paint, from the start (store opened)": "≤ 1 s / ≤ 8 s",
    "app: RSS with the store open (indexes built)": "≤ 400 MB / ≤ 3 GB",
    "custdesk --help, whole process": "≤ 0.3 s",
    "custdesk stats --json, whole process": "≤ 0.4 s",
    "app in a terminal: exec to first rows on screen": "≤ 1 s / ≤ 2.5 s",
    "custdesk import CSV, whole process, empty store": "≤ 3 s (≤ 30x polars) / ≤ 25 s",
}


def _ms_over_driver(seconds: float, driver: float) -> str:
    """A key's round trip less the driver's own cost; below the driver's noise (~5 ms) as such."""
    ms = (seconds - driver) * 1000
    return f"{ms:.0f} ms" if ms >= 5 else "< 5 ms"


def store_figures(size: int, folder: Path, csv: Path) -> dict[str, Figure]:
    path = folder / f"demo_{size}.json"
    build = in_fresh_process("store_bench.py", "build", str(path), str(size))["build"]
    megabytes = path.stat().st_size / 1e6
    opened = in_fresh_process("store_bench.py", "open", str(path))
    figures = {
        "demo store: build (customers with their related records)": (f"{build:.1f} s", f"{megabytes:,.0f} MB snapshot"),
        "open the store (fresh process)": (f"{opened['open']:.2f} s", f"bare orjson.loads {bare_orjson_load(path):.2f} s"),
        "RSS with the store open (fresh process)": (f"{opened['rss']:,.0f} MB", f"snapshot {megabytes:,.0f} MB"),
    }
    app = in_fresh_process("tui_bench.py", str(path))
    driver = app["driver"]
    figures |= {
        "app: first paint, from the start (store opened)": (f"{app['first_paint']:.2f} s", f"{app['rows']:,} rows"),
        "search keystroke in the app, handled and redrawn": (
            _ms_over_driver(app["search"], driver), f"test driver round trip {app['search'] * 1000:.0f} ms, "
                                                    f"of which the driver alone {driver * 1000:.0f} ms"),
        "G: jump to the last row, redrawn": (_ms_over_driver(app["G"], driver), f"to row {app['last_row']:,}"),
        "d: deactivate, committed, rows rebuilt, redrawn": (_ms_over_driver(app["d"], driver), ""),
        "app: RSS with the store open (indexes built)": (f"{app['rss']:,.0f} MB", f"peak {app['peak_rss']:,.0f} MB"),
    }
    return figures | process_figures(path, csv, folder) | edit_figures(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000", help="store sizes, comma-separated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows: dict[str, dict[int, Figure]] = {}
    started = time.perf_counter()
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            found = in_fresh_process("import_bench.py", str(size), tmp, *(["--xlsx"] if size <= XLSX_UP_TO else []))
            figures = {what: tuple(figure) for what, figure in found.items()}
            with tempfile.TemporaryDirectory() as stores:
                figures |= store_figures(size, Path(stores), Path(tmp) / f"customers_{size}.csv")
        for what, figure in figures.items():
            rows.setdefault(what, {})[size] = figure
    print_table(sizes, rows, GOALS)
    print(f"\n(bench/run.py took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
