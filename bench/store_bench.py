"""Store figures at scale, each beside a bare reference measured in the same run.

    python bench/store_bench.py [--customers 100000]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from common import print_figures  # noqa: E402  (sets the import path)
from store import Store  # noqa: E402
from store.demo import build_demo  # noqa: E402


def timed(func, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def bare_fsync_write(folder: Path) -> None:
    fd = os.open(folder / "fsync.probe", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.write(fd, b"x" * 1024)
    os.fsync(fd)
    os.close(fd)


OPEN_PROBE = """
import resource, sys, time
sys.path.insert(0, sys.argv[2])
from store import Store
start = time.perf_counter()
Store(sys.argv[1])
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def open_in_fresh_process(path: Path) -> tuple[float, float]:
    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run([sys.executable, "-c", OPEN_PROBE, str(path), root],
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "bench.json"
        with Store(path) as store:
            build_time = timed(lambda: build_demo(store, customers=args.customers))
            store.db.compact()
        rows.append((f"demo build, {args.customers:,} customers", f"{build_time:.2f} s", ""))
        size = path.stat().st_size
        bare_load = timed(lambda: orjson.loads(path.read_bytes()), repeat=3)
        open_time, rss = open_in_fresh_process(path)
        rows.append((f"open store ({size / 1e6:.0f} MB)", f"{open_time:.2f} s", f"orjson load {bare_load:.2f} s"))
        rows.append(("RSS with the store open (fresh process)", f"{rss:.0f} MB", ""))
        store = Store(path)
        ids = [i for i, c in store.db.tables["customers"].items() if c["active"]][:50]
        edits = [timed(lambda i=i: store.deactivate([i])) for i in ids]
        fsync = timed(lambda: bare_fsync_write(folder), repeat=20)
        edits.sort()
        rows.append(("one durable edit (deactivate), median", f"{edits[len(edits) // 2] * 1000:.1f} ms",
                     f"write+fsync 1 KB {fsync * 1000:.1f} ms"))
        first = list(store.db.tables["customers"])[100]
        second = list(store.db.tables["customers"])[200]
        merge = timed(lambda: store.merge_into(first, second))
        undo = timed(store.undo)
        rows.append(("merge two customers", f"{merge * 1000:.1f} ms", ""))
        rows.append(("undo the merge", f"{undo * 1000:.1f} ms", ""))
        store.close()
    print_figures(rows)


if __name__ == "__main__":
    main()
