"""The store's figures on PostgreSQL beside the embedded store's, measured in the same run.

    python bench/pg_bench.py [--size 100000]          (make bench-pg)

A PostgreSQL server is started in a temporary folder (`tests/pg_server.py`) with
its durability left on (fsync, synchronous commit), as the store file's commits
are fsynced. A demo store of SIZE customers is built as a file and migrated
onto the server (`custdesk migrate`, checked by counts and checksum); then each
figure is taken on both: opening in a fresh process, the app in a real terminal
(a 160x50 tmux pane) until its first rows show, with the first page the last
session kept beside the file and without it (the first start after another session's
commit), and for the server its first page read from the server at every start, beside
a bare Textual app with a DataTable started the same way in the same rounds; a
durable edit, a search keystroke, and a whole `custdesk import` of a SIZE-row CSV
into an empty store.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, clock, in_fresh_process, median
from import_bench import write_files
from process_bench import CUSTDESK, wall

sys.path.insert(0, str(ROOT / "tests"))
from pg_server import LocalServer, missing_reason
from terminal import BARE_APP, keep_server, shown_after, start, stop_server, tmux

from store.admin.migrate import migrate
from store.views.page import on_server, page_path

ROUNDS = 7


def page_kept(location: str | Path) -> Path:
    """Where the app keeps the store file's first page, once a start of the app has kept it."""
    path = page_path(location)
    if not path.exists():
        start(app_command(location), "keep")
        waited = time.perf_counter()
        while not path.exists() and time.perf_counter() - waited < 120:
            time.sleep(0.1)
        tmux("kill-session", "-t", "keep")
    if not path.exists():
        raise RuntimeError(f"the app kept no first page of {location}")
    return path


def app_command(location: str | Path) -> str:
    return f"{shlex.quote(CUSTDESK)} --db {shlex.quote(str(location))}"


def first_rows(stores: dict[str, str | Path], folder: Path) -> dict[str, float]:
    """Median seconds to the first rows on screen of: the bare app, each store file's app with
    its page kept and without it, each server's app (its page read from the server at every
    start); the starts interleaved round by round (one machine load for all)."""
    bare = folder / "bare_app.py"
    bare.write_text(BARE_APP)
    times: dict[str, list[float]] = {}
    keep_server()
    try:
        for _ in range(ROUNDS):
            times.setdefault("bare", []).append(shown_after(f"{shlex.quote(sys.executable)} {shlex.quote(str(bare))}"))
            for name, location in stores.items():
                if on_server(location):
                    times.setdefault(name, []).append(shown_after(app_command(location)))
                    continue
                page_kept(location)
                times.setdefault(f"{name} kept", []).append(shown_after(app_command(location)))
                page_kept(location).unlink()
                times.setdefault(f"{name} no page", []).append(shown_after(app_command(location)))
    finally:
        stop_server()
    return {name: median(found) for name, found in times.items()}


def settled(url: str) -> None:
    """What the server does after a migration (vacuuming, analysing, its checkpoint) done
    before anything is timed: not in the figures of a store that was not just moved."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


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
    found |= edit_and_search(location)
    found["import"] = wall([CUSTDESK, "--db", empty, "import", str(csv), "--into", "private", "--country", "DE",
                            "--json"], repeat=1)
    return found


ROWS = {
    "open the store (fresh process)": ("open", "s"),
    "RSS with the store open (fresh process)": ("rss", "MB"),
    "app in a 160x50 tmux pane: exec to first rows, page kept (PostgreSQL: read from the server)": ("kept", "s"),
    "the same, no page (the first start after another session's commit; PostgreSQL: the same)": ("no page", "s"),
    "one durable edit (deactivate), median of 50": ("edit", "ms"),
    "search keystroke in the store's view, median": ("search", "ms"),
    "custdesk import CSV, whole process, empty store": ("import", "s"),
}


def first_rows_on_a_server(path: Path, folder: Path) -> dict[str, float] | str:
    """For bench/run.py: the store file `path` migrated onto a server started in `folder`, and
    its app's first rows beside the bare app's, as `first_rows` measures them; or why no
    server can be started here."""
    reason = missing_reason()
    if reason is not None:
        return reason
    server = None
    try:
        server = LocalServer(durable=True)
        url = server.create_database("demo")
        migrate(path, url)
        settled(url)
        return first_rows({"server": url}, folder)
    except Exception as err:  # (the rest of make bench's figures still print)
        return f"failed: {type(err).__name__}: {err}"
    finally:
        if server is not None:
            server.stop()


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
            settled(url)
            csv, _ = write_files(folder, size, xlsx=False)
            started = time.perf_counter()
            shown_first = first_rows({"file": path, "server": url}, folder)
            file = figures(str(path), csv, str(folder / "imported.json"))
            on_server = figures(url, csv, server.create_database("imported"))
    finally:
        server.stop()
    for kept in ("kept", "no page"):
        file[kept], on_server[kept] = shown_first[f"file {kept}"], shown_first["server"]
    print(f"{size:,} customers; migrate file → PostgreSQL {moved:.1f} s; measured in {time.perf_counter() - started:.0f} s\n")
    print("| what | store file | PostgreSQL | PostgreSQL / file |")
    print("|---|---|---|---|")
    for what, (key, unit) in ROWS.items():
        print(f"| {what} | {shown(file[key], unit)} | {shown(on_server[key], unit)} | {on_server[key] / file[key]:.1f}x |")
    bare = shown_first["bare"]
    print(f"\nReference, same rounds: a bare Textual app with a DataTable, exec to first rows {bare:.2f} s; "
          f"the app with its page kept: store file {file['kept'] / bare:.1f}x; PostgreSQL {on_server['kept'] / bare:.1f}x "
          f"(medians of {ROUNDS} interleaved starts).")


if __name__ == "__main__":
    main()
