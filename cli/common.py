"""What every command shares: printing safely, one-line refusals, the store it works on."""
from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, ParamSpec, TypeVar

import click

from store.base.errors import StoreError
from store.base.files import read_regular
from store.base.text import printable
from store.paths import forget_cached_pages

if TYPE_CHECKING:
    from store import Store


def say(text: str, err: bool = False, *, lines: bool = False) -> None:
    """Everything the command line prints: data in it cannot steer the terminal (an ESC,
    an OSC 52 clipboard write, a CR that overwrites the line are shown as symbols), and
    one line stays one line unless `lines` (a message body shown as it is)."""
    click.echo(printable(text, keep_lines=lines), err=err)


# A text file given on the command line (a template's body or HTML part): a letter, not a book.
MAX_TEXT_BYTES = 1024 * 1024


def read_utf8(path: Path) -> str:
    """The UTF-8 text of a regular file of at most `MAX_TEXT_BYTES`, or one line and exit 2."""
    try:
        return read_regular(path, MAX_TEXT_BYTES, "a text file").decode("utf-8")
    except StoreError as err:
        fail(str(err))
    except UnicodeDecodeError as err:
        fail(f"{path}: not UTF-8 text (byte {err.start:,}); save it as UTF-8")


def fail(message: str, code: int = 2) -> NoReturn:
    say(f"custdesk: {message}", err=True)
    sys.exit(code)


P = ParamSpec("P")
R = TypeVar("R")


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a refusal, an unreadable file or a file too large for the memory into one line
    on stderr and exit 2; a reader that stopped reading (a closed pipe) into a quiet exit."""
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except StoreError as err:
            fail(str(err))
        except BrokenPipeError:
            # The reader stopped (`custdesk log | head`): nothing is wrong and nothing more is
            # said; what is left to print goes nowhere, as the shell's own tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
        except OSError as err:
            fail(f"{err.filename or ''}: {err.strerror or err}".lstrip(": "))
        except MemoryError:
            fail("out of memory: the input is more than this machine holds at once; split it")
    return wrapper


# The commands that may make the store they are given, besides the app's first start
# (`custdesk` alone); any other finds none at a mistyped --db and says so ("no store at
# PATH", exit 2) rather than making an empty one to work on.
CREATING_COMMANDS = frozenset({"demo", "import", "sync", "serve"})


def open_store(ctx: click.Context, *, verify: bool = True) -> Store:
    """The store of --db, with the user's default country (config.toml); `verify=False`
    leaves checking its large tables to `Store.verify`. Created when missing only by the
    app and the `CREATING_COMMANDS`."""
    from store import NoStore, Store
    from tui.config import load_config

    country = load_config(app=False).default_country
    try:
        store = Store(ctx.obj["db"], verify=verify, default_country=country, create=may_create(ctx))
    except NoStore:
        if not ctx.params.get("dry_run"):
            raise
        # A dry run into a store not made yet: planned against an empty one, made nowhere
        # the user will find it (a first import tried out makes no store).
        import tempfile

        scratch = tempfile.TemporaryDirectory(prefix="custdesk-dry-run-")
        ctx.call_on_close(scratch.cleanup)
        store = Store(Path(scratch.name) / "custdesk.json", default_country=country)
    ctx.call_on_close(store.close)
    return store


def may_create(ctx: click.Context) -> bool:
    """Whether the command of `ctx` may make a new store: the app (no subcommand), or a
    top-level command named in `CREATING_COMMANDS` unless it is a dry run (which makes nothing)."""
    if ctx.parent is None:
        return True
    return ctx.parent.parent is None and ctx.command.name in CREATING_COMMANDS and not ctx.params.get("dry_run")


def open_app(ctx: click.Context, store: Store | None = None) -> None:
    """Open the terminal app on the store (`store`, else --db's, opened behind its first page
    when there is one: kept beside a store file, read from a server: `store.views.page`),
    with the user's configuration (`tui/config.py`)."""
    from store.views.page import on_server, read_page
    from tui.app import CustdeskApp
    from tui.config import load_config

    config = load_config(theme=ctx.obj.get("theme"))
    location = ctx.obj["db"]
    if on_server(location):
        forget_cached_pages()
    page = read_page(location) if store is None else None  # (a server's: one snapshot, psycopg alone)
    opened: list[Store] = []

    def opening() -> Store:
        opened.append(open_store(ctx, verify=False))
        return opened[0]

    if page is None:
        store = store or opening()
    app = CustdeskApp(store, config, opening=opening, page=page)  # (a keymap it cannot follow: refused here)
    # (else Textual spins on a closed input; a browser's session, `custdesk serve`, runs the app
    # on pipes under Textual's web driver, which textual-serve names in TEXTUAL_DRIVER)
    if not ((sys.stdin.isatty() and sys.stdout.isatty()) or os.environ.get("TEXTUAL_DRIVER")):
        fail("the app needs a terminal (stdin and stdout); the command line does the rest (custdesk --help)")
    if page["pictures"] if page else store is not None and store.has_pictures():
        from tui.widgets.picture import prepare_graphics

        prepare_graphics()  # (asks the terminal: only where there are pictures to show)
    app.run()
    if app.refusal is not None:
        raise app.refusal  # one line on stderr, exit 2 (`reports_errors`), as at open
    if opened or store is not None:
        # The next start paints these rows before it has loaded anything (the store closed
        # first: closing may fold its change log, which the page's tag must follow).
        app.keep_first_page(then=(store or opened[0]).close)
