"""Search keystrokes as a person meets them: the app started on a store in a real pty (a
160x50 tmux pane), `/` pressed, then each text typed a key at a time. A keystroke is timed
from the key sent until the rows under the bar change and then stay still for `SETTLED`
(the pane read every 3 ms), beside the key's echo in the search box (the floor: the
terminal and the app drawing a letter). Each text is typed `--repeat` times (the search
cleared with escape between); printed: each key's median and worst, and the app's peak
memory. With `--prospects` the keys are typed in the source list (`p`, timed until its rows
show).

    python bench/keystrokes.py [--customers 10000000 | --db URL-OR-FILE] [--prospects] TEXT…   (make bench-keys)

Without `--db` the app opens the database `bench/pg_scale.py` built for `--customers`,
on its server started here (and stopped after).
"""
from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from pathlib import Path

from common import ROOT
from terminal import BARE_APP, keep_server, pane_pid, shown_after, start, stop_server, tmux, wait_for

sys.path.insert(0, str(ROOT / "tests"))
from pg_scale import SETTINGS
from pg_server import LocalServer, missing_reason

CUSTDESK = str(Path(sys.executable).with_name("custdesk"))
SESSION = "custdesk-keys"
SETTLED = 0.03  # (rows still this long: the search's page, not a step of its drawing)
ROWS = slice(3, 40)  # (the pane's lines under the bar: the table's rows)
TIMEOUT = 30.0
TEXTS = ("müller", "smith", "b l", "@web.de", "C-0123")


def _pane() -> list[str]:
    return tmux("capture-pane", "-p", "-t", SESSION).splitlines()


def _key(key: str) -> tuple[float, float]:
    """Send one key; seconds until the pane first changed (its echo), and until the rows
    changed and settled (TIMEOUT: they never changed)."""
    before = _pane()
    sent = time.perf_counter()
    tmux("send-keys", "-t", SESSION, "-l", key)
    echo, changed_at, last = None, None, before[ROWS]
    while time.perf_counter() - sent < TIMEOUT:
        pane = _pane()
        if echo is None and pane != before:
            echo = time.perf_counter() - sent
        if pane[ROWS] != last:
            changed_at, last = time.perf_counter(), pane[ROWS]
        elif changed_at is not None and time.perf_counter() - changed_at >= SETTLED:
            return echo or 0.0, changed_at - sent
        time.sleep(0.003)
    return echo or TIMEOUT, TIMEOUT


def _clear() -> None:
    """Leave the search box, then clear the search (`escape` twice), and wait for the rows."""
    for _ in range(2):
        tmux("send-keys", "-t", SESSION, "Escape")
        time.sleep(0.3)
    time.sleep(1.0)


def typed(text: str) -> list[tuple[float, float]]:
    """(echo, rows) seconds for each key of `text`, typed into the search."""
    tmux("send-keys", "-t", SESSION, "/")
    time.sleep(0.3)
    spent = [_key(letter) for letter in text]
    _clear()
    return spent


def _memory(pid: int) -> str:
    """The process's resident memory now and at its peak, from /proc."""
    with open(f"/proc/{pid}/status") as status:
        held = {line.split(":")[0]: int(line.split()[1]) / 1024 for line in status if line.startswith(("VmRSS", "VmHWM"))}
    return f"{held['VmRSS']:.0f} MB now, {held['VmHWM']:.0f} MB at its peak"


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f}/{max(values) * 1000:.0f}"


def measure(db: str, texts: list[str], repeat: int, shows: str, prospects: str | None = None) -> None:
    """Keystrokes in the customer table, or in the source list where `prospects` (text its
    first screen shows)."""
    keep_server()
    try:
        bare = shown_after(f"{sys.executable} -c {shlex.quote(BARE_APP)}", "C-0")
        began = start(f"{CUSTDESK} --db {shlex.quote(db)}", SESSION)
        print(f"first rows: {wait_for(shows, SESSION, began):.2f} s (bare Textual app: {bare:.2f} s)")
        time.sleep(2.0)  # (the counts and the server's indexes, checked after the first screen)
        if prospects:
            pressed = time.perf_counter()
            tmux("send-keys", "-t", SESSION, "p")
            print(f"the source list's first rows, from `p`: {wait_for(prospects, SESSION, pressed):.2f} s")
            time.sleep(1.0)
        print("| text typed | each key: rows settled, median/worst ms (echo in the search box) |")
        print("|---|---|")
        for text in texts:
            runs = [typed(text) for _ in range(repeat)]
            keys = [f"{text[:n + 1]!r} {_ms([r[n][1] for r in runs])} ({_ms([r[n][0] for r in runs])})"
                    for n in range(len(text))]
            print(f"| {text!r} | " + ", ".join(keys) + " |", flush=True)
        print(f"\nthe app's memory: {_memory(pane_pid(SESSION))}")
    finally:
        tmux("kill-session", "-t", SESSION)
        stop_server()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="a store file or a server's URL (else the bench's database of --customers)")
    parser.add_argument("--customers", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shows", default="C-0", help="text on the first screen (when the rows are there)")
    parser.add_argument("--prospects", metavar="TEXT", help="type in the source list, which shows TEXT when its rows are there")
    parser.add_argument("texts", nargs="*", default=list(TEXTS))
    args = parser.parse_args()
    print(f"## search keystrokes, {args.repeat} times each\n")
    if args.db:
        measure(args.db, args.texts, args.repeat, args.shows, args.prospects)
        return
    reason = missing_reason()
    folder = Path(f"/var/tmp/custdesk-bench/pg-{args.customers}")
    if reason or not (folder / "built").exists():
        sys.exit(f"keystrokes: {reason or f'no database in {folder}: make bench-scale first'}")
    server = LocalServer(durable=True, folder=folder, settings=SETTINGS)
    try:
        measure(server.url("customers"), args.texts, args.repeat, args.shows, args.prospects)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
