"""Whole processes, measured the way a user meets them (for bench/run.py): the
`custdesk` command from exec to exit, and the app in a real terminal (a tmux pane
of 160x50, polled every 20 ms) from exec until the first customer row is on
screen. Each beside `python -c pass` (an interpreter that does nothing) or a bare
polars read of the same file, in whole processes too; the small commands on a large
store (a 3-row import, its dry run, a 3-row sync, a sync of a file synced already)
beside `custdesk stats --json` on the same store, from the same run.

    python bench/process_bench.py STORE FOLDER   # the small commands and the import alone
"""
from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import Figure, median
from feel_bench import first_rows
from import_bench import write_full_name_csv

CUSTDESK = str(Path(sys.executable).with_name("custdesk"))


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
    return first_rows(f"{CUSTDESK} --db {shlex.quote(str(store))}", first_row, repeat)


def process_figures(store: Path, _csv: Path, folder: Path) -> dict[str, Figure]:
    """(`_csv`: the plain import file; the import here is of full names and VAT ids, `import_figures`.)"""
    bare = wall([sys.executable, "-c", "pass"])
    figures = {
        "custdesk --help, whole process": (f"{wall([CUSTDESK, '--help']):.2f} s", f"python -c pass {bare:.2f} s"),
        "custdesk stats --json, whole process": (f"{wall([CUSTDESK, '--db', str(store), 'stats', '--json']):.2f} s",
                                                f"python -c pass {bare:.2f} s"),
    }
    return figures | import_figures(folder) | small_command_figures(store, folder)


def import_figures(folder: Path, rows: int = 100_000) -> dict[str, Figure]:
    """A CSV of `rows` people (full names to split, companies' VAT ids to check) into an empty
    store, whole process, median of 3 (each into a new store), beside polars reading it."""
    csv = write_full_name_csv(folder, rows)
    read = wall([sys.executable, "-c", f"import polars; polars.read_csv({str(csv)!r}, separator=';', infer_schema=False)"])
    times = []
    for n in range(3):
        target = folder / f"imported_{n}.json"
        times.append(wall([CUSTDESK, "--db", str(target), "import", str(csv), "--into", "private", "--country", "DE",
                           "--json"], repeat=1))
    imported = median(times)
    return {f"custdesk import CSV ({rows:,} rows, full names, VAT ids), whole process, empty store": (
        f"{imported:.2f} s", f"polars.read_csv whole process {read:.2f} s ({imported / read:.0f}x)")}


def _three_rows(folder: Path, n: int) -> Path:
    path = folder / f"three_{n}.csv"
    path.write_text("Firma;E-Mail;Telefon;Ort;Land\n" + "".join(
        f"Bench {n}{i} GmbH;info{i}@bench-{n}.example;+49 30 55{n:03d}{i:02d};Berlin;DE\n" for i in range(3)))
    return path


def _three_accounts(folder: Path, n: int) -> Path:
    path = folder / f"Contacts_{n}.csv"
    path.write_text("*ContactName,AccountNumber,EmailAddress,PhoneNumber,POCity,POCountry\n" + "".join(
        f"Konto {n}{i} GmbH,B-{n}-{i},konto{i}@bench-{n}.example,+49 40 66{n:03d}{i:02d},Hamburg,DE\n" for i in range(3)))
    return path


def small_command_figures(store: Path, folder: Path) -> dict[str, Figure]:
    """Commands that touch three records of the store, whole process, median of 3, beside
    `stats --json` on the same store. On a copy of it (the store and what custdesk keeps
    beside it); after one command has run (a first one after a new snapshot builds the
    duplicate matcher's index and keeps it beside the store: that one is timed too)."""
    copy = folder / "small" / store.name
    copy.parent.mkdir()
    for file in store.parent.glob(store.name + "*"):
        if not file.name.endswith(".lock"):
            shutil.copy(file, copy.parent / file.name)
    db = [CUSTDESK, "--db", str(copy)]
    first = wall([*db, "import", str(_three_rows(folder, 0)), "--dry-run"], repeat=1)
    dry = wall([*db, "import", str(_three_rows(folder, 0)), "--dry-run"])
    stats = wall([*db, "stats", "--json"])
    real = median([wall([*db, "import", str(_three_rows(folder, n))], repeat=1) for n in range(1, 4)])
    synced = median([wall([*db, "sync", str(_three_accounts(folder, n))], repeat=1) for n in range(3)])
    again = wall([*db, "sync", str(_three_accounts(folder, 2))])
    reference = f"custdesk stats --json {stats:.2f} s"
    return {
        "a 3-row import --dry-run, whole process (the first after a new snapshot)": (f"{first:.2f} s", reference),
        "a 3-row import --dry-run, whole process": (f"{dry:.2f} s", reference),
        "a 3-row import, whole process": (f"{real:.2f} s", reference),
        "a 3-row sync (xero), whole process": (f"{synced:.2f} s", reference),
        "a sync of a file synced already, whole process": (f"{again:.2f} s", reference),
    }


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        found = import_figures(Path(scratch)) | small_command_figures(Path(sys.argv[1]).resolve(), Path(scratch))
    for what, (figure, beside) in found.items():
        print(f"{what:<90} {figure:>8}   {beside}")
