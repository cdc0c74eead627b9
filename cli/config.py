"""The user's configuration file: where it is, and what is in force."""
from __future__ import annotations

import click

from cli.common import reports_errors, say
from store.base.text import path_text


@click.group()
def config() -> None:
    """The configuration file: theme, default country, date format, keys (see README)."""


@config.command("path")
def path() -> None:
    """Print where the configuration file is (it may not exist yet)."""
    from tui.config import config_path

    say(path_text(config_path()))


@config.command("show")
@click.pass_context
@reports_errors
def show(ctx: click.Context) -> None:
    """Print the configuration in force as TOML, with every binding id and its default key."""
    from tui.app import CustdeskApp
    from tui.config import describe, load_config
    from tui.keymap import checked, offer

    offered = offer(CustdeskApp)  # (every screen's bindings: the app's own, as it starts with them)
    say(describe(checked(load_config(theme=ctx.obj.get("theme")), CustdeskApp, offered), offered), lines=True)
