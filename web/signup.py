"""The customers' own sign-up page: plain HTML, no JavaScript, the store's rules.

Every post must carry the anti-forgery token of a form this server handed out
(signed, at most `TOKEN_AGE` old); a filled honeypot field is thanked and
dropped; each address may post `RATE_LIMIT` times in `RATE_WINDOW` seconds; a
body over `MAX_BODY` bytes is refused unread. Values are data: Jinja2 escapes
them on the page, and the app shows them through its terminal sanitiser.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import defaultdict, deque
from pathlib import Path
from urllib.parse import parse_qs

import jinja2
from aiohttp import web

from store import Store
from store.errors import StoreError, ValidationFailed

MAX_BODY = 16 * 1024
TOKEN_AGE = 2 * 3600
RATE_LIMIT, RATE_WINDOW = 5, 600
# (name, label, input type, autocomplete): what a person gives about themselves
FIELDS = (("company", "Company", "text", "organization"), ("first_name", "First name", "text", "given-name"),
          ("last_name", "Last name", "text", "family-name"), ("email", "Email", "email", "email"),
          ("phone", "Phone", "tel", "tel"), ("street", "Street", "text", "street-address"),
          ("postcode", "Postcode", "text", "postal-code"), ("city", "City", "text", "address-level2"),
          ("country", "Country", "text", "country-name"), ("vat_id", "VAT id (companies)", "text", "off"))
_TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True)


def _beside_fields(failed: ValidationFailed) -> dict[str, str]:
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

    def __init__(self, store: Store, *, behind_proxy: bool = False) -> None:
        self.store = store
        self.behind_proxy = behind_proxy
        self.secret = secrets.token_bytes(32)
        self.posts: defaultdict[str, deque[float]] = defaultdict(deque)

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/signup", self.show), web.post("/signup", self.submit)]

    # -- pages -------------------------------------------------------------------
    async def show(self, _request: web.Request) -> web.Response:
        return self._form({}, {})

    async def submit(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return self._message("Too much data", "The form sent more than a sign-up needs.", status=413)
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return self._message("Too much data", "The form sent more than a sign-up needs.", status=413)
        if not self._allowed(self._address(request)):
            return self._message("Please wait", "Too many sign-ups from your address; please try again in a few minutes.",
                                 status=429)
        try:  # (strict: a value that is not UTF-8 is refused, never stored with � in it)
            form = {k: v[0] for k, v in parse_qs(body.decode("ascii"), keep_blank_values=True, errors="strict").items()}
        except UnicodeDecodeError:
            return self._message("Unreadable form", "The form did not arrive as UTF-8 text.", status=400, again=True)
        if not self._token_valid(form.get("csrf", "")):
            return self._message("Form expired", "This form could not be checked. Please open the sign-up page again.",
                                 status=403, again=True)
        if form.get("website"):  # the honeypot: a person never sees it, a bot fills it in
            return self._thanks()
        self.store.refresh()
        values = {name: form.get(name, "").strip() for name, *_ in FIELDS}
        kind = form.get("kind", "corporate")
        try:
            self.store.sign_up(kind, {**values, "consent": form.get("consent") == "yes"})
        except ValidationFailed as failed:
            errors = _beside_fields(failed)
            return self._form({**values, "kind": kind, "consent": form.get("consent")}, errors, status=422)
        except StoreError as err:
            return self._form({**values, "kind": kind}, {"form": str(err)}, status=422)
        return self._thanks()

    # -- safety ------------------------------------------------------------------
    def _token(self) -> str:
        issued = str(int(time.time()))
        return f"{issued}.{self._sign(issued)}"

    def _sign(self, issued: str) -> str:
        return hmac.new(self.secret, issued.encode(), hashlib.sha256).hexdigest()

    def _token_valid(self, token: str) -> bool:
        issued, _, signature = token.partition(".")
        if not issued.isdigit() or not hmac.compare_digest(signature, self._sign(issued)):
            return False
        return 0 <= time.time() - int(issued) <= TOKEN_AGE

    def _address(self, request: web.Request) -> str:
        forwarded = request.headers.get("X-Forwarded-For", "") if self.behind_proxy else ""
        return forwarded.split(",")[0].strip() or request.remote or "?"

    def _allowed(self, address: str) -> bool:
        now, posts = time.monotonic(), self.posts[address]
        while posts and now - posts[0] > RATE_WINDOW:
            posts.popleft()
        if len(posts) >= RATE_LIMIT:
            return False
        posts.append(now)
        return True

    # -- rendering ---------------------------------------------------------------
    def _shop(self) -> str:
        return str(self.store.settings.get("shop_name") or "custdesk")

    def _form(self, values: dict[str, object], errors: dict[str, str], status: int = 200) -> web.Response:
        html = _TEMPLATES.get_template("signup.html").render(
            shop=self._shop(), csrf=self._token(), fields=FIELDS, values=values, errors=errors,
            allow_private=self.store.settings["allow_private_customers"])
        return web.Response(text=html, content_type="text/html", status=status)

    def _thanks(self) -> web.Response:
        # (the same words whether the person was new, a prospect or a customer already)
        return self._message("Thank you", "We have your details and will be in touch soon.")

    def _message(self, heading: str, text: str, *, status: int = 200, again: bool = False) -> web.Response:
        html = _TEMPLATES.get_template("message.html").render(shop=self._shop(), heading=heading, text=text, again=again)
        return web.Response(text=html, content_type="text/html", status=status)
