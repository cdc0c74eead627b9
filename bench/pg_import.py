"""An import of a million rows into the PostgreSQL store of ten million customers that
`bench/pg_scale.py` builds (issue 31), as a user runs it: `custdesk --db URL import FILE`
in a fresh process, timed from exec to exit with its peak memory, beside `psql` loading the
same file into a bare table with COPY (the floor of what this server takes in); then
`custdesk undo --entry N` of that import, timed alike. Afterwards the database is put back as
it was, whatever the undo did: the rows of the commits since removed, the store's state and
meta row restored.

    python bench/pg_import.py [--rows 1000000] [--customers 10000000]   (make bench-import)

The file is written once, beside the database (the import bench's realistic rows:
German numbers as typed nationally, the others internationally, tags on some); none of its
people is among the generated customers, so every row is judged new by its keys, which the
server looks up.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT

sys.path.insert(0, str(ROOT / "tests"))
from import_bench import HEADER, rows
from pg_scale import SETTINGS, built_folder, psql_path, scale_arguments
from pg_server import LocalServer

# Runs the command line in this process and prints its peak memory (VmHWM) on the way out.
_MEASURED = """
import atexit, sys
def peak():
    status = open("/proc/self/status").read()
    kb = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
    print(f"peak-rss-mb {kb / 1024:.0f}", file=sys.stderr)
atexit.register(peak)
sys.argv = ["custdesk", *sys.argv[1:]]
from cli import main
main()
"""


def write_file(path: Path, count: int) -> None:
    if path.exists():
        return
    print(f"writing {count:,} rows to {path} …", file=sys.stderr, flush=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, delimiter=";")
        out.writerow(HEADER)
        out.writerows(rows(count))


def run(*args: str) -> tuple[float, float, str]:
    """(seconds from exec to exit, peak RSS in MB, standard output) of `custdesk ARGS`."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURED, *args], check=False, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"pg_import: custdesk {' '.join(args[:3])} … failed: {done.stderr.strip()[-500:]}")
    peak = next(float(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("peak-rss-mb"))
    return seconds, peak, done.stdout


def bare_copy(url: str, path: Path) -> float:
    """Seconds `psql` takes to COPY the file into a table of text columns (dropped after)."""
    columns = ", ".join(f'"{name}" text' for name in HEADER)
    psql = psql_path()
    subprocess.run([psql, url, "-qc", f"CREATE UNLOGGED TABLE bench_copy ({columns})"], check=True, capture_output=True)
    try:
        started = time.perf_counter()
        subprocess.run([psql, url, "-qc", f"\\copy bench_copy FROM '{path}' (FORMAT csv, DELIMITER ';', HEADER)"],
                       check=True, capture_output=True)
        return time.perf_counter() - started
    finally:
        subprocess.run([psql, url, "-qc", "DROP TABLE bench_copy"], check=True, capture_output=True)


def saved_state(url: str) -> tuple[int, tuple[object, ...]]:
    """(the last commit's seq, the meta row) before the import."""
    import psycopg

    with psycopg.connect(url) as conn:
        seq = conn.execute("SELECT seq FROM custdesk_state").fetchone()[0]
        meta = conn.execute("SELECT rev, seq, doc FROM _meta WHERE id = 1").fetchone()
    return seq, meta


def put_back(url: str, saved: tuple[int, tuple[object, ...]]) -> None:
    """The database as `saved_state` found it: every row written since gone (the import adds
    rows, and writes nothing else but the meta row), in one transaction."""
    import psycopg
    from psycopg.types.json import Jsonb

    from store.model import META
    from store.schema import SCHEMA

    seq, (rev, meta_seq, doc) = saved
    with psycopg.connect(url) as conn:
        for table in SCHEMA.tables:
            if table != META:
                conn.execute(f'DELETE FROM "{table}" WHERE seq > %s', (seq,))
        conn.execute("UPDATE _meta SET rev = %s, seq = %s, doc = %s WHERE id = 1", (rev, meta_seq, Jsonb(doc)))
        conn.execute("UPDATE custdesk_state SET seq = %s", (seq,))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) sources")


def import_arguments(description: str) -> argparse.ArgumentParser:
    """`scale_arguments` and how many rows the file imported holds."""
    parser = scale_arguments(description)
    parser.add_argument("--rows", type=int, default=1_000_000)
    return parser


def started(bench: str, args: argparse.Namespace) -> tuple[LocalServer, str, Path]:
    """The server of the database of `args.customers` started, the store on it brought up to
    date (a store made by an older custdesk, untimed), its URL, and the file of `args.rows`
    rows (written once)."""
    folder = built_folder(bench, args.customers, args.folder)
    path = folder.parent / f"import-{args.rows}.csv"
    write_file(path, args.rows)
    server = LocalServer(durable=True, folder=folder, settings=SETTINGS)
    url = server.url("customers")
    run("--db", url, "stats")
    return server, url, path


def imported(url: str, path: Path) -> tuple[float, float, dict[str, int]]:
    """(seconds, peak RSS in MB, the counts it printed) of `custdesk import FILE` into the store."""
    seconds, peak, out = run("--db", url, "import", str(path), "--json")
    return seconds, peak, json.loads(out.strip().splitlines()[-1])


def undone(url: str) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of `custdesk undo --entry N` of the store's last import."""
    import psycopg

    with psycopg.connect(url) as conn:
        entry = conn.execute("SELECT max(id) FROM journal WHERE doc ->> 'action' = 'import'").fetchone()[0]
    seconds, peak, _out = run("--db", url, "undo", "--entry", str(entry))
    return seconds, peak


def main() -> None:
    args = import_arguments(__doc__.split("\n\n")[0]).parse_args()
    server, url, path = started("pg_import", args)
    try:
        floor = bare_copy(url, path)
        saved = saved_state(url)
        try:
            seconds, peak, counts = imported(url, path)
            undo_seconds, undo_peak = undone(url)
        finally:
            put_back(url, saved)
    finally:
        server.stop()
    print(f"## {args.rows:,} rows imported into {args.customers:,} customers on PostgreSQL, {os.cpu_count()} cores\n")
    print("| step, a fresh process from exec to exit | seconds | peak RSS |")
    print("|---|---|---|")
    print(f"| `custdesk import` ({counts['created']:,} created, {counts['duplicates']:,} duplicates, "
          f"{counts['errors']:,} errors) | {seconds:.1f} | {peak:.0f} MB |")
    print(f"| `custdesk undo --entry N` of that import | {undo_seconds:.1f} | {undo_peak:.0f} MB |")
    print(f"| `psql \\copy` of the same file into a bare table | {floor:.1f} | |")


if __name__ == "__main__":
    main()
