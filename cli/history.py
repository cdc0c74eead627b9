"""`custdesk log` and `custdesk history`: the journal read back, store-wide or for one customer."""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import click

from cli.common import open_store, reports_errors, say
from store.base.errors import RuleViolation

if TYPE_CHECKING:  # (loaded by the commands, not by `custdesk --help`: the store loads polars)
    from store import Store
    from store.domain.history import Change, Event, History, LogEntry
    from tui.dates import Dates

    Journal = History | Store

T = TypeVar("T")
# Customers named on one line of the log; the rest are counted.
NAMED_ON_A_LINE = 3


def from_the_files(ctx: click.Context, read: Callable[[Journal], T]) -> T:
    """What `read` gets from the store file's journal read without opening the store (a
    fraction of the open's time at 100k customers), else from the store opened (a
    PostgreSQL store, a file TinyDB wrote)."""
    from store.views.journal import quick_history

    journal = quick_history(ctx.obj["db"])
    return read(journal if journal is not None else open_store(ctx))


def _dates() -> Dates:
    """Times as the app shows them: in the user's date format and the local time zone."""
    from tui.config import load_config  # (its country names' table: not for every command's start)
    from tui.dates import Dates

    return Dates(load_config(app=False).date_format)


@click.command()
@click.option("--customer", "number", metavar="NUMBER", help="Only the entries that touched this customer (or its records).")
@click.option("--since", metavar="DATE", help="Only entries from this date or time on (YYYY-MM-DD[THH:MM], local time).")
@click.option("--limit", type=click.IntRange(1), metavar="N", help="At most N entries, the newest.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry.")
@click.pass_context
@reports_errors
def log(ctx: click.Context, number: str | None, since: str | None, limit: int | None, as_json: bool) -> None:
    """The journal, newest first: who did what, when, to which records, and whether it can be undone."""
    from store.domain.history import parse_since

    try:
        moment = parse_since(since) if since is not None else None
    except RuleViolation as err:
        raise RuleViolation(f"--since: {err}") from None
    def read(journal: Journal) -> list[LogEntry]:
        return journal.log(journal.customer_id(number) if number is not None else None, moment, limit)

    entries = from_the_files(ctx, read)
    dates = _dates()
    for entry in entries:
        say(json.dumps(entry, ensure_ascii=False) if as_json else _log_line(entry, dates.shown(entry["at"])))
    if not entries and not as_json:
        say("no journal entries" + (f" for {number}" if number else "") + (f" since {since}" if since else ""), err=True)


def _log_line(entry: LogEntry, when: str) -> str:
    from store.domain.history import counted

    named = entry["customers"]
    records = ", ".join(named[:NAMED_ON_A_LINE]) + (f" and {len(named) - NAMED_ON_A_LINE} more" if len(named) > NAMED_ON_A_LINE
                                                     else "")
    counts = counted(entry["counts"])
    state = f"  [{entry['state']}]" if entry["state"] else ""
    return f"#{entry['id']:<5} {when}  {entry['user']:<10} {entry['action']:<14} {entry['summary']}" + (
        f"  ({records or counts})" if records or counts else "") + state


@click.command()
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per change (field, old, new, who, when, entry).")
@click.pass_context
@reports_errors
def history(ctx: click.Context, number: str, as_json: bool) -> None:
    """Customer NUMBER's timeline, oldest first: every change to it and its records, field by field."""
    events = from_the_files(ctx, lambda journal: journal.history(journal.customer_id(number)))
    if as_json:
        for event in events:
            for row in _json_rows(event):
                say(json.dumps(row, ensure_ascii=False))
        return
    dates = _dates()
    for event in events:
        what = f"  ({event['what']})" if event["what"] and not event["changes"] else ""
        say(f"{dates.shown(event['at'])}  {event['user']}  #{event['entry']} {event['action']}: {event['summary']}{what}"
            + (f"  [{event['state']}]" if event["state"] else ""))
        for change in event["changes"]:
            say("    " + _change_line(change, dates))


def _json_rows(event: Event) -> list[Mapping[str, Any]]:
    """One row per changed field; an entry that changed no field of the customer's is one row without one."""
    head = {"entry": event["entry"], "when": event["at"], "who": event["user"], "action": event["action"],
            "summary": event["summary"], "what": event["what"]}
    if not event["changes"]:
        return [{**head, "record": None, "field": None, "old": None, "new": None, "hidden": False}]
    return [{**head, **change} for change in event["changes"]]


def _change_line(change: Change, dates: Dates) -> str:
    from store.domain.history import field_named

    return f"{field_named(change)}: {dates.change(change['field'], change['old'], change['new'], change['hidden'])}"
