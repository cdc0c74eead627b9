"""Store-wide commands: counts, the demo store, repair, undo, the obfuscation policy;
a customer's picture."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cli.common import fail, open_app, open_store, reports_errors, say
from cli.summaries import numbers_text
from store.base.errors import RuleViolation
from store.base.text import path_text
from store.model import CUSTOMERS
from store.paths import shown_location


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@click.pass_context
@reports_errors
def stats(ctx: click.Context, as_json: bool) -> None:
    """Count customers (active, inactive, corporate, private) and prospects."""
    from store.views.counts import quick_stats

    # The counts kept in the store's files answer without opening it (no table is read);
    # a store written before they were kept is opened and counted.
    path = ctx.obj["db"]
    counts = quick_stats(path) or open_store(ctx).stats()
    if as_json:
        say(json.dumps(counts))
        return
    say(shown_location(path))
    for name, value in counts.items():
        say(f"  {name:<10} {value:>9,}")


@click.command()
@click.option("--customers", default=2000, show_default=True, type=click.IntRange(1, 5_000_000),
              help="How many customers to create.")
@click.option("--seed", default=7, show_default=True, help="Random seed: the same seed builds the same store.")
@click.option("--no-tui", is_flag=True, help="Only build the store.")
@click.pass_context
@reports_errors
def demo(ctx: click.Context, customers: int, seed: int, no_tui: bool) -> None:
    """Build a store of realistic demo customers (refused on a store that has data)."""
    from importers.demo import build_demo

    from .progress import terminal_progress

    store = open_store(ctx)
    with terminal_progress() as progress:
        counts = build_demo(store, customers=customers, seed=seed, progress=progress)
    say(f"demo store {store.where}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    if not no_tui:
        open_app(ctx, store)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.pass_context
@reports_errors
def repair(ctx: click.Context, as_json: bool) -> None:
    """Keep every intact record of a damaged store in a new whole store; the damaged files
    are moved aside (NAME.damaged-TIME), never deleted. An intact store is left as it is."""
    from store.admin.repair import repair_store

    report = repair_store(ctx.obj["db"])
    if as_json:
        say(json.dumps(report))
        return
    where = path_text(report["store"])
    if report["intact"]:
        say(f"{where}: nothing to repair: every table, the change log and the columns file check out; "
            "nothing was changed")
        return
    say(f"{where}: damaged: {', '.join(report['damage'])}; a new store was written from every intact record")
    for table, found in report["tables"].items():
        say(f"  {table:<14} {found['kept']:>9,} kept  {_table_loss(found)}")
    say(f"  change log: {report['kept']:,} commit(s) kept ({report['already_in_store_file']:,} already in the "
        f"store file), {len(report['dropped']):,} damaged line(s) dropped")
    for first, last in report["missing_commits"]:
        say(f"  commits {first}–{last} were in damaged lines and are lost")
    for copy in report["backups"]:
        say(f"  the damaged file is kept as {path_text(copy)}")


def _table_loss(found: dict[str, Any]) -> str:
    """What a table lost, as `repair` says it: one line per table."""
    if found["state"] == "intact":
        return "intact"
    if found["state"] == "missing":
        return "lost: the table could not be found (its documents cannot be counted)"
    # Without a witness the lost are counted as the lines that could not be read (a flipped
    # newline may split one document in two lines, or join two in one).
    said = [f"{found['lost']:,} lost" if found["witnessed"] else f"{found['lost']:,} unreadable line(s) dropped"]
    if found["restored_from_log"]:
        said.append(f"{found['restored_from_log']:,} restored from the change log")
    if found["witnessed"]:
        said.append(f"the kept ones match the columns file ({', '.join(found['witnessed'])}); their other fields "
                    "are as read")
    elif found["unwitnessed"]:
        said.append(f"{found['unwitnessed']:,} kept as read (nothing else holds their values to compare)")
    return "damaged: " + ", ".join(said)


@click.command()
@click.argument("source", metavar="SRC")
@click.argument("target", metavar="DST")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@reports_errors
def migrate(source: str, target: str, as_json: bool) -> None:
    """Copy the store SRC into the new, empty store DST: a file or a PostgreSQL URL each
    (postgresql://user@host:port/database). The copy is read back and checked against
    SRC (documents per table, a checksum over all of them); SRC is left as it was."""
    from store.admin.migrate import migrate as copy_store
    from store.paths import store_location

    report = copy_store(store_location(source), store_location(target))
    if as_json:
        say(json.dumps(report))
        return
    documents = report["documents"]
    say(f"{report['source']} → {report['target']}: {sum(documents.values()):,} documents, "
        f"{report['pictures']:,} picture(s); checked: counts and checksum match")
    for table, count in documents.items():
        if count:
            say(f"  {table:<14} {count:>10,}")
    say(f"  sha256 {report['checksum']}")


@click.command()
@click.option("--entry", type=int, help="The journal entry to undo (e.g. an import); default: the last undoable action.")
@click.pass_context
@reports_errors
def undo(ctx: click.Context, entry: int | None) -> None:
    """Undo the last destructive action (merge, delete, deactivate, import …) or a given one."""
    undone = open_store(ctx).undo(entry)
    say(f"undid #{undone['id']}: {undone['summary']}")


@click.command()
@click.option("--inactive-days", "typed", type=int, required=True,
              help="Obfuscate customers inactive for at least this many days (and with obfuscation enabled).")
@click.option("--dry-run", is_flag=True, help="Report who would be obfuscated and who refused; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.pass_context
@reports_errors
def obfuscate(ctx: click.Context, typed: int, dry_run: bool, as_json: bool) -> None:
    """The obfuscation policy run (irreversible unless --dry-run)."""
    from store.rules.settings import inactive_days  # (country names: not for every command's start)

    try:  # the store's rule, told here with the flag that gave the days
        days = inactive_days(typed)
    except RuleViolation as err:
        fail(f"--inactive-days: {err}")
    report = open_store(ctx).obfuscate_inactive(days, dry_run=dry_run)
    if as_json:
        say(json.dumps({"dry_run": dry_run, **report}))
        return
    done = report["obfuscated"]
    say(f"{'would obfuscate' if dry_run else 'obfuscated'} {len(done)} customer(s) inactive for {days}+ days"
        + (f": {numbers_text(done)}" if done else ""))
    for refused in report["refused"]:
        say(f"refused {refused['number']}: {refused['reason']}")
    if report["opted_out"]:
        say(f"passed over {report['opted_out']} customer(s) opted out of obfuscation")
    if dry_run:
        say("dry run: nothing was changed")


@click.command()
@click.argument("number")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--remove", is_flag=True, help="Remove the customer's picture.")
@click.pass_context
@reports_errors
def picture(ctx: click.Context, number: str, file: Path | None, remove: bool) -> None:
    """Set customer NUMBER's profile picture from FILE (PNG, JPEG or WebP), or --remove it."""
    if (file is None) == (not remove):
        fail("give a picture FILE or --remove, not both or neither")
    store = open_store(ctx)
    found = store.find(CUSTOMERS, "number", number)
    if not found:
        fail(f"no customer numbered {number}")
    customer_id = found[0]["id"]
    if file is not None:
        store.set_picture(customer_id, file)
        say(f"{number}: picture set from {path_text(file)}")
    else:
        store.remove_picture(customer_id)
        say(f"{number}: picture removed")
