"""The app as a user meets it, in a real terminal (a 160x50 tmux pane): from exec until
the first customer row is on screen, beside a bare Textual app with a DataTable started
the same way in the same run (the floor no Textual app goes under); once with the first
page kept beside the store (any start after the app has run on it), once without (the
first start after another process wrote the store); and the app's memory once it has
built its indexes (the resident set polled until steady).

    python bench/feel_bench.py STORE [STORE ...]     prints one JSON object per store
"""
from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import median
from terminal import BARE_APP, keep_server, pane_pid, shown_after, start, stop_server, tmux, wait_for

from store.views.page import page_path

CUSTDESK = str(Path(sys.executable).with_name("custdesk"))
SESSION = "custdesk-feel"
SETTLED_SECONDS = 5.0  # the resident set unchanged (±2 MB) this long: the indexes are built
RSS_WAIT_SECONDS = 180.0


def first_rows(command: str, text: str = "C-0", repeat: int = 3, before: Callable[[], object] | None = None) -> float:
    """The median of `repeat` starts (`before`: run ahead of each, untimed)."""
    times = []
    for _ in range(repeat):
        if before:
            before()
        times.append(shown_after(command, text, SESSION))
    return median(times)


def keep_page(command: str, page: Path, timeout: float = RSS_WAIT_SECONDS) -> None:
    """A first start, left running until it has kept the page (once the store is open
    behind its first rows, as any session does): stopped at its first rows, it kept none."""
    wait_for("C-0", SESSION, start(command, SESSION))
    began = time.perf_counter()
    while not page.exists():
        if time.perf_counter() - began > timeout:
            raise RuntimeError(f"the app kept no first page beside the store ({page})")
        time.sleep(0.1)
    tmux("kill-session", "-t", SESSION)


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def settled_rss(command: str) -> tuple[float, float]:
    """(steady, peak) resident MB of the app once its first rows show and its indexes are built."""
    wait_for("C-0", SESSION, start(command, SESSION))
    pid = pane_pid(SESSION)
    began, last, steady_since, peak = time.perf_counter(), 0.0, time.perf_counter(), 0.0
    while time.perf_counter() - began < RSS_WAIT_SECONDS:
        now = _rss_mb(pid)
        peak = max(peak, now)
        if abs(now - last) > 2:
            last, steady_since = now, time.perf_counter()
        elif time.perf_counter() - steady_since >= SETTLED_SECONDS:
            break
        time.sleep(0.25)
    tmux("kill-session", "-t", SESSION)
    return last, peak


def measure(store: Path) -> dict[str, float]:
    app = f"{shlex.quote(CUSTDESK)} --db {shlex.quote(str(store))}"
    page = page_path(store)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as bare_file:
        bare_file.write(BARE_APP)
    bare = f"{shlex.quote(sys.executable)} {shlex.quote(bare_file.name)}"
    keep_server()
    try:
        keep_page(app, page)
        figures = {"bare": first_rows(bare), "kept": first_rows(app),
                   "no_page": first_rows(app, before=lambda: page.unlink(missing_ok=True))}
        figures["rss"], figures["peak_rss"] = settled_rss(app)
    finally:
        stop_server()
        Path(bare_file.name).unlink()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("stores", nargs="+", type=Path)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("feel_bench: needs tmux (a real terminal to start the app in)")
    for store in args.stores:
        print(json.dumps({"store": str(store), **measure(store)}))


if __name__ == "__main__":
    main()
