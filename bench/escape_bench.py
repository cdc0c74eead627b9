"""`escape` from a customer's detail back to the table, as a user meets it: the app in a
real terminal (a tmux pane of 160x50), each escape timed from the key sent until the
table is on screen again; half of them right after an edit in the detail (`d` twice:
deactivated, then active again, so the store ends as it began).

    python bench/escape_bench.py STORE [--runs 20]

Beside it, from the same run: `j` on the table (a key whose work is next to nothing,
its redraw timed the same way), and the terminal's own round trip (a character echoed
by `cat` in a pane of the same size). Prints the figures, then one JSON object (for
bench/run.py).
"""
from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from common import ROOT, median

# The app of this checkout (bench/run.py's convention), started as the `custdesk` command starts it.
CUSTDESK = f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} -m cli"
SESSION = "custdesk-escape-bench"
POLL_SECONDS = 0.003  # between two looks at the pane (each look is a tmux process: ~2 ms)
TABLE = " shown · "  # the customer table's filter bar ("100,000 shown · 100,000 total")
DETAIL = "Invoices"  # a tab of the customer's detail
TIMEOUT = 60.0


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def pane(escapes: bool = False) -> str:
    return tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", SESSION)


def wait_for(shown: Callable[[], bool], what: str) -> float:
    """Seconds until `shown()` holds, looking every POLL_SECONDS."""
    start = time.perf_counter()
    while not shown():
        if time.perf_counter() - start > TIMEOUT:
            raise RuntimeError(f"never showed: {what}\n{pane()}")
        time.sleep(POLL_SECONDS)
    return time.perf_counter() - start


def timed_key(key: str, shown: Callable[[], bool], what: str) -> float:
    """Seconds from sending `key` until `shown()` holds."""
    start = time.perf_counter()
    tmux("send-keys", "-t", SESSION, key)
    wait_for(shown, what)
    return time.perf_counter() - start


def on_table() -> bool:
    text = pane()
    return TABLE in text and DETAIL not in text


def on_detail() -> bool:
    text = pane()
    return DETAIL in text and TABLE not in text


def changed_from(before: str) -> Callable[[], bool]:
    return lambda: pane(escapes=True) != before


def start(command: str) -> None:
    tmux("kill-session", "-t", SESSION)
    subprocess.run(["tmux", "new-session", "-d", "-s", SESSION, "-x", "160", "-y", "50",
                    f"export TERM=xterm-256color; unset PYTHONDONTWRITEBYTECODE; {command}"], check=True)


def settle(seconds: float = 0.5) -> None:
    """Until the pane has not changed for `seconds` (start-up notices gone, work done)."""
    last, since = pane(escapes=True), time.perf_counter()
    deadline = since + TIMEOUT
    while time.perf_counter() - since < seconds and time.perf_counter() < deadline:
        time.sleep(0.05)
        now = pane(escapes=True)
        if now != last:
            last, since = now, time.perf_counter()


def edit_in_detail() -> None:
    """`d` twice on the detail (deactivated, then active again, or the other way round):
    each committed and shown before the next key."""
    for _ in range(2):
        timed_key("d", changed_from(pane(escapes=True)), "the edit")
        settle(0.3)


def escapes(store: str, runs: int) -> dict[str, list[float]]:
    start(f"{CUSTDESK} --db {shlex.quote(str(Path(store).resolve()))}")
    wait_for(lambda: "C-0" in pane(), "the first rows")
    # The first rows may be the page kept from the last start, shown while the store opens
    # behind it: a detail opens once the store is open. Timing starts after one round trip.
    tmux("send-keys", "-t", SESSION, "Enter")
    wait_for(on_detail, "the detail")
    tmux("send-keys", "-t", SESSION, "Escape")
    wait_for(on_table, "the table")
    settle(1.0)
    figures: dict[str, list[float]] = {"plain": [], "after_edit": [], "j": []}
    for run in range(runs):
        figures["j"].append(timed_key("j", changed_from(pane(escapes=True)), "the cursor one row down"))
        settle(0.2)
        tmux("send-keys", "-t", SESSION, "Enter")
        wait_for(on_detail, "the detail")
        settle(0.3)
        after_edit = run % 2 == 1
        if after_edit:
            edit_in_detail()
        figures["after_edit" if after_edit else "plain"].append(timed_key("Escape", on_table, "the table"))
        settle(0.3)
    tmux("kill-session", "-t", SESSION)
    return figures


def terminal_round_trip(runs: int) -> list[float]:
    """A character typed into `cat` until the pane shows it: the pty, tmux and this polling."""
    start("cat")
    times = []
    for run in range(runs):
        mark = f"x{run}"
        times.append(timed_key(mark, lambda mark=mark: mark in pane(), "the echo"))
    tmux("kill-session", "-t", SESSION)
    return times


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("escape_bench needs tmux")
    figures = escapes(args.store, args.runs)
    figures["terminal"] = terminal_round_trip(args.runs)
    every = figures["plain"] + figures["after_edit"]
    for label, times in (("escape, every one", every), ("escape, plain", figures["plain"]),
                         ("escape, after an edit", figures["after_edit"]), ("reference: j on the table", figures["j"]),
                         ("reference: the terminal's echo", figures["terminal"])):
        print(f"{label:32} median {ms(median(times)):>7}   max {ms(max(times)):>7}   (n={len(times)})")
    print(json.dumps({"escape_median": median(every), "escape_max": max(every),
                      "after_edit_max": max(figures["after_edit"]), "j_median": median(figures["j"]),
                      "j_max": max(figures["j"]), "terminal_median": median(figures["terminal"]),
                      "runs": figures}))


if __name__ == "__main__":
    main()
