"""What the bench scripts share: clocks, the fresh-process probe and the figure table."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

# The scripts run from a checkout: make its packages importable without installing.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def clock(func: Callable):
    """(result, seconds) of one call."""
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def best_of(func: Callable, repeat: int = 3) -> float:
    """The fastest of `repeat` calls, in seconds (the least disturbed by the machine)."""
    return min(clock(func)[1] for _ in range(repeat))


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def rss_mb(field: str = "VmRSS") -> float:
    """The process's resident memory now (VmRSS), or its peak since exec (VmHWM; getrusage's
    peak would count the parent's memory at fork)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def in_fresh_process(script: str, *args: str) -> dict:
    """Run a bench script in a new interpreter (clean memory figures); it prints one JSON object."""
    out = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


Figure = tuple[str, str]  # (figure, reference measured in the same run)


def print_table(sizes: list[int], rows: dict[str, dict[int, Figure]], goals: dict[str, str]) -> None:
    """One Markdown table: each figure beside its reference, per store size, with the goal."""
    head = ["what"] + [f"{size:,}" for size in sizes] + ["reference (same run)", "goal"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for what, by_size in rows.items():
        figures = [by_size.get(size, ("–", ""))[0] for size in sizes]
        references = "; ".join(f"{size:,}: {by_size[size][1]}" if len(sizes) > 1 else by_size[size][1]
                               for size in sizes if by_size.get(size, ("", ""))[1])
        lines.append("| " + " | ".join([what, *figures, references, goals.get(what, "")]) + " |")
    print("\n".join(lines))
