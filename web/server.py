"""`custdesk serve`: one aiohttp server for the app in a browser and the sign-up page.

The app (`/`, its websocket and its downloads) is textual-serve running `custdesk`
on the store for each browser session. Anyone reaching it gets a full session, so
it needs the random token given at start (printed on a terminal, else kept in a file
only this user can read): `/?token=…` sets a cookie (HttpOnly,
SameSite=Strict, Secure behind an https public URL) and redirects to `/`, so the
token stays in no address bar, history, log or Referer; the websocket and downloads
then need the cookie. `/signup` is public, and so are the pages signed links in mail
open (`/unsubscribe/…`, `/confirm/…`: web.links; `/account/…`: web.account), which the
link itself authorises. Every answer says `Referrer-Policy:
no-referrer`, and the app's page loads nothing from elsewhere (its font is served here).
"""
from __future__ import annotations

import asyncio
import os
import secrets
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

from store import Store
from store.base.files import atomic_write, write_all
from store.base.text import path_text
from store.paths import data_dir

from .account import AccountPages
from .links import LinkPages
from .mailer import Mailer
from .signup import SignUpPage
from .tokens import matches
from .transport import PLAIN_HEADERS, listen, setup_logging

COOKIE = "custdesk_session"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class CustdeskServer(Server):
    def __init__(self, db: str | Path, store: Store, *, host: str = "127.0.0.1", port: int = 8000,
                 behind_proxy: bool = False, public_url: str | None = None, mailer: Mailer | None = None) -> None:
        # Each browser's app is a process started by textual-serve, with this one's environment:
        # the store goes there, not on its command line, where `ps` would show a URL's password.
        os.environ["CUSTDESK_DB"] = str(db)
        command = f"{shlex.quote(sys.executable)} -m cli"
        super().__init__(command, host=host, port=port, title="custdesk", public_url=public_url,
                         templates_path=Path(__file__).with_name("templates"))  # (its app page, without remote fonts)
        self.token = secrets.token_urlsafe(24)
        self.secure = self.public_url.startswith("https://")
        self.signup = SignUpPage(store, behind_proxy=behind_proxy, mailer=mailer, public_url=public_url,
                                 own_url=self.public_url)
        self.links = LinkPages(self.signup)
        self.account = AccountPages(self.signup)
        self.url_kept = False

    @property
    def app_url(self) -> str:
        return f"{self.public_url}/?token={self.token}"

    async def _make_app(self) -> web.Application:
        """textual-serve's app with its routes declared here, where all that faces the
        internet is: its static files without the folder listings it would turn on."""
        app = web.Application(middlewares=[self._guard])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes([web.get("/", self.handle_index, name="index"),
                        web.get("/ws", self.handle_websocket, name="websocket"),
                        web.get("/download/{key}", self.handle_download, name="download"),
                        web.static("/static", self.statics_path, name="static", show_index=False),
                        *self.signup.routes(), *self.links.routes(),
                        *self.account.routes()])
        app.on_startup.append(self.signup.warm)  # (first: the addresses are printed once it can serve them)
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        app.on_cleanup.append(self.signup.close)
        app.on_cleanup.append(self._forget_app_url)
        app.on_response_prepare.append(_plain_headers)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not (path == "/" or path.startswith(("/ws", "/download/"))):  # (the public pages and static files)
            try:
                return await handler(request)
            except OSError:
                if isinstance(request.match_info.route.resource, web.StaticResource):  # (a name too long, a loop)
                    raise web.HTTPNotFound() from None
                raise
        given = request.query.get("token")
        if given is not None and matches(given, self.token):
            swapped = web.HTTPSeeOther("/")
            swapped.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict", secure=self.secure)
            raise swapped
        if matches(request.cookies.get(COOKIE, ""), self.token):
            return await handler(request)
        raise web.HTTPForbidden(text="custdesk: open the address `custdesk serve` printed (with its ?token=…)")

    def initialize_logging(self) -> None:
        setup_logging()

    def serve(self, debug: bool = False) -> None:
        """Serve until SIGINT or SIGTERM, with the limits of `web.transport`."""
        self.debug = debug
        self.initialize_logging()
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        listening = await listen(await self._make_app(), self.host, self.port, behind_proxy=self.signup.behind_proxy)
        try:
            await stop.wait()
        finally:
            await listening.close()

    @property
    def url_file(self) -> Path:
        """Where the app's address with its token is kept while this server runs as a service."""
        return data_dir() / f"serve-{self.port}.url"

    def _keep_app_url(self) -> None:
        self.url_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(self.url_file, lambda fd: write_all(fd, f"{self.app_url}\n".encode()))  # (owner-only, 0600)
        self.url_kept = True

    async def _forget_app_url(self, _app: web.Application) -> None:
        if self.url_kept:  # (its token dies with this server)
            self.url_file.unlink(missing_ok=True)

    async def on_startup(self, app: web.Application) -> None:
        """The app's address with its token on a terminal. Elsewhere (a service, whose output a
        journal keeps for anyone allowed to read it) the address alone, and the one with the
        token in `url_file`, which only this user can read."""
        if self.console.file.isatty():
            self.console.print(f"custdesk: the app at {self.app_url}", highlight=False, soft_wrap=True)
        else:
            self._keep_app_url()
            self.console.print(f"custdesk: the app at {self.public_url}/ (the address with its token is in "
                               f"{path_text(self.url_file)}, readable only by its owner)", highlight=False, soft_wrap=True)
        self.console.print(f"custdesk: the sign-up page at {self.public_url}/signup", highlight=False, soft_wrap=True)
        mailer = self.signup.mailer
        self.console.print(f"custdesk: sign-ups are asked to confirm their address by mail through {mailer.described}"
                           if mailer else "custdesk: warning: no --outbox or --smtp given, so sign-ups cannot be "
                           "confirmed by mail and stay unconfirmed", highlight=False, soft_wrap=True)
        self.console.print("ctrl+c stops the server", highlight=False)


async def _plain_headers(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(PLAIN_HEADERS)
