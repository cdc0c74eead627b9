"""`custdesk sync conflicts` and `custdesk sync resolve`: the sync conflicts still open,
settled by taking the accounting value or keeping ours (store.domain.sync_conflicts)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from cli.common import fail, open_store, reports_errors, say

if TYPE_CHECKING:
    from store.domain.sync_conflicts import SyncConflict

USAGE = "give NUMBER FIELD accounting|here, or --run ENTRY accounting|here"


@click.command("conflicts")
@click.option("--json", "as_json", is_flag=True, help="Print the conflicts as one JSON array of objects.")
@click.pass_context
@reports_errors
def conflicts(ctx: click.Context, as_json: bool) -> None:
    """List the sync conflicts still open (a field edited here and changed in accounting too):
    the customer, the field, the value here and accounting's, and the run that reported it."""
    from store.domain.sync_conflicts import shown_value

    rows = [_row(conflict) for conflict in open_store(ctx).sync_conflicts()]
    if as_json:
        say(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        say("no open sync conflicts")
    for row in rows:
        say(f"{row['number']}  {row['name']}  {row['field']}: here {shown_value(row['here'])}, "
            f"accounting {shown_value(row['accounting'])}  (run #{row['run']} {row['file']}, {row['when']})")


@click.command("resolve")
@click.argument("target", nargs=-1, metavar="NUMBER FIELD accounting|here")
@click.option("--run", "run_id", type=int, metavar="ENTRY",
              help="Settle every open conflict of this sync run (its journal entry): ENTRY accounting|here.")
@click.option("--rev", type=int, metavar="N", help="Refuse if the customer's revision is no longer N (sync conflicts --json).")
@click.pass_context
@reports_errors
def resolve(ctx: click.Context, target: tuple[str, ...], run_id: int | None, rev: int | None) -> None:
    """Settle a sync conflict: take the accounting value (`accounting`, checked as an edit is)
    or keep ours (`here`: not reported again until accounting changes it again). One
    journaled entry, which `custdesk undo` takes back."""
    if len(target) != (3 if run_id is None else 1) or (run_id is not None and rev is not None):
        fail(USAGE)
    from store.domain.sync_conflicts import side_of

    side = side_of(target[-1])
    store = open_store(ctx)
    if run_id is None:
        entry = store.resolve_conflict(target[0], target[1], side, expected_rev=rev)
    else:
        entry = store.resolve_run_conflicts(run_id, side)
    say(f"{entry['summary']}; custdesk undo --entry {entry['id']} undoes it")


def _row(conflict: SyncConflict) -> dict[str, Any]:
    """What the command line prints of a conflict."""
    return {"number": conflict["number"], "name": conflict["name"], "field": conflict["field"], "here": conflict["here"],
            "accounting": conflict["accounting"], "run": conflict["run"], "file": conflict["file"],
            "profile": conflict["profile"], "when": conflict["at"], "rev": conflict["rev"]}
