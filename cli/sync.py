"""`custdesk sync`: accounting exports into the source list, by hand or by watching a folder."""
from __future__ import annotations

import hashlib
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from cli.common import fail, open_store, reports_errors, say
from cli.sync_conflicts import conflicts, resolve
from store.base.errors import RuleViolation, StoreError
from store.base.text import path_text
from store.paths import read_ahead

if TYPE_CHECKING:
    from importers.sync import Export
    from store import Store
    from store.domain.sync import SyncReport

EXPORT_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xls", ".ods", ".json"}
# What a look at the folder sees of an export: its mode, size and time, or why it could
# not be looked at (a link to nothing, a loop of links).
_State = tuple[int, int, int] | str


class _RunOrSubcommand(click.Group):
    """`sync FILE...` runs (the group's own options and files), beside the subcommands
    `sync conflicts` and `sync resolve`: a first word naming a subcommand runs it (a file
    of that name is given as ./conflicts), anything else is a run's files and options."""

    # (a run's options may follow its files, as they could before the subcommands came)
    allow_interspersed_args = True
    allow_extra_args = False

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            return click.Command.parse_args(self, ctx, args)
        click.Command.parse_args(self, ctx, [])  # (a run's options at their defaults: the callback sees no run)
        ctx._protected_args, ctx.args = args[:1], args[1:]
        return ctx.args

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        if ctx.command is self:
            return params
        # (asked for a subcommand's usage line: `custdesk sync resolve …`, not `sync [FILES]... resolve`)
        return [p for p in params if not isinstance(p, click.Argument)]


@click.group(cls=_RunOrSubcommand, invoke_without_command=True, subcommand_metavar="| sync conflicts|resolve ...")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--profile", metavar="NAME", help="The export's profile (default: recognised by its headers).")
@click.option("--encoding", metavar="NAME", help="A text export's encoding (default: detected; e.g. windows-1252).")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print each run's counts as one JSON object.")
@click.option("--watch", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="Sync every export dropped in this folder (new or changed), until stopped.")
@click.option("--interval", default=2.0, show_default=True, type=click.FloatRange(0.05), help="Seconds between looks (--watch).")
@click.option("--profiles", "list_profiles", is_flag=True, help="List the exports custdesk recognises.")
@click.pass_context
@reports_errors
def sync(ctx: click.Context, files: tuple[Path, ...], profile: str | None, encoding: str | None, dry_run: bool, as_json: bool,
         folder: Path | None, interval: float, list_profiles: bool) -> None:
    """Keep the source list in step with accounting exports (Xero, QuickBooks, DATEV, Sage,
    Exact, Odoo, Zoho Books, FreshBooks): exit 0 done, 1 some records refused, 2 unreadable.
    `sync conflicts` lists the conflicts still open, `sync resolve` settles them."""
    if ctx.invoked_subcommand is not None:
        return
    from importers.sync import profiles

    if list_profiles:
        known = profiles().values()
        width = max(len(found.name) for found in known)
        for found in known:
            say(f"{found.name:<{width}}  {found.title}  (id: {' / '.join(found.id_columns)})")
        return
    if (folder is None) == (not files):
        fail("give export FILEs, or --watch DIR")
    if folder is not None:
        if not folder.is_dir():  # (before the store is opened: a mistyped folder makes no store)
            fail(f"{path_text(folder)}: not a folder")
        watch(open_store(ctx), folder, profile, interval, as_json, encoding=encoding)
        return
    read_ahead(ctx.obj["db"])  # (the store file's fields decoded on a thread meanwhile)
    from cli.checking import open_for_planning
    from importers.sync import read_export

    status, store = 0, None
    for path in files:
        try:
            export = read_export(path, profile, encoding=encoding)
            # (once a file was read: a mistyped one makes no store; its checksums summed meanwhile)
            store = store or open_for_planning(ctx, dry_run=dry_run)
            report = apply_export(store, export, dry_run=dry_run)
        except StoreError as err:  # one line, and the files after it are synced all the same
            say(f"custdesk: {err}", err=True)
            status = 2
            continue
        say(json.dumps(report.counts(), ensure_ascii=False) if as_json else describe(report))
        status = max(status, 1 if report.errors else 0)
    if status:
        raise SystemExit(status)


sync.add_command(conflicts)
sync.add_command(resolve)


def apply_export(store: Store, export: Export, *, dry_run: bool = False) -> SyncReport:
    return store.sync(export.profile.name, export.path.name, export.digest, export.records,
                      ids_issued=export.profile.ids_issued, dry_run=dry_run)


def describe(report: SyncReport) -> str:
    """One line: what a run did."""
    if report.skipped:
        return f"{report.file} ({report.profile}): synced already, nothing to do"
    line = (f"{report.file} ({report.profile}): {report.rows} rows, {report.created} new, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.removed} removed, {len(report.conflicts)} conflict(s), "
            f"{len(report.errors)} error(s)")
    for error in report.errors[:5]:
        line += f"; row {error['row']} ({error['id']}): {error['message']}"
    if report.likely:
        line += f"; {len(report.likely)} likely duplicate(s) of a customer, queued for review (custdesk duplicates)"
    for pair in report.likely[:5]:
        line += f"; row {pair['row']} ({pair['id']}) {pair['prospect']} likely {pair['customer']}: {', '.join(pair['reasons'])}"
    return line


