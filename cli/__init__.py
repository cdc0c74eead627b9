"""`custdesk` on the command line (SPEC §4): the same store verbs as the app."""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Callable

import click

from store import Store, StoreError
from store.paths import default_store_path
from store.text import printable

PROGRESS_BAR_ROWS = 10_000  # larger imports show a progress bar on a terminal


def _say(text: str, err: bool = False, *, lines: bool = False) -> None:
    """Everything the command line prints: data in it cannot steer the terminal (an ESC,
    an OSC 52 clipboard write, a CR that overwrites the line are shown as symbols), and
    one line stays one line unless `lines` (a message body shown as it is)."""
    click.echo(printable(text, keep_lines=lines), err=err)


def _read_utf8(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        _fail(f"{path}: not UTF-8 text (byte {err.start:,}); save it as UTF-8")
        raise  # _fail exits; this line is never reached


def _fail(message: str, code: int = 2) -> None:
    _say(f"custdesk: {message}", err=True)
    sys.exit(code)


def reports_errors(func: Callable) -> Callable:
    """Turn a refusal or an unreadable file into one line on stderr and exit 2."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except StoreError as err:
            _fail(str(err))
        except OSError as err:
            _fail(f"{err.filename or ''}: {err.strerror or err}".lstrip(": "))
    return wrapper


def open_store(ctx: click.Context) -> Store:
    store = Store(ctx.obj["db"])
    ctx.call_on_close(store.close)
    return store


@click.group(invoke_without_command=True)
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), envvar="CUSTDESK_DB",
              help="Store file (default: CUSTDESK_DB, else the user data folder).")
@click.pass_context
@reports_errors
def cli(ctx: click.Context, db: Path | None) -> None:
    """custdesk: keep a company's customer records from the keyboard."""
    ctx.obj = {"db": db or default_store_path()}
    if ctx.invoked_subcommand is None:
        open_app(open_store(ctx))


def _print_stats(store: Store, as_json: bool) -> None:
    counts = store.stats()
    if as_json:
        _say(json.dumps(counts))
        return
    _say(f"{store.path}")
    for name, value in counts.items():
        _say(f"  {name:<10} {value:>9,}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@click.pass_context
@reports_errors
def stats(ctx: click.Context, as_json: bool) -> None:
    """Count customers (active, inactive, corporate, private) and prospects."""
    _print_stats(open_store(ctx), as_json)


@cli.command()
@click.option("--customers", default=2000, show_default=True, type=click.IntRange(1, 5_000_000),
              help="How many customers to create.")
@click.option("--seed", default=7, show_default=True, help="Random seed: the same seed builds the same store.")
@click.option("--no-tui", is_flag=True, help="Only build the store.")
@click.pass_context
@reports_errors
def demo(ctx: click.Context, customers: int, seed: int, no_tui: bool) -> None:
    """Build a store of realistic demo customers (refused on a store that has data)."""
    from importers.demo import build_demo

    store = open_store(ctx)
    if store.customer_count() or any(True for _ in store.sources()):
        _fail(f"{store.path}: the store already holds data; demo data goes into a new store (use --db)")
    counts = build_demo(store, customers=customers, seed=seed)
    _say(f"demo store {store.path}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    if not no_tui:
        open_app(store)


def open_app(store: Store) -> None:
    """Open the terminal app on the store."""
    from .app import CustdeskApp

    CustdeskApp(store).run()


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.pass_context
@reports_errors
def repair(ctx: click.Context, as_json: bool) -> None:
    """Keep every intact record of a damaged store (the damaged files are copied aside first)."""
    from store.maintenance import repair_store

    report = repair_store(ctx.obj["db"])
    if as_json:
        _say(json.dumps(report))
        return
    _say(f"{report['store']}: store file {report['store_file']}; kept {report['kept']:,} commit(s) from the change log "
         f"({report['already_in_store_file']:,} already in the store file)")
    for damage in report["dropped"]:
        _say(f"  dropped a damaged log line at byte {damage['byte']:,} ({damage['length']:,} bytes)")
    for first, last in report["missing_commits"]:
        _say(f"  commits {first}–{last} were in damaged lines and are lost")
    for copy in report["backups"]:
        _say(f"  the damaged file is kept as {copy}")


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@reports_errors
def export(ctx: click.Context, out: Path) -> None:
    """Write all customers to OUT (.csv, .xlsx or .vcf); logged on each customer."""
    from exporters.customers import export_customers

    count = export_customers(open_store(ctx), out)
    _say(f"exported {count:,} customers to {out}")


@cli.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--into", "target", default="sources", show_default=True,
              type=click.Choice(["sources", "corporate", "private"]), help="Where the rows go.")
@click.option("--mode", default="create", show_default=True, type=click.Choice(["create", "update", "upsert"]),
              help="create: skip rows that exist; update: only change existing; upsert: both.")
@click.option("--key", default="email", show_default=True,
              type=click.Choice(["email", "number", "external_id", "vat_id", "phone"]),
              help="The field that says a row is an existing record.")
@click.option("--sheet", help="Sheet of a workbook (default: the first that holds data).")
@click.option("--country", metavar="XX", help="Region (ISO code) of phones whose row has no Country (default: the store's).")
@click.option("--map", "maps", multiple=True, metavar='"Header=field"', help="Map a column by hand (repeatable; field - skips it).")
@click.option("--dry-run", is_flag=True, help="Plan and report; write nothing.")
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows; leave the rows with errors out.")
@click.option("--errors", "errors_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write errors and warnings (row, column, value, message) to this CSV.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@click.pass_context
@reports_errors
def import_(ctx: click.Context, file: Path, target: str, mode: str, key: str, sheet: str | None, country: str | None,
            maps: tuple[str, ...], dry_run: bool, skip_invalid: bool, errors_out: Path | None, as_json: bool) -> None:
    """Import customers or prospects from a .csv, .tsv, .xlsx, .xls or .ods FILE."""
    from importers import plan_import, read_table
    from importers.mapping import MappingError, parse_overrides

    try:
        overrides = parse_overrides(maps)
    except MappingError as err:
        _fail(str(err))
    store = open_store(ctx)
    table = read_table(file, sheet)
    try:
        plan = plan_import(store, table, target=target, mode=mode, key=key, overrides=overrides, country=country)
    except MappingError as err:
        _fail(str(err))
    if errors_out is not None:
        plan.write_error_log(errors_out, store.files())
    blocked = plan.blocked and not skip_invalid
    entry = None
    if not (dry_run or blocked) and (plan.count("new") or plan.count("update")):
        batch = plan.batch()
        total = len(batch.creates) + len(batch.updates)
        if total > PROGRESS_BAR_ROWS and sys.stderr.isatty() and not as_json:
            with click.progressbar(length=total, label="saving", file=sys.stderr) as bar:
                entry = store.apply_batch(batch, progress=lambda done, _total: bar.update(done - bar.pos))
                bar.update(total - bar.pos)
        else:
            entry = store.apply_batch(batch)
    counts = plan.counts()
    if plan.suggestion is not None:
        _say(f"{file.name}: {plan.suggestion.message()}: import with --country {plan.suggestion.region}", err=True)
    if as_json:
        _say(json.dumps(counts))
    else:
        _print_import(plan, counts, dry_run=dry_run, blocked=blocked, entry=entry)
    if blocked:
        sys.exit(1)


def _print_import(plan, counts: dict, *, dry_run: bool, blocked: bool, entry: dict | None) -> None:
    table = plan.table
    where = table.path.name + (f", sheet '{table.sheet}'" if table.sheet else "")
    _say(f"{where}: header on row {table.header_row}; columns:")
    for m in plan.mappings:
        how = "" if m.how in ("synonym", "manual", "unmapped") else f" ({m.how}, {m.confidence:.0%} sure)"
        _say(f"  {m.column} → {m.field or '(kept in the raw row only)'}{how}")
    _say(f"{where}: {counts['rows']:,} row{'' if counts['rows'] == 1 else 's'} → {counts['created']:,} new, {counts['updated']:,} updated, "
               f"{counts['unchanged']:,} unchanged, {counts['skipped']:,} skipped, {counts['duplicates']:,} duplicate, "
               f"{counts['errors']:,} with errors, {counts['warnings']:,} warnings")
    for issue in plan.issues[:10]:
        _say(f"  row {issue.row}, {issue.column}: {issue.message}", err=True)
    if len(plan.issues) > 10:
        _say(f"  … and {len(plan.issues) - 10:,} more (write them all with --errors OUT.csv)", err=True)
    if blocked:
        _say("nothing written: rows have errors (fix them, or import the valid rows with --skip-invalid)", err=True)
    elif dry_run:
        _say("dry run: nothing written")
    elif entry is None:
        _say("nothing to write")
    else:
        _say(f"imported as journal entry #{entry['id']}; revert it with: custdesk undo --entry {entry['id']}")


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--into", "target", default="sources", show_default=True,
              type=click.Choice(["sources", "corporate", "private"]), help="The import the sample is for.")
@reports_errors
def template(out: Path, target: str) -> None:
    """Write a sample import file OUT (.csv or .xlsx): the headers and one example row."""
    from importers.templates import write_template

    write_template(out, target)
    _say(f"wrote the {target} import template to {out}")


@cli.command()
@click.option("--entry", type=int, help="The journal entry to undo (e.g. an import); default: the last undoable action.")
@click.pass_context
@reports_errors
def undo(ctx: click.Context, entry: int | None) -> None:
    """Undo the last destructive action (merge, delete, deactivate, import …) or a given one."""
    undone = open_store(ctx).undo(entry)
    _say(f"undid #{undone['id']}: {undone['summary']}")


@cli.group()
def mail() -> None:
    """Email/SMS templates and bulk sending."""


@mail.group("templates")
def mail_templates() -> None:
    """Manage the message templates of the store."""


@mail_templates.command("list")
@click.pass_context
@reports_errors
def templates_list(ctx: click.Context) -> None:
    """List the templates."""
    for template in open_store(ctx).templates():
        _say(f"{template['name']}  ({template['channel']})  {template.get('subject') or ''}")


@mail_templates.command("add")
@click.argument("name")
@click.option("--channel", type=click.Choice(["email", "sms"]), default="email", show_default=True)
@click.option("--subject", help="Subject line (email); placeholders allowed.")
@click.option("--body", "body_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="File with the plain-text body, e.g. 'Dear {{ customer.first_name }}, …'.")
@click.option("--html", "html_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="File with an optional HTML part (email).")
@click.pass_context
@reports_errors
def templates_add(ctx: click.Context, name: str, channel: str, subject: str | None, body_file: Path,
                  html_file: Path | None) -> None:
    """Add (or replace) template NAME; refused if a placeholder is unknown."""
    html = _read_utf8(html_file) if html_file else None
    saved = open_store(ctx).save_template(name, channel, subject, _read_utf8(body_file), html)
    _say(f"saved {saved['channel']} template '{saved['name']}'")


@mail_templates.command("show")
@click.argument("name")
@click.option("--customer", "number", help="Render it for this customer number.")
@click.pass_context
@reports_errors
def templates_show(ctx: click.Context, name: str, number: str | None) -> None:
    """Show template NAME, or the message it makes for one customer."""
    from store.rules.messages import render

    store = open_store(ctx)
    template = store.template(name)
    if number:
        found = store.find("customers", "number", number)
        if not found:
            _fail(f"no customer numbered {number}")
        rendered = render(template, found[0])
        _say(f"Subject: {rendered.subject or ''}\n\n{rendered.body}", lines=True)
        return
    _say(f"{template['name']} ({template['channel']})\nSubject: {template.get('subject') or ''}\n\n{template['body']}", lines=True)


@mail_templates.command("remove")
@click.argument("name")
@click.pass_context
@reports_errors
def templates_remove(ctx: click.Context, name: str) -> None:
    """Remove template NAME."""
    open_store(ctx).remove_template(name)
    _say(f"removed template '{name}'")


@mail.command("send")
@click.option("--template", "template_name", help="The template to send.")
@click.option("--tag", help="Only customers with this tag.")
@click.option("--kind", type=click.Choice(["corporate", "private"]), help="Only this kind of customer.")
@click.option("--active-only", is_flag=True, help="Leave inactive customers out of the campaign (they are skipped anyway).")
@click.option("--smtp", metavar="HOST:PORT", help="Send through this SMTP server.")
@click.option("--starttls", is_flag=True, help="Use STARTTLS with the SMTP server.")
@click.option("--user", help="SMTP user; the password comes from CUSTDESK_SMTP_PASSWORD.")
@click.option("--outbox", type=click.Path(file_okay=False, path_type=Path), help="Write the messages as files here.")
@click.option("--resume", "campaign_id", type=int, help="Go on with an interrupted campaign: only the customers not reached.")
@click.option("--dry-run", is_flag=True, help="Render every message and report; send nothing.")
@click.pass_context
@reports_errors
def mail_send(ctx: click.Context, template_name: str | None, tag: str | None, kind: str | None, active_only: bool,
              smtp: str | None, starttls: bool, user: str | None, outbox: Path | None, campaign_id: int | None,
              dry_run: bool) -> None:
    """Send a template to the chosen customers (a campaign), or resume one."""
    import os

    from outreach.sending import Outbox, Smtp, preview, send_campaign

    store = open_store(ctx)
    if campaign_id is None and not template_name:
        _fail("say which --template to send (or --resume a campaign)")
    if not dry_run and (smtp is None) == (outbox is None):
        _fail("choose one way out: --smtp HOST:PORT or --outbox DIR")
    if campaign_id is None:
        ids = [c["id"] for c in store.customers() if (not tag or tag in (c.get("tags") or []))
               and (not kind or c["kind"] == kind) and (not active_only or c["active"])]
    else:
        campaign = store.campaign(campaign_id)
        template_name, ids = campaign["template"], campaign["recipients"]
    if dry_run:
        outgoing, skipped = preview(store, template_name, ids)
        _say(json.dumps({"would_send": len(outgoing), "skipped": skipped}))
        return
    if smtp is not None:
        host, _, port = smtp.rpartition(":")
        if not host or not port.isdigit():
            _fail(f"--smtp '{smtp}': write it as HOST:PORT")
        transport = Smtp(host, int(port), starttls=starttls, user=user, password=os.environ.get("CUSTDESK_SMTP_PASSWORD"))
    else:
        transport = Outbox(outbox)
    if campaign_id is None:
        campaign_id = store.start_campaign(template_name, ids)["id"]
    report = send_campaign(store, campaign_id, transport)
    _say(json.dumps({"campaign": campaign_id, **report.summary()}))
    if report.stopped:
        _say(f"custdesk: campaign #{campaign_id} stopped: {report.stopped}; "
                   f"go on with: custdesk mail send --resume {campaign_id} …", err=True)
        sys.exit(1)


@cli.command()
@click.option("--inactive-days", type=click.IntRange(0), required=True,
              help="Obfuscate customers inactive for at least this many days (and with obfuscation enabled).")
@click.option("--dry-run", is_flag=True, help="Report who would be obfuscated and who refused; change nothing.")
@click.pass_context
@reports_errors
def obfuscate(ctx: click.Context, inactive_days: int, dry_run: bool) -> None:
    """The obfuscation policy run (irreversible unless --dry-run)."""
    report = open_store(ctx).obfuscate_inactive(inactive_days, dry_run=dry_run)
    _say(json.dumps({"dry_run": dry_run, **report}))


def main() -> None:
    cli(prog_name="custdesk")
