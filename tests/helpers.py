"""Builders and probes shared by the tests."""
from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from store import Store
from store.engine import is_database_url, open_engine
from store.schema import SCHEMA

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def person(n: int = 1, **extra) -> dict:
    return {"first_name": f"Ada{n}", "last_name": "Lovelace", "email": f"ada{n}@example.com",
            "phone": f"+49301234{n:04d}", **extra}


def company(n: int = 1, **extra) -> dict:
    return person(n, company=f"Analytical Engines {n} GmbH", **extra)


def contents(store: Store) -> dict:
    """Everything the store holds but its journal and counters, for exact comparisons."""
    engine = open_engine(store.location, SCHEMA)  # what was committed, read back from the files or the server
    try:
        return {t: dict(rows) for t, rows in engine.tables.items() if t not in ("journal", "_meta")}
    finally:
        engine.close()


def stored_bytes(location) -> dict[str, bytes]:
    """Every byte the store keeps on disk, by file: its files, or (PostgreSQL) the files of
    its database's tables, indexes and TOAST, after a checkpoint (what is on the disk)."""
    if not is_database_url(location):
        return {p.name: p.read_bytes() for p in Path(location).parent.iterdir()}
    import psycopg

    with psycopg.connect(location, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        data_dir = Path(conn.execute("SHOW data_directory").fetchone()[0])
        files = conn.execute("SELECT relname, pg_relation_filepath(oid) FROM pg_class WHERE relfilenode <> 0 AND "
                             "relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)")
        return {name: b"".join(p.read_bytes() for p in (data_dir / path).parent.glob(Path(path).name + "*"))
                for name, path in files if path}


def run_python(code: str, *args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], check=False, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})})


def custdesk(*args: object, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """The `custdesk` command line in a fresh process, as a user runs it."""
    code = "import sys; from cli import main; sys.argv = ['custdesk', *sys.argv[1:]]; main()"
    return run_python(code, *map(str, args), env=env, timeout=timeout)


async def settle(app, pilot) -> None:
    """Wait until the workers the keys started (store verbs, imports, sends) have finished
    and their messages are handled, and each flow (`tui.flows`) has finished or waits for
    the user: its dialog is up."""
    from textual.worker import WorkerCancelled

    from tui.flows import GROUP as FLOWS

    for _ in range(3000):  # 30 s at most
        busy = [w for w in app.workers if w.group != FLOWS and not w.is_finished]
        for worker in busy:
            # (a read a newer keystroke made moot is cancelled while waited on: it is over too)
            with contextlib.suppress(WorkerCancelled):
                await worker.wait()
        if not busy and (app.screen.is_modal or not any(w.group == FLOWS and not w.is_finished for w in app.workers)):
            await pilot.pause()
            return
        await pilot.pause(0.01)
    raise AssertionError("the app was still busy after 30 s")


def notices(app) -> list[str]:
    """The notifications on screen, as the user reads them."""
    return [str(toast.render()) for toast in app.screen.query("Toast")]


# The terminal size the app tests run at.
SIZE = (160, 45)


def table(app: Any) -> Any:
    """The record table of the screen on top (the customers or the source list)."""
    return app.screen.query_one("RecordTable")


async def go_to_row(pilot, app, number: str) -> None:
    t = table(app)
    row = next(r for r in range(t.row_count) if t.row(r)["number"] == number)
    await pilot.press("g", *["j"] * row)


def rendered(widget: Any) -> str:
    """What a widget shows on screen, as plain text, line by line."""
    from textual.geometry import Region

    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height)))


@contextlib.asynccontextmanager
async def signup_site(store_path: Path | str, store: Store) -> AsyncIterator[tuple[Any, Any]]:
    """`custdesk serve`'s server for `store` on 127.0.0.1 (aiohttp's test server) and a client
    that keeps its cookies, as (server, client)."""
    from aiohttp import ClientSession, CookieJar
    from aiohttp.test_utils import TestServer

    from web.server import CustdeskServer

    server = CustdeskServer(store_path, store)
    test_server = TestServer(await server._make_app(), host="127.0.0.1")
    await test_server.start_server()
    try:
        # (a browser keeps cookies of 127.0.0.1; aiohttp's client only when told to)
        async with ClientSession(str(test_server.make_url("")), cookie_jar=CookieJar(unsafe=True)) as client:
            yield server, client
    finally:
        await test_server.close()


async def csrf(client: Any) -> str:
    """The sign-up form's token, as a browser reads it from the page."""
    page = await (await client.get("/signup")).text()
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, "the sign-up page has no csrf field"
    return found.group(1)


@contextlib.contextmanager
def login_role(url: str, name: str, *made: str) -> Iterator[str]:
    """A role `name` that logs in to the PostgreSQL database at `url` (made afresh; `made`:
    statements the superuser runs after, its schema or grants), as its URL; dropped after,
    with what it owns there."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{name}"')
        conn.execute(f'CREATE ROLE "{name}" LOGIN')
        for statement in made:
            conn.execute(statement)
    try:
        yield url.replace("postgres@", f"{name}@")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{name}"')
            conn.execute(f'DROP ROLE "{name}"')
