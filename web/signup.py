"""The customers' own sign-up page: plain HTML, no JavaScript, the store's rules.

Every post must carry the anti-forgery token of a form this server handed out
(signed, at most `TOKEN_AGE` old); a filled honeypot field is thanked and
dropped; each address may post `RATE_LIMIT` times in `RATE_WINDOW` seconds; a
body is read to its end, whatever its transfer encoding, within `BODY_TIMEOUT`
seconds and up to `MAX_BODY` bytes (413 beyond). Values are data: Jinja2 escapes
them on the page, and the app shows them through its terminal sanitiser.

The store is never called on the event loop: every call runs on one worker thread
(the store is not thread-safe), and none waits on another process's lock for long.
A page shows the settings as they are now, or as last known while another process
holds the lock; a sign-up waits for the lock at most `STORE_WAIT` seconds and is
then answered 503 "busy, try again" with its values kept. The duplicate matcher that
checks each sign-up reads the whole store on its first look (~0.7 s at 10,000 records):
it looks on the worker before the server listens, and again (catching up) before a
sign-up takes the store's lock, so not while holding it.

With a mail transport (`Mailer`), a new sign-up, or one still unconfirmed signing up again,
is mailed a signed link to confirm the address (web.links answers it); the page says the
same to everyone, so it still reveals nobody's address.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs

import jinja2
from aiohttp import web

from store import Store
from store.base.errors import NotFound, StoreBusy, StoreError, ValidationFailed
from store.domain.signup import CONFIRM_TTL
from store.rules.links import LinkRefused

from .mailer import Mailer, confirmation
from .tokens import matches

MAX_BODY = 16 * 1024
BODY_TIMEOUT = 10.0
TOKEN_AGE = 2 * 3600
RATE_LIMIT, RATE_WINDOW = 5, 600
MAX_TRACKED = 10_000  # addresses the rate limit remembers (least recently seen forgotten first)
STORE_WAIT, RETRY_AFTER = 5.0, 30
# (name, label, input type, autocomplete): what a person gives about themselves
FIELDS = (("company", "Company", "text", "organization"), ("first_name", "First name", "text", "given-name"),
          ("last_name", "Last name", "text", "family-name"), ("email", "Email", "email", "email"),
          ("phone", "Phone", "tel", "tel"), ("street", "Street", "text", "street-address"),
          ("postcode", "Postcode", "text", "postal-code"), ("city", "City", "text", "address-level2"),
          ("country", "Country", "text", "country-name"), ("vat_id", "VAT id (companies)", "text", "off"))
LABELS = {name: label for name, label, *_ in FIELDS} | {"consent": "Consent"}
CONSENT = "I agree that {shop} keeps these details to serve me as a customer."
PAGES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True)
T = TypeVar("T")


class TooLarge(Exception):
    pass


class Undecodable(Exception):
    """A body aiohttp could not take apart: its Content-Encoding (gzip, deflate, br) does
    not decode it, or its chunks are malformed."""


async def read_body(request: web.Request) -> bytes:
    """The whole body, however it arrives (in several segments, chunked): TooLarge beyond
    MAX_BODY, TimeoutError when it has not ended BODY_TIMEOUT seconds after its headers,
    Undecodable when it is not what its headers say."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise TooLarge
    body = bytearray()
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            while chunk := await request.content.readany():
                body += chunk
                if len(body) > MAX_BODY:
                    raise TooLarge
    except web.RequestPayloadError as err:
        raise Undecodable(str(err)) from None
    return bytes(body)


class RateLimit:
    """`RATE_LIMIT` posts per address in `RATE_WINDOW` seconds, over at most `MAX_TRACKED`
    addresses: the table is kept in order of last sight, and forgets from the front."""

    def __init__(self) -> None:
        self.posts: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, address: str) -> bool:
        now = time.monotonic()
        posts = self.posts.pop(address, None) or deque()
        while posts and now - posts[0] > RATE_WINDOW:
            posts.popleft()
        allowed = len(posts) < RATE_LIMIT
        if allowed:
            posts.append(now)
        self.posts[address] = posts
        while len(self.posts) > MAX_TRACKED or now - next(iter(self.posts.values()))[-1] > RATE_WINDOW:
            self.posts.popitem(last=False)
        return allowed


def beside_fields(failed: ValidationFailed) -> dict[str, str]:
    """Each refusal beside the field it is about ("a name is required" beside the first name);
    one about no field of the page above the button."""
    shown = {name for name, *_ in FIELDS} | {"consent"}
    errors: dict[str, str] = {}
    for issue in failed.issues:
        field = "first_name" if issue.field == "name" else issue.field
        key = field if field in shown else "form"
        errors[key] = f"{errors[key]} {issue.message}" if key in errors else issue.message
    return errors


