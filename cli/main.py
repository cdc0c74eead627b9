"""`custdesk` on the command line (SPEC §4): the same store verbs as the app."""
from __future__ import annotations

import gc

import click

from cli.common import open_app, reports_errors
from cli.config import config
from cli.duplicates import duplicates
from cli.history import history, log
from cli.imports import imports
from cli.mail import mail
from cli.records import demo, migrate, obfuscate, picture, repair, stats, undo
from cli.serve import serve
from cli.settings import settings
from cli.sync import sync
from cli.transfer import export, import_, template
from store.paths import default_store_path, store_location


# -h beside --help on every command: subcommands inherit the group's context settings.
@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="custdesk", prog_name="custdesk", message="%(prog)s %(version)s")
@click.option("--db", metavar="FILE|URL", envvar="CUSTDESK_DB",
              help="Store file, or a PostgreSQL URL postgresql://user@host:port/database "
                   "(default: CUSTDESK_DB, else the user data folder's file).")
@click.option("--theme", metavar="NAME", help="The app's colours: one of Textual's themes (custdesk config show lists them).")
@click.pass_context
@reports_errors
def cli(ctx: click.Context, db: str | None, theme: str | None) -> None:
    """custdesk: keep a company's customer records from the keyboard."""
    ctx.obj = {"db": store_location(db) if db else default_store_path(), "theme": theme}
    if ctx.invoked_subcommand is None:
        # The app shows its first screen before opening the store, or before checking its
        # checksums (`CustdeskApp.check_store`).
        open_app(ctx)


for command in (stats, demo, repair, migrate, undo, obfuscate, picture, import_, export, template, mail, sync, serve, config,
                duplicates, imports, log, history, settings):
    cli.add_command(command)


def main() -> None:
    try:
        cli(prog_name="custdesk")
    finally:
        # The process ends here: spare the interpreter's teardown its collections over every
        # object still held (the store's tables, the modules): ~60 ms of a 3-row import at
        # 100k customers. Exit handlers run and the streams are flushed as before.
        gc.freeze()
