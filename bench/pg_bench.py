"""The store's figures on PostgreSQL beside the embedded store's, measured in the same run.

    python bench/pg_bench.py [--size 100000]          (make bench-pg)

A PostgreSQL server is started in a temporary folder (`tests/pg_server.py`) with
its durability left on (fsync, synchronous commit), as the store file's commits
are fsynced. A demo store of SIZE customers is built as a file and migrated
onto the server (`custdesk migrate`, checked by counts and checksum); then each
figure is taken on both: opening in a fresh process, the app in a real terminal
(tmux) until its first rows show, a durable edit, a search keystroke, and a
whole `custdesk import` of a SIZE-row CSV into an empty store.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, clock, in_fresh_process, median
from import_bench import write_files
from process_bench import CUSTDESK, first_rows_in_a_terminal, wall

sys.path.insert(0, str(ROOT / "tests"))
from pg_server import LocalServer

from store.admin.migrate import migrate


def edit_and_search(location: str) -> dict[str, float]:
    from store import Store
    from store.views.records import Query, RecordView

    with Store(location) as store:
        view = RecordView(store)
        ids = view.frame.filter(view.frame["active"])["id"].head(50).to_list()
        edits = [clock(lambda i=i: store.deactivate([i]))[1] for i in ids]
        keys = [clock(lambda n=n: view.select(Query(text="mül"[:n])))[1] for n in (1, 2, 3)]
    return {"edit": median(edits), "search": median(keys)}


def figures(location: str, csv: Path, empty: str) -> dict[str, float]:
    opened = in_fresh_process("store_bench.py", "open", location)
    found = {"open": opened["open"], "rss": opened["rss"]}
    found["first rows"] = first_rows_in_a_terminal(location, "C-000001") or float("nan")
    found |= edit_and_search(location)
    found["import"] = wall([CUSTDESK, "--db", empty, "import", str(csv), "--into", "private", "--country", "DE",
                            "--json"], repeat=1)
    return found


ROWS = {
    "open the store (fresh process)": ("open", "s"),
    "RSS with the store open (fresh process)": ("rss", "MB"),
    "app in a terminal: exec to first rows on screen": ("first rows", "s"),
    "one durable edit (deactivate), median of 50": ("edit", "ms"),
    "search keystroke in the store's view, median": ("search", "ms"),
    "custdesk import CSV, whole process, empty store": ("import", "s"),
}


def shown(value: float, unit: str) -> str:
    return f"{value * 1000:.1f} ms" if unit == "ms" else f"{value:,.0f} MB" if unit == "MB" else f"{value:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000, help="customers in the demo store")
    size = parser.parse_args().size
    server = LocalServer(durable=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            path = folder / "demo.json"
            in_fresh_process("store_bench.py", "build", str(path), str(size))
            url = server.create_database("demo")
            _, moved = clock(lambda: migrate(path, url))
            csv, _ = write_files(folder, size, xlsx=False)
            started = time.perf_counter()
            file = figures(str(path), csv, str(folder / "imported.json"))
            on_server = figures(url, csv, server.create_database("imported"))
    finally:
        server.stop()
    print(f"{size:,} customers; migrate file → PostgreSQL {moved:.1f} s; measured in {time.perf_counter() - started:.0f} s\n")
    print("| what | store file | PostgreSQL | PostgreSQL / file |")
    print("|---|---|---|---|")
    for what, (key, unit) in ROWS.items():
        print(f"| {what} | {shown(file[key], unit)} | {shown(on_server[key], unit)} | {on_server[key] / file[key]:.1f}x |")


if __name__ == "__main__":
    main()
