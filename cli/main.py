"""`custdesk` on the command line (SPEC §4): the same store verbs as the app."""
from __future__ import annotations

import gc
import importlib

import click

from cli.common import open_app, reports_errors
from store.paths import default_store_path, store_location

# Each command's module, imported when the command runs (or help lists it): a command's start
# does not wait for the others' (their imports cost ~10 ms of a 3-row import).
COMMANDS = {
    "stats": "cli.records:stats", "demo": "cli.records:demo", "repair": "cli.records:repair",
    "migrate": "cli.records:migrate", "undo": "cli.records:undo", "obfuscate": "cli.records:obfuscate",
    "picture": "cli.records:picture", "import": "cli.transfer:import_", "export": "cli.transfer:export",
    "template": "cli.transfer:template", "mail": "cli.mail:mail", "sync": "cli.sync:sync", "serve": "cli.serve:serve",
    "config": "cli.config:config", "duplicates": "cli.duplicates:duplicates", "imports": "cli.imports:imports",
    "log": "cli.history:log", "history": "cli.history:history", "settings": "cli.settings:settings",
}


class Commands(click.Group):
    """The group of `COMMANDS`, each imported when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        module, name = where.split(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command) and command.name == cmd_name, where
        return command


# -h beside --help on every command: subcommands inherit the group's context settings.
@click.group(cls=Commands, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    try:
        cli(prog_name="custdesk")
    finally:
        # The process ends here: spare the interpreter's teardown its collections over every
        # object still held (the store's tables, the modules): ~60 ms of a 3-row import at
        # 100k customers. Exit handlers run and the streams are flushed as before.
        gc.freeze()
