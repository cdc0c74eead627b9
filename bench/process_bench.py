"""Whole processes, measured the way a user meets them (for bench/run.py): the
`custdesk` command from exec to exit, and the app in a real terminal (a tmux pane
of 160x50, polled every 20 ms) from exec until the first customer row is on
screen. Each beside `python -c pass` (an interpreter that does nothing) or a bare
polars read of the same file, in whole processes too.
"""
from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import Figure, median

CUSTDESK = str(Path(sys.executable).with_name("custdesk"))
TMUX_SESSION = "custdesk-bench"


def wall(argv: list[str], repeat: int = 3) -> float:
    """The median wall time of running `argv` to its exit, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return median(times)


def first_rows_in_a_terminal(store: Path | str, first_row: str, repeat: int = 3) -> float | None:
    """Seconds from exec until `first_row` shows in a real pty (None: no tmux here)."""
    if shutil.which("tmux") is None:
        return None
    times = []
    for _ in range(repeat):
        subprocess.run(["tmux", "kill-session", "-t", TMUX_SESSION], capture_output=True, check=False)
        start = time.perf_counter()
        subprocess.run(["tmux", "new-session", "-d", "-s", TMUX_SESSION, "-x", "160", "-y", "50",
                        f"{CUSTDESK} --db {shlex.quote(str(store))}"], check=True)
        while first_row not in subprocess.run(["tmux", "capture-pane", "-p", "-t", TMUX_SESSION], check=False,
                                              capture_output=True, text=True).stdout:
            if time.perf_counter() - start > 120:
                raise RuntimeError("the app never showed its first row")
            time.sleep(0.02)
        times.append(time.perf_counter() - start)
        subprocess.run(["tmux", "kill-session", "-t", TMUX_SESSION], capture_output=True, check=False)
    return median(times)


def process_figures(store: Path, csv: Path, folder: Path) -> dict[str, Figure]:
    bare = wall([sys.executable, "-c", "pass"])
    figures = {
        "custdesk --help, whole process": (f"{wall([CUSTDESK, '--help']):.2f} s", f"python -c pass {bare:.2f} s"),
        "custdesk stats --json, whole process": (f"{wall([CUSTDESK, '--db', str(store), 'stats', '--json']):.2f} s",
                                                f"python -c pass {bare:.2f} s"),
    }
    shown = first_rows_in_a_terminal(store, "C-000001")
    figures["app in a terminal: exec to first rows on screen"] = (
        (f"{shown:.2f} s", f"python -c pass {bare:.2f} s") if shown is not None else ("–", "no tmux on this machine"))
    read = wall([sys.executable, "-c", f"import polars; polars.read_csv({str(csv)!r}, separator=';', infer_schema=False)"],
                repeat=1)
    imported = wall([CUSTDESK, "--db", str(folder / "imported.json"), "import", str(csv), "--into", "private",
                     "--country", "DE", "--json"], repeat=1)
    figures["custdesk import CSV, whole process, empty store"] = (
        f"{imported:.2f} s", f"polars.read_csv whole process {read:.2f} s ({imported / read:.0f}x)")
    return figures
