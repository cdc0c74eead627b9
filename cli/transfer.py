"""Files in and out: import, export, sample import files."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, get_args

import click

from cli.common import fail, open_store, reports_errors, say
from store.base.text import path_text, printable
from store.model import ImportTarget
from store.paths import read_ahead

# The Literal's own values (importers.plan has them too, but loads polars: not at every start).
TARGETS: tuple[ImportTarget, ...] = get_args(ImportTarget)

if TYPE_CHECKING:
    from importers import ImportPlan
    from store.model import JournalEntry

PROGRESS_BAR_ROWS = 10_000  # larger imports show a progress bar on a terminal


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--into", "target", default="sources", show_default=True, type=click.Choice(TARGETS), help="Where the rows go.")
@click.option("--mode", default="create", show_default=True, type=click.Choice(["create", "update", "upsert"]),
              help="create: skip rows that exist; update: only change existing; upsert: both.")
@click.option("--key", default="email", show_default=True,
              type=click.Choice(["email", "number", "external_id", "vat_id", "phone"]),
              help="The field that says a row is an existing record.")
@click.option("--duplicates", "duplicates", default="queue", show_default=True, type=click.Choice(["queue", "skip", "keep"]),
              help="A likely duplicate (the matcher's, or a shared email/phone/VAT id): queue: import it and queue it "
                   "for review (custdesk duplicates, D); skip: leave it out; keep: also write key matches as new records "
                   "and queue them (--mode create).")
@click.option("--sheet", help="Sheet of a workbook (default: the first that holds data).")
@click.option("--encoding", metavar="NAME", help="A text file's encoding, e.g. windows-1250 (default: detected, or refused).")
@click.option("--country", metavar="XX", help="Region (ISO code) of phones whose row has no Country (default: the store's).")
@click.option("--map", "maps", multiple=True, metavar='"Header=field"', help="Map a column by hand (repeatable; field - skips it).")
@click.option("--no-remembered-mapping", "forget_mapping", is_flag=True,
              help="Map the columns afresh: ignore the mapping remembered for files of these headers (custdesk imports mappings).")
@click.option("--dry-run", is_flag=True, help="Plan and report; write nothing.")
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows; leave the rows with errors out.")
@click.option("--errors", "errors_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write errors and warnings (row, column, value, message) to this CSV.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@click.pass_context
@reports_errors
def import_(ctx: click.Context, file: Path, target: ImportTarget, mode: str, key: str, duplicates: str, sheet: str | None,
            country: str | None, maps: tuple[str, ...], forget_mapping: bool, dry_run: bool, skip_invalid: bool,
            errors_out: Path | None, as_json: bool, encoding: str | None) -> None:
    """Import customers or prospects from a .csv, .tsv, .xlsx, .xls, .ods or .vcf FILE."""
    read_ahead(ctx.obj["db"])  # (the store file's fields decoded on a thread meanwhile)
    from cli.checking import open_for_planning
    from importers import plan_import, read_table
    from importers.mapping import MappingError, parse_overrides

    try:
        overrides = parse_overrides(maps)
    except MappingError as err:
        fail(str(err))
    table = read_table(file, sheet, encoding=encoding)
    store = open_for_planning(ctx, dry_run=dry_run)  # (its checksums summed while the rows are planned)
    try:
        plan = plan_import(store, table, target=target, mode=mode, key=key, overrides=overrides, country=country,
                           duplicates=duplicates, remembered=not forget_mapping)
    except MappingError as err:
        fail(str(err))
    if errors_out is not None:
        plan.write_error_log(errors_out, store.files())
    blocked = plan.blocked and not skip_invalid
    entry = None
    if not (dry_run or blocked) and plan.writes():
        batch = plan.batch()
        total = len(batch.creates) + len(batch.updates)
        if total > PROGRESS_BAR_ROWS and sys.stderr.isatty() and not as_json:
            with click.progressbar(length=total, label="saving", file=sys.stderr) as bar:
                entry = store.apply_batch(batch, progress=lambda done, _total: bar.update(done - bar.pos))
                bar.update(total - bar.pos)
        else:
            entry = store.apply_batch(batch)
    counts = plan.counts()
    if plan.file_region is not None:
        other = plan.file_region.default
        say(f"{path_text(file.name)}: {printable(plan.file_region.message())}"
            + (f"; --country {other} reads them as {other}" if other else ""), err=True)
    if plan.suggestion is not None:
        say(f"{path_text(file.name)}: {plan.suggestion.message()}: import with --country {plan.suggestion.region}", err=True)
    if as_json:
        if plan.remembered is not None:
            say(f"{path_text(file.name)}: {printable(plan.remembered.message())}", err=True)
        say(json.dumps(counts))
    else:
        _print_import(plan, counts, dry_run=dry_run, blocked=blocked, entry=entry)
    if blocked:
        sys.exit(1)


def _print_import(plan: ImportPlan, counts: dict[str, int], *, dry_run: bool, blocked: bool, entry: JournalEntry | None) -> None:
    from importers.reading import how_read

    table = plan.table
    where = path_text(table.path.name) + (f", sheet '{table.sheet}'" if table.sheet else "")
    if plan.remembered is not None:
        say(f"{where}: {printable(plan.remembered.message())} (ignore it with --no-remembered-mapping)")
    read = how_read(table)
    say(f"{where}: {read + '; ' if read else ''}" + (f"header on row {table.header_row}; " if table.header_row else "") + "columns:")
    for m in plan.mappings:
        how = {"synonym": "", "manual": "", "unmapped": "", "remembered": " (remembered)"}.get(
            m.how, f" ({m.how}, {m.confidence:.0%} sure)")
        say(f"  {printable(m.column)} → {m.field or '(kept in the raw row only)'}{how}")
    say(f"{where}: {counts['rows']:,} row{'' if counts['rows'] == 1 else 's'} → {counts['created']:,} new, {counts['updated']:,} updated, "
               f"{counts['unchanged']:,} unchanged, {counts['skipped']:,} skipped, {counts['duplicates']:,} duplicate "
               f"({counts['queued']:,} queued for review), "
               f"{counts['errors']:,} with errors, {counts['warnings']:,} warnings")
    for issue in plan.issues[:10]:
        say(f"  row {issue.row}, {issue.column}: {issue.message}", err=True)
    if len(plan.issues) > 10:
        say(f"  … and {len(plan.issues) - 10:,} more (write them all with --errors OUT.csv)", err=True)
    if blocked:
        say("nothing written: rows have errors (fix them, or import the valid rows with --skip-invalid)", err=True)
    elif dry_run:
        say("dry run: nothing written")
    elif entry is None:
        say("nothing to write")
    else:
        say(f"imported as journal entry #{entry['id']}; revert it with: custdesk undo --entry {entry['id']}")
        if plan.overrides:
            say("mapping remembered for the next file with these headers (custdesk imports mappings lists it)")


@click.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@reports_errors
def export(ctx: click.Context, out: Path) -> None:
    """Write all customers to OUT (.csv, .xlsx or .vcf); logged on each customer."""
    from exporters.customers import export_customers

    from .progress import terminal_progress

    with terminal_progress() as progress:
        count = export_customers(open_store(ctx), out, progress=progress)
    say(f"exported {count:,} customers to {path_text(out)}")


@click.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--into", "target", default="sources", show_default=True, type=click.Choice(TARGETS),
              help="The import the sample is for.")
@reports_errors
def template(out: Path, target: ImportTarget) -> None:
    """Write a sample import file OUT (.csv or .xlsx): the headers and one example row."""
    from importers.templates import write_template

    write_template(out, target)
    say(f"wrote the {target} import template to {path_text(out)}")
