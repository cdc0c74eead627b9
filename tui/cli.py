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


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"custdesk: {message}", err=True)
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
        click.echo(json.dumps(counts))
        return
    click.echo(f"{store.path}")
    for name, value in counts.items():
        click.echo(f"  {name:<10} {value:>9,}")


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
    from store.demo import build_demo

    store = open_store(ctx)
    if store.customer_count() or any(True for _ in store.sources()):
        _fail(f"{store.path}: the store already holds data; demo data goes into a new store (use --db)")
    counts = build_demo(store, customers=customers, seed=seed)
    click.echo(f"demo store {store.path}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    if not no_tui:
        open_app(store)


def open_app(store: Store) -> None:
    """What `custdesk` shows on a store: for now its counts (the app arrives with the TUI)."""
    _print_stats(store, as_json=False)


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@reports_errors
def export(ctx: click.Context, out: Path) -> None:
    """Write all customers to OUT (.csv, .xlsx or .vcf); logged on each customer."""
    from store.export import export_customers

    count = export_customers(open_store(ctx), out)
    click.echo(f"exported {count:,} customers to {out}")


def main() -> None:
    cli(prog_name="custdesk")