def watch(store: Store, folder: Path, profile: str | None, interval: float, as_json: bool, *,
          encoding: str | None = None) -> None:
    """Sync each export in `folder` once its size has stopped changing, and again whenever
    its content changes; until SIGTERM or ctrl+c, which end the loop between runs. A file
    that cannot be synced is reported once and left until its content changes; the
    others go on."""
    stopping: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    say(f"watching {path_text(folder)} for accounting exports (every {interval:g} s; ctrl+c stops)")
    watcher = _Watcher(store, profile, as_json, stopping, encoding=encoding)
    try:
        while not stopping:
            watcher.look(folder)
            _sleep(interval, stopping)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say("stopped")


class _Watcher:
    """What the watch loop remembers between looks: each export's (size, mtime) at the last
    look and at its last run, the content hash of each file that failed, and the last
    complaint about the folder or the store (said once, not at every look)."""

    def __init__(self, store: Store, profile: str | None, as_json: bool, stopping: list[int], *,
                 encoding: str | None = None) -> None:
        self.store, self.profile, self.as_json, self.stopping = store, profile, as_json, stopping
        self.encoding = encoding
        self.seen: dict[Path, _State] = {}
        self.done: dict[Path, _State] = {}
        self.failed: dict[Path, str] = {}  # the content (or the look) that failed, not reported again
        self.complaint: str | None = None

    def look(self, folder: Path) -> None:
        try:
            exports = dict(_exports(folder))
        except OSError as err:  # the folder gone or unreadable for now: the next look tries again
            self._complain(f"{path_text(folder)}: cannot be listed ({err.strerror or err})")
            return
        for path, state in exports.items():
            if self.stopping:  # a signal ends the loop between runs, not after every file of the folder
                return
            if self.seen.get(path) == state and self.done.get(path) != state:  # unchanged since the last look: complete
                self.done[path] = state
                self._run(path, state)
        self.seen = exports
        for gone in set(self.done) - set(exports):
            self.done.pop(gone, None)
            self.failed.pop(gone, None)

    def _run(self, path: Path, state: _State) -> None:
        from importers.reading import read_input
        from importers.sync import read_export

        try:  # (read once, without blocking and after its size was looked at: a FIFO is refused)
            raw = read_input(path)
        except Exception as err:
            # Remembered by what the folder shows of it: a change there is worth another try.
            if self.failed.get(path) != (unread := f"unread {state}"):
                self._failed(path, unread, err)
            return
        digest = hashlib.sha256(raw).hexdigest()
        if self.failed.get(path) == digest:
            return  # the same content that failed before: reported already
        try:
            export = read_export(path, self.profile, data=raw, encoding=self.encoding)
        except Exception as err:  # (whatever one file does, the loop goes on: a bug shows as that file's failure)
            self._failed(path, digest, err)
            return
        try:
            self.store.refresh()
            report = apply_export(self.store, export)
        except RuleViolation as err:  # the file's records break a rule (an id twice): the file's failure
            self._failed(path, digest, err)
            return
        except (StoreError, OSError) as err:  # the store's trouble, not the file's: tried again at the next look
            self.done.pop(path, None)
            self._complain(f"{path_text(path.name)}: not synced now ({_reason(err, path)}); trying again")
            return
        except Exception as err:
            self._failed(path, digest, err)
            return
        self.failed.pop(path, None)
        self.complaint = None
        if not report.skipped or not self.as_json:
            say(json.dumps(report.counts(), ensure_ascii=False) if self.as_json else describe(report))

    def _failed(self, path: Path, digest: str, err: Exception) -> None:
        """Report the file's failure once: one line on stderr and a failed run in the store
        (which a restart finds, so it does not report the same content again)."""
        self.failed[path] = digest
        reason = _reason(err, path)
        try:
            recorded = self.store.record_failed_sync(path.name, digest, reason)
        except Exception as store_err:  # (noting a failure must not end the loop either)
            recorded = True  # not kept in the store: still said here, once
            say(f"custdesk: the failed run of {path_text(path.name)} is not recorded ({_reason(store_err, path)})", err=True)
        if recorded:
            say(f"{path_text(path.name)}: {reason}; not synced until it changes", err=True)

    def _complain(self, line: str) -> None:
        if line != self.complaint:
            say(line, err=True)
        self.complaint = line


def _reason(err: Exception, path: Path) -> str:
    """One line saying what went wrong, without the path the message may start with."""
    if isinstance(err, StoreError):
        text = str(err)
        for prefix in (f"{path_text(path)}: ", f"{path_text(path.name)}: "):
            text = text.removeprefix(prefix)
        return text
    if isinstance(err, OSError):
        return (err.strerror or str(err)).lower()
    detail = str(err).splitlines()[0] if str(err).strip() else "no detail"
    return f"cannot be synced ({type(err).__name__}: {detail})"


def _exports(folder: Path) -> Iterator[tuple[Path, _State]]:
    """Every entry named as an export: a file, or what stands in its place (a folder, a pipe,
    a broken link …), whose run then says what it is instead, once."""
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in EXPORT_SUFFIXES and not path.name.startswith("."):
            try:
                stat = path.stat()
            except OSError as err:
                if path.is_symlink():
                    yield path, f"link: {err.strerror or err}"
                continue  # (gone between the listing and the look)
            yield path, (stat.st_mode, stat.st_size, stat.st_mtime_ns)


def _sleep(seconds: float, stopping: list[int]) -> None:
    end = time.monotonic() + seconds
    while not stopping and time.monotonic() < end:
        time.sleep(min(0.05, max(0.0, end - time.monotonic())))
