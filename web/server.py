"""`custdesk serve`: one aiohttp server for the app in a browser and the sign-up page.

The app (`/`, its websocket and its downloads) is textual-serve running `custdesk`
on the store for each browser session. Anyone reaching it gets a full session, so
it needs the random token printed at start: `/?token=…` sets a cookie (HttpOnly,
SameSite=Strict) that the websocket and downloads then need. `/signup` is public.
"""
from __future__ import annotations

import hmac
import os
import secrets
import shlex
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from textual_serve.server import Server

from store import Store

from .signup import SignUpPage

COOKIE = "custdesk_session"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class CustdeskServer(Server):
    def __init__(self, db: str | Path, store: Store, *, host: str = "127.0.0.1", port: int = 8000,
                 behind_proxy: bool = False, public_url: str | None = None) -> None:
        # Each browser's app is a process started by textual-serve, with this one's environment:
        # the store goes there, not on its command line, where `ps` would show a URL's password.
        os.environ["CUSTDESK_DB"] = str(db)
        command = f"{shlex.quote(sys.executable)} -m cli"
        super().__init__(command, host=host, port=port, title="custdesk", public_url=public_url)
        self.token = secrets.token_urlsafe(24)
        self.signup = SignUpPage(store, behind_proxy=behind_proxy)

    @property
    def app_url(self) -> str:
        return f"{self.public_url}/?token={self.token}"

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        app.add_routes(self.signup.routes())
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not (path == "/" or path.startswith(("/ws", "/download/"))):  # (the sign-up page and static files are public)
            return await handler(request)
        given = request.query.get("token")
        if given is not None and hmac.compare_digest(given, self.token):
            response = await handler(request)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict")
            return response
        if hmac.compare_digest(request.cookies.get(COOKIE, ""), self.token):
            return await handler(request)
        raise web.HTTPForbidden(text="custdesk: open the address `custdesk serve` printed (with its ?token=…)")

    async def on_startup(self, app: web.Application) -> None:
        self.console.print(f"custdesk: the app at {self.app_url}", highlight=False, soft_wrap=True)
        self.console.print(f"custdesk: the sign-up page at {self.public_url}/signup", highlight=False, soft_wrap=True)
        self.console.print("ctrl+c stops the server", highlight=False)
