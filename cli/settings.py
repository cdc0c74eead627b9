"""The store's settings on the command line: the same fields and checks as the app's Settings (`,`)."""
from __future__ import annotations

import json
from typing import Any

import click

from cli.common import open_store, reports_errors, say
from store.model import DEFAULT_SETTINGS


def shown(value: Any) -> str:
    if value is None or value == "":
        return "(not set)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@click.group()
def settings() -> None:
    """The store's settings: sender, reply address, shop name, public address, countries, retention."""


@settings.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print them as one JSON object.")
@click.pass_context
@reports_errors
def settings_show(ctx: click.Context, as_json: bool) -> None:
    """Print every setting and its value."""
    current = open_store(ctx).settings
    values = {key: current[key] for key in DEFAULT_SETTINGS}
    if as_json:
        say(json.dumps(values, ensure_ascii=False))
        return
    width = max(map(len, values))
    for key, value in values.items():
        say(f"{key:<{width}}  {shown(value)}")


@settings.command("set")
@click.argument("key")
@click.argument("value")
@click.pass_context
@reports_errors
def settings_set(ctx: click.Context, key: str, value: str) -> None:
    """Set KEY (one `settings show` lists) to VALUE; '' clears reply_to, shop_name, public_url
    and default_country. Refused, with nothing written, when VALUE breaks the setting's rule."""
    saved = open_store(ctx).update_settings(**{key: value})
    say(f"{key} = {shown(saved[key])}")
