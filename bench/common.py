"""What the bench scripts share: a clock and the figure table they print."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

# The scripts run from a checkout: make its packages importable without installing.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def clock(func: Callable):
    """(result, seconds) of one call."""
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def print_figures(rows: list[tuple[str, str, str]]) -> None:
    """One table: what, the figure, and the reference measured in the same run."""
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  {'figure':>9}  reference")
    for what, figure, reference in rows:
        print(f"{what:<{width}}  {figure:>9}  {reference}")
