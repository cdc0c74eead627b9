"""`custdesk imports`: the imports run, and the mappings remembered for files of a shape."""
from __future__ import annotations

import json

import click

from cli.common import open_store, reports_errors, say
from store.rules.mappings import shown_headers

COUNTS = ("created", "updated", "skipped", "errors")


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as one JSON array.")
@click.pass_context
@reports_errors
def imports(ctx: click.Context, as_json: bool) -> None:
    """Every import, newest first: file, sheet, target, mode, key, counts, who, when, undo."""
    if ctx.invoked_subcommand is not None:
        return
    runs = open_store(ctx).import_runs()
    if as_json:
        say(json.dumps([run.as_json() for run in runs]))
        return
    if not runs:
        say("no imports yet (custdesk import FILE)")
        return
    for run in runs:
        where = (run.file or "(file not recorded)") + (f", sheet '{run.sheet}'" if run.sheet else "")
        how = f" into {run.target}, {run.mode} by {run.key}" if run.target else ""
        counts = ", ".join(f"{run.counts.get(name, 0):,} {name}" for name in COUNTS) if run.counts else run.summary
        undo = {"undoable": f"undo: custdesk undo --entry {run.id}", "undone": "undone",
                "expired": "no longer undoable"}[run.undo]
        mapping = f"; mapping {run.mapping}" if run.mapping else ""
        say(f"#{run.id} {run.at} {run.user}: {where}{how}: {counts}{mapping}; {undo}")


@imports.command("mappings")
@click.option("--json", "as_json", is_flag=True, help="Print the mappings as one JSON array.")
@click.pass_context
@reports_errors
def mappings(ctx: click.Context, as_json: bool) -> None:
    """The mappings remembered for files of a shape (headers and target), newest first."""
    remembered = open_store(ctx).remembered_mappings()
    if as_json:
        say(json.dumps([m.as_json() for m in remembered]))
        return
    if not remembered:
        say("no remembered mappings (a mapping corrected in the review, or given with --map, is remembered on import)")
        return
    for m in remembered:
        say(f"{m.id} into {m.target}: {m.message()}; columns {shown_headers([c for c, _ in m.columns])}")
        for column, field in m.columns:
            say(f"  {shown_headers([column])} → {field or '(not imported)'}")
    say("forget one with: custdesk imports forget ID")


@imports.command("forget")
@click.argument("mapping_id", metavar="ID")
@click.pass_context
@reports_errors
def forget(ctx: click.Context, mapping_id: str) -> None:
    """Forget the remembered mapping ID: the next file of its shape is mapped afresh."""
    forgotten = open_store(ctx).forget_mapping(mapping_id)
    say(f"forgot {forgotten.id}, the {forgotten.message()}")