class SignUpPage:
    """The GET and POST handlers of /signup over one store."""

    def __init__(self, store: Store, *, behind_proxy: bool = False, mailer: Mailer | None = None,
                 public_url: str | None = None, own_url: str = "") -> None:
        """`public_url`: where browsers reach this server, as given at start (else the
        settings' public_url, else `own_url`, the address it listens on)."""
        self.store = store
        self.behind_proxy = behind_proxy
        self.mailer, self.public_url, self.own_url = mailer, public_url, own_url
        self.secret = secrets.token_bytes(32)
        self.limit = RateLimit()
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="custdesk-store")
        self.settings = store.settings  # as last read by the worker: what every page shows

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/signup", self.show), web.post("/signup", self.submit)]

    async def warm(self, _app: web.Application) -> None:
        """Have the matcher read the store (on the worker) before the server listens, so the
        first sign-up need not."""
        await self.in_store(self.store.prepare_sign_ups)

    async def close(self, _app: web.Application) -> None:
        self.worker.shutdown(wait=False, cancel_futures=True)
        if self.mailer is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.mailer.close)

    @property
    def base_url(self) -> str:
        """Where links in mail point (no trailing /)."""
        return (self.public_url or str(self.settings.get("public_url") or "") or self.own_url).rstrip("/")

    # -- pages -------------------------------------------------------------------
    async def show(self, _request: web.Request) -> web.Response:
        await self.in_store(self.catch_up)
        return self._form({}, {})

    async def posted(self, request: web.Request, back: str, limit: RateLimit | None = None) -> dict[str, str] | web.Response:
        """The fields of a form this server handed out, or the page refusing the post: too
        large, too slow, unreadable, too many from its address (by `limit`, else the
        sign-ups'), or without a valid token. `back`: the page to open again."""
        try:
            body = await read_body(request)
        except TooLarge:
            return _closing(self.message("Too much data", "The form sent more than this page needs.", status=413))
        except TimeoutError:
            return _closing(self.message("Too slow", "The form took too long to arrive; please send it again.",
                                         status=408, back=back))
        except Undecodable:
            return _closing(self.message("Unreadable form", "The form did not arrive as its headers said.", status=400,
                                         back=back))
        if not (limit or self.limit).allow(self._address(request)):
            return self.message("Please wait", "Too many forms sent from your address; please try again in a few "
                                "minutes.", status=429)
        try:  # (strict: a value that is not UTF-8 is refused, never stored with � in it)
            form = {k: v[0] for k, v in parse_qs(body.decode("ascii"), keep_blank_values=True, errors="strict").items()}
        except UnicodeDecodeError:
            return self.message("Unreadable form", "The form did not arrive as UTF-8 text.", status=400, back=back)
        if not self._token_valid(form.get("csrf", "")):
            return self.message("Form expired", "This form could not be checked. Please open the page again.",
                                status=403, back=back)
        return form

    async def submit(self, request: web.Request) -> web.Response:
        form = await self.posted(request, "/signup")
        if isinstance(form, web.Response):
            return form
        if form.get("website"):  # the honeypot: a person never sees it, a bot fills it in
            return self._thanks()
        values = {name: form.get(name, "").strip() for name, *_ in FIELDS}
        kind = form.get("kind", "corporate")
        shown = {**values, "kind": kind, "consent": form.get("consent"), "email_marketing": form.get("email_marketing")}
        try:
            mail = await self.write(self._sign_up_now, kind, {**values, "consent": form.get("consent") == "yes"},
                                    form.get("email_marketing") == "yes", matcher=True)
        except StoreBusy:
            busy = self._form(shown, {"form": "We are busy with another change just now; please press Sign up again "
                                              "in a minute."}, status=503)
            busy.headers["Retry-After"] = str(RETRY_AFTER)
            return busy
        except ValidationFailed as failed:
            return self._form(shown, beside_fields(failed), status=422)
        except StoreError as err:
            return self._form(shown, {"form": str(err)}, status=422)
        if mail is not None and self.mailer is not None:
            await self.mailer.send(*mail)
        return self._thanks()

    # -- the store, on its worker thread ---------------------------------------------
    async def in_store(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.worker, call, *args)

    def catch_up(self) -> None:
        """The settings and records another process may have changed, without waiting for
        its lock (kept as last known while it holds it)."""
        if self.store.changed_elsewhere():
            with contextlib.suppress(StoreBusy):
                self.store.refresh(wait=0)
        self.settings = self.store.settings

    def _try_write(self, call: Callable[..., T], matcher: bool, *args: Any) -> T:
        try:
            self.store.refresh(wait=0)  # (StoreBusy at once: the event loop retries, the worker stays free)
            if matcher:
                self.store.prepare_sign_ups()  # (the matcher's look at the store as it is now, before its lock)
            with self.store.reserved(wait=0):
                self.store.refresh()
                return call(*args)
        finally:
            self.settings = self.store.settings

    async def write(self, call: Callable[..., T], *args: Any, matcher: bool = False) -> T:
        """`call(*args)` on the worker holding the store's lock, with the store as it is now;
        StoreBusy when another process has held the lock for STORE_WAIT seconds. `matcher`:
        the duplicate matcher catches up first (a sign-up's call uses it)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STORE_WAIT
        while True:
            try:
                return await self.in_store(self._try_write, call, matcher, *args)
            except StoreBusy:
                if loop.time() >= deadline:
                    raise
                await asyncio.sleep(0.1)

    def _sign_up_now(self, kind: str, data: Mapping[str, Any], wants_news: bool) -> tuple[EmailMessage, str] | None:
        """The sign-up, and the confirmation mail (with its file stem) if one is due: a
        prospect not confirmed yet with an email address, when there is a transport."""
        outcome, doc_id = self.store.sign_up(kind, data, consent_text=CONSENT.format(shop=self.shop),
                                             page=f"{self.base_url}/signup", wants_news=wants_news)
        if self.mailer is None or outcome == "customer-again":
            return None
        prospect = self.store.source(doc_id)
        if (prospect.get("origin") or {}).get("confirmed_at") or not prospect.get("email"):
            return None
        link = f"{self.base_url}/confirm/{self.store.sign_link('confirm', doc_id, ttl=CONFIRM_TTL)}"
        days = CONFIRM_TTL // 86400
        return confirmation(self.settings, str(prospect["email"]), link, days), f"confirm-{doc_id}-{int(time.time())}"

    # -- safety ------------------------------------------------------------------
    def token(self) -> str:
        """A fresh anti-forgery token for a form."""
        issued = str(int(time.time()))
        return f"{issued}.{self._sign(issued)}"

    def _sign(self, issued: str) -> str:
        return hmac.new(self.secret, issued.encode(), hashlib.sha256).hexdigest()

    def _token_valid(self, token: str) -> bool:
        issued, _, signature = token.partition(".")
        if not (issued.isascii() and issued.isdigit()) or not matches(signature, self._sign(issued)):
            return False
        return 0 <= time.time() - int(issued) <= TOKEN_AGE

    def _address(self, request: web.Request) -> str:
        """Behind a proxy, the address the proxy itself appended to X-Forwarded-For (the
        last of all its lines: HAProxy adds a line of its own): the entries before it are
        whatever the client sent."""
        forwarded = ",".join(request.headers.getall("X-Forwarded-For", [])) if self.behind_proxy else ""
        return forwarded.split(",")[-1].strip() or request.remote or "?"

    # -- rendering ---------------------------------------------------------------
    @property
    def shop(self) -> str:
        return str(self.settings.get("shop_name") or "custdesk")

    def _form(self, values: Mapping[str, object], errors: dict[str, str], status: int = 200) -> web.Response:
        html = PAGES.get_template("signup.html").render(
            shop=self.shop, csrf=self.token(), fields=FIELDS, values=values, errors=errors,
            consent=CONSENT.format(shop=self.shop), labels=LABELS, offers_news=self.mailer is not None,
            required=_required(self.settings["allow_private_customers"]),
            allow_private=self.settings["allow_private_customers"])
        return web.Response(text=html, content_type="text/html", status=status)

    def _thanks(self) -> web.Response:
        # (the same words whether the person was new, a prospect or a customer already)
        if self.mailer is None:
            return self.message("Thank you", "We have your details and will be in touch soon.")
        return self.message("Thank you: please confirm your address",
                            f"If you gave an email address, we have sent a message to it: open its link within "
                            f"{CONFIRM_TTL // 86400} days and press the button there to confirm your sign-up.")

    def message(self, heading: str, text: str, *, status: int = 200, back: str | None = None) -> web.Response:
        """A page of a heading and a sentence; `back`: the page to open again."""
        html = PAGES.get_template("message.html").render(shop=self.shop, heading=heading, text=text, back=back)
        return web.Response(text=html, content_type="text/html", status=status)

    def link_failed(self, err: LinkRefused | NotFound, *, advice: str, gone: str, back: str | None = None) -> web.Response:
        """The page of a signed link that cannot be used: not ours, changed or expired (400, its
        reason and `advice`), or what it named is no longer held (404, headed `gone`)."""
        if isinstance(err, NotFound):
            return self.message(gone, f"{self.shop} no longer holds the details this link was for.", status=404)
        said = str(err)
        return self.message("This link cannot be used", f"{said[:1].upper()}{said[1:]}. {advice}", status=400, back=back)


def _required(allow_private: bool) -> dict[str, str]:
    """What each field's label says of it being required (in words, not only a colour)."""
    # (no label names another field's: a label finds its one field, as assistive software reads it)
    marks = {"email": "required, or a number to call", "phone": "required, or an address to write to"}
    if allow_private:
        return marks | {"company": "required for a company", "first_name": "required for yourself, or a surname"}
    return marks | {"company": "required"}


def _closing(response: web.Response) -> web.Response:
    """An answer after which the connection closes: what is left of the body is not waited for."""
    response.force_close()
    return response
