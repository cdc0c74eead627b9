"""Exports from the PostgreSQL store of ten million customers that `bench/pg_scale.py`
builds (issue 31), as users run them:
- `custdesk --db URL export all.csv` in a fresh process, timed from exec to exit with its
  peak memory, beside `psql` writing the same customers' documents in the same order to a
  file with COPY (the floor of what this server sends);
- the app's export of a selection of 100,000 customers (its worker calls
  `exporters.customers.export_customers` with their ids), in a process of its own, CSV and XLSX.
Afterwards the database is put back as it was (the export log's rows and journal entries gone).

    python bench/pg_export.py [--customers 10000000] [--chosen 100000]   (make bench-export)
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT
from pg_import import put_back, run, saved_state
from pg_scale import SETTINGS, built_folder, psql_path, scale_arguments

sys.path.insert(0, str(ROOT / "tests"))
from pg_server import LocalServer

# The app's export of chosen customers, timed in the process, with its peak memory (VmHWM).
_CHOSEN = """
import random, sys, time
from pathlib import Path
from exporters.customers import export_customers
from store import Store
url, count, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
store = Store(url)
random.seed(7)
ids = random.sample(range(1, store.stats()["customers"] + 1), count)
started = time.perf_counter()
written = export_customers(store, out, ids)
seconds = time.perf_counter() - started
status = open("/proc/self/status").read()
kb = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
print(f"{written} {seconds:.2f} {kb / 1024:.0f}")
"""


def bare_copy(url: str, out: Path) -> float:
    """Seconds `psql` takes to write every customer's document, by number, to `out`."""
    select = ("SELECT doc::text FROM customers WHERE doc IS NOT NULL "
              "ORDER BY (coalesce(doc ->> 'number', '')) COLLATE \"C\", id")
    started = time.perf_counter()
    subprocess.run([psql_path(), url, "-qc", f"\\copy ({select}) TO '{out}'"], check=True, capture_output=True)
    return time.perf_counter() - started


def chosen(url: str, count: int, out: Path) -> tuple[int, float, float]:
    """(customers written, seconds, peak RSS in MB) of the app's export of `count` chosen ones."""
    done = subprocess.run([sys.executable, "-c", _CHOSEN, url, str(count), str(out)], check=True, capture_output=True,
                          text=True, cwd=ROOT)
    written, seconds, peak = done.stdout.split()
    return int(written), float(seconds), float(peak)


def main() -> None:
    parser = scale_arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--chosen", type=int, default=100_000)
    args = parser.parse_args()
    folder = built_folder("pg_export", args.customers, args.folder)
    server = LocalServer(durable=True, folder=folder, settings=SETTINGS)
    results: list[tuple[str, float, float | None]] = []
    try:
        url = server.url("customers")
        run("--db", url, "stats")  # (a store made by an older custdesk is brought up to date first, untimed)
        saved = saved_state(url)
        with tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
            try:
                all_csv = Path(scratch) / "all.csv"
                seconds, peak, _ = run("--db", url, "export", str(all_csv))
                size = all_csv.stat().st_size / 2**30
                all_csv.unlink()
                results.append((f"`custdesk export all.csv` ({args.customers:,} customers, {size:.1f} GiB)", seconds, peak))
                for suffix in ("csv", "xlsx"):
                    written, seconds, peak = chosen(url, args.chosen, Path(scratch) / f"chosen.{suffix}")
                    results.append((f"the app's export of {written:,} chosen customers to .{suffix}", seconds, peak))
            finally:
                put_back(url, saved)
            floor = bare_copy(url, Path(scratch) / "floor.txt")
    finally:
        server.stop()
    print(f"## Exports from {args.customers:,} customers on PostgreSQL, {os.cpu_count()} cores\n")
    print("| export | seconds | peak RSS |")
    print("|---|---|---|")
    for what, seconds, peak in results:
        print(f"| {what} | {seconds:.1f} | {peak:.0f} MB |")
    print(f"| `psql \\copy` of every customer's document, by number, to a file | {floor:.1f} | |")


if __name__ == "__main__":
    main()
