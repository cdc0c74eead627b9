"""`custdesk sync`: accounting exports into the source list, by hand or by watching a folder."""
from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from cli.common import fail, open_store, reports_errors, say
from store.errors import StoreError

if TYPE_CHECKING:
    from store import Store
    from store.domain.sync import SyncReport

EXPORT_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xls", ".ods", ".json"}


@click.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--profile", metavar="NAME", help="The export's profile (default: recognised by its headers).")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print each run's counts as one JSON object.")
@click.option("--watch", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="Sync every export dropped in this folder (new or changed), until stopped.")
@click.option("--interval", default=2.0, show_default=True, type=click.FloatRange(0.05), help="Seconds between looks (--watch).")
@click.option("--profiles", "list_profiles", is_flag=True, help="List the exports custdesk recognises.")
@click.pass_context
@reports_errors
def sync(ctx: click.Context, files: tuple[Path, ...], profile: str | None, dry_run: bool, as_json: bool, folder: Path | None,
         interval: float, list_profiles: bool) -> None:
    """Keep the source list in step with accounting exports (Xero, QuickBooks, DATEV, Sage,
    Exact, Odoo, Zoho Books, FreshBooks): exit 0 done, 1 some records refused, 2 unreadable."""
    from importers.sync import profiles

    if list_profiles:
        for found in profiles().values():
            say(f"{found.name:<12} {found.title}  (id: {' / '.join(found.id_columns)})")
        return
    if (folder is None) == (not files):
        fail("give export FILEs, or --watch DIR")
    store = open_store(ctx)
    if folder is not None:
        watch(store, folder, profile, interval, as_json)
        return
    refused = False
    for path in files:
        report = sync_file(store, path, profile, dry_run=dry_run)
        say(json.dumps(report.counts(), ensure_ascii=False) if as_json else describe(report))
        refused |= bool(report.errors)
    if refused:
        raise SystemExit(1)


def sync_file(store: Store, path: Path, profile: str | None, *, dry_run: bool = False) -> SyncReport:
    from importers.sync import read_export

    export = read_export(path, profile)
    return store.sync(export.profile.name, path.name, export.digest, export.records, dry_run=dry_run)


def describe(report: SyncReport) -> str:
    """One line: what a run did."""
    if report.skipped:
        return f"{report.file} ({report.profile}): synced already, nothing to do"
    line = (f"{report.file} ({report.profile}): {report.rows} rows, {report.created} new, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.removed} removed, {len(report.conflicts)} conflict(s), "
            f"{len(report.errors)} error(s)")
    for error in report.errors[:5]:
        line += f"; row {error['row']} ({error['id']}): {error['message']}"
    return line


def watch(store: Store, folder: Path, profile: str | None, interval: float, as_json: bool) -> None:
    """Sync each export in `folder` once its size has stopped changing, and again whenever
    its content changes; until SIGTERM or ctrl+c, which end the loop between runs."""
    if not folder.is_dir():
        fail(f"{folder}: not a folder")
    stopping: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    say(f"watching {folder} for accounting exports (every {interval:g} s; ctrl+c stops)")
    try:
        seen: dict[Path, tuple[int, int]] = {}
        done: dict[Path, tuple[int, int]] = {}
        while not stopping:
            for path, state in _exports(folder):
                if seen.get(path) == state and done.get(path) != state:  # unchanged since the last look: complete
                    done[path] = state
                    _run(store, path, profile, as_json)
                seen[path] = state
            _sleep(interval, stopping)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say("stopped")


def _exports(folder: Path) -> Iterator[tuple[Path, tuple[int, int]]]:
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in EXPORT_SUFFIXES and not path.name.startswith(".") and path.is_file():
            stat = path.stat()
            yield path, (stat.st_size, stat.st_mtime_ns)


def _run(store: Store, path: Path, profile: str | None, as_json: bool) -> None:
    try:
        store.refresh()
        report = sync_file(store, path, profile)
    except (StoreError, OSError) as err:
        say(f"{path.name}: {err}", err=True)
        return
    if not report.skipped or not as_json:
        say(json.dumps(report.counts(), ensure_ascii=False) if as_json else describe(report))


def _sleep(seconds: float, stopping: list[int]) -> None:
    end = time.monotonic() + seconds
    while not stopping and time.monotonic() < end:
        time.sleep(min(0.05, max(0.0, end - time.monotonic())))
