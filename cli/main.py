"""`custdesk` on the command line (SPEC §4): the same store verbs as the app."""
from __future__ import annotations

import gc
import importlib
from collections.abc import Iterator, Mapping, MutableMapping

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


class LazyCommands(MutableMapping[str, click.Command]):
    """The group's commands by name (`COMMANDS`), each imported when first looked up: click's
    help, completion and "Did you mean" read the names alone."""

    def __init__(self, where: Mapping[str, str]) -> None:
        self._where = dict(where)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module, attribute = self._where[name].split(":")
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command) and command.name == name, self._where[name]
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._where.setdefault(name, "")
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._where[name]
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


# -h beside --help on every command: subcommands inherit the group's context settings.
@click.group(commands=LazyCommands(COMMANDS), invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
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
