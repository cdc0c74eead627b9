"""The pages a signed link in a mail opens, with no password, cookie or staff token: the
link itself (store.rules.links) is the authority.

`/unsubscribe/<token>` (a customer and a campaign): a POST opts the customer out of the
campaign's channel at once, as RFC 8058's one-click unsubscribe asks (a mail provider
posts `List-Unsubscribe=One-Click` without cookies); a GET shows a page whose button
posts, because mail scanners follow every link in a mail and a GET must change nothing.
`/confirm/<token>` (a prospect): the same shape, confirming a sign-up's address.
A link that is not ours, changed or expired is a 400 page saying so in plain words.
"""
from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from store.base.errors import NotFound, StoreBusy
from store.domain.self_service import SELF_SERVICE
from store.model import Channel
from store.rules.consent import channel_of
from store.rules.links import LinkRefused

from .signup import PAGES, SignUpPage, TooLarge, Undecodable, read_body

CHANNEL_WORDS = {"email": "email", "sms": "text messages (SMS)"}


def _news(channel: object) -> str:
    """What a customer of `channel` gets no more of, in plain words."""
    return f"{CHANNEL_WORDS.get(str(channel), str(channel))} news and offers"


class LinkPages:
    """The GET and POST handlers of /unsubscribe/<token> and /confirm/<token>."""

    def __init__(self, site: SignUpPage) -> None:
        self.site = site
        self.store = site.store

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/unsubscribe/{token}", self.ask_unsubscribe), web.post("/unsubscribe/{token}", self.unsubscribe),
                web.get("/confirm/{token}", self.ask_confirm), web.post("/confirm/{token}", self.confirm)]

    # -- unsubscribe ---------------------------------------------------------------
    async def ask_unsubscribe(self, request: web.Request) -> web.Response:
        return await self._ask(request, "unsubscribe", self._channel_of, lambda channel: (
            "Unsubscribe", f"Press the button to get no more {_news(channel)} from {self.site.shop}.", "Unsubscribe"))

    async def unsubscribe(self, request: web.Request) -> web.Response:
        return await self._act(request, "unsubscribe", self._opt_out, lambda channel: (
            "You are unsubscribed", f"You will get no more {_news(channel)} from {self.site.shop}."))

    def _channel_of(self, customer_id: str, campaign_id: str) -> Channel:
        self.store.customer(int(customer_id))  # (NotFound: deleted or merged since the mail went)
        return channel_of(self.store.campaign(int(campaign_id))["channel"])

    def _opt_out(self, customer_id: str, campaign_id: str) -> str:
        channel = self._channel_of(customer_id, campaign_id)
        with self.store.acting_for(SELF_SERVICE):  # (the customer's own answer, not the server's user's)
            self.store.set_marketing(int(customer_id), channel, False,
                                     source=f"one-click unsubscribe (campaign #{int(campaign_id)})")
        return channel

    # -- confirm a sign-up ---------------------------------------------------------
    async def ask_confirm(self, request: web.Request) -> web.Response:
        return await self._ask(request, "confirm", lambda prospect_id: self.store.source(int(prospect_id)), lambda _: (
            "Confirm your sign-up", f"Press the button to confirm the address you signed up with at {self.site.shop}.",
            "Confirm my address"))

    async def confirm(self, request: web.Request) -> web.Response:
        return await self._act(request, "confirm", lambda prospect_id: self.store.confirm_sign_up(int(prospect_id)),
                               lambda _: ("Thank you: your address is confirmed",
                                          f"{self.site.shop} will be in touch soon."))

    # -- both ----------------------------------------------------------------------
    async def _ask(self, request: web.Request, purpose: str, look: Callable[..., object],
                   words: Callable[[object], tuple[str, str, str]]) -> web.Response:
        """The page of a link: a button that posts to the same address (nothing changes on a GET)."""
        token = request.match_info["token"]
        try:
            found = await self.site.in_store(self._looked_up_now, purpose, token, look)
        except (LinkRefused, NotFound) as err:
            return self._failed(err)
        heading, text, button = words(found)
        html = PAGES.get_template("link.html").render(shop=self.site.shop, heading=heading, text=text,
                                                          button=button, action=request.path)
        return web.Response(text=html, content_type="text/html")

    async def _act(self, request: web.Request, purpose: str, act: Callable[..., object],
                   words: Callable[[object], tuple[str, str]]) -> web.Response:
        """A link's POST: what it names is done (whatever the body says: the link is the authority)."""
        try:
            await read_body(request)  # (read to its end within the limits: a POST never hangs a connection)
        except (TooLarge, TimeoutError, Undecodable):
            return self.site.message("Unreadable request", "Please press the button on the page again.", status=400)
        token = request.match_info["token"]
        try:
            done = await self.site.write(self._looked_up, purpose, token, act)
        except (LinkRefused, NotFound) as err:
            return self._failed(err)
        except StoreBusy:
            busy = self.site.message("Busy", "We are busy with another change just now; please try again in a minute.",
                                     status=503)
            busy.headers["Retry-After"] = "30"
            return busy
        return self.site.message(*words(done))

    def _looked_up(self, purpose: str, token: str, call: Callable[..., object]) -> object:
        """`call` with the ids the link names (on the store's worker); LinkRefused if it is not a valid link."""
        return call(*self.store.check_link(purpose, token))

    def _looked_up_now(self, purpose: str, token: str, call: Callable[..., object]) -> object:
        """The same, with what other processes wrote (a campaign `mail send` started)."""
        self.site.catch_up()
        return self._looked_up(purpose, token, call)

    def _failed(self, err: LinkRefused | NotFound) -> web.Response:
        return self.site.link_failed(err, advice="Please use the newest mail we sent you, or write to us.",
                                     gone="Nothing to do")
