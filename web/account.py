"""Self-service by signed link (issue 29): a customer or prospect asks for a link at
`/account`, and the link mailed to their address (valid an hour) opens `/account/<token>`:
their data, a form to correct it (a customer's, under the store's rules, journaled as
store.domain.self_service.SELF_SERVICE), a download of all of it as JSON, and a request to
be erased, queued for staff. No password is kept anywhere.

`/account` says the same whether or not anyone holds the address, so it reveals nobody's.
Every POST carries the page's anti-forgery token and is rate-limited as a sign-up is, on
a count of its own (a person who just signed up may still ask for their link).
"""
from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from store.base.errors import NotFound, StoreBusy, StoreError, ValidationFailed
from store.domain.self_service import SELF_SERVICE
from store.model import CUSTOMERS, Channel
from store.rules.consent import CHANNELS
from store.rules.consent import FIELDS as FIELDS_OF
from store.rules.links import LinkRefused

from .mailer import notice_of_link
from .signup import FIELDS, LABELS, PAGES, RateLimit, SignUpPage, beside_fields

LINK_TTL = 3600  # seconds an account link is valid
_ASKED = ("If we hold this address, we have sent a link to it. Open it within an hour to see, correct, download "
          "or erase your details.")


class AccountPages:
    """The handlers of /account, /account/<token> and what that page posts."""

    def __init__(self, site: SignUpPage) -> None:
        self.site = site
        self.store = site.store
        self.limit = RateLimit()

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/account", self.ask), web.post("/account", self.send_link),
                web.get("/account/{token}", self.show), web.post("/account/{token}", self.correct),
                web.get("/account/{token}/data.json", self.download),
                web.post("/account/{token}/erase", self.erase)]

    # -- asking for a link ---------------------------------------------------------
    async def ask(self, _request: web.Request) -> web.Response:
        await self.site.in_store(self.site.catch_up)
        return self._page("account_ask.html", can_mail=self.site.mailer is not None)

    async def send_link(self, request: web.Request) -> web.Response:
        form = await self.site.posted(request, "/account", self.limit)
        if isinstance(form, web.Response):
            return form
        if self.site.mailer is None:
            return self.site.message("Links cannot be sent just now", "This server sends no mail; please write to us.")
        found = await self.site.in_store(self._link_for, form.get("email", "").strip())
        if found is not None:
            await self.site.mailer.send(*found)
        return self.site.message("Please check your inbox", _ASKED)

    def _link_for(self, email: str) -> tuple[Any, str] | None:
        self.site.catch_up()
        holder = self.store.account_holder(email) if email else None
        if holder is None:
            return None
        table, doc_id = holder
        link = f"{self.site.base_url}/account/{self.store.sign_link('account', table, doc_id, ttl=LINK_TTL)}"
        address = str(self.store.record(table, doc_id)["email"])
        return notice_of_link(self.site.settings, address, link), f"account-{table}-{doc_id}-{int(time.time())}"

    # -- the account page ----------------------------------------------------------
    async def show(self, request: web.Request) -> web.Response:
        return await self._account(request, {}, {})

    async def correct(self, request: web.Request) -> web.Response:
        form = await self.site.posted(request, request.path, self.limit)
        if isinstance(form, web.Response):
            return form
        values = {name: form.get(name, "").strip() for name, *_ in FIELDS}
        answers: dict[Channel, bool] = {channel: form.get(f"{channel}_marketing") == "yes" for channel in CHANNELS}
        try:
            await self.site.write(self._edit, request.match_info["token"], values, answers)
        except (LinkRefused, NotFound) as err:
            return _failed(self.site, err)
        except StoreBusy:
            return await self._account(request, values, {"form": "We are busy just now; please save again in a minute."},
                                       status=503)
        except ValidationFailed as failed:
            return await self._account(request, values, beside_fields(failed), status=422)
        except StoreError as err:
            return await self._account(request, values, {"form": str(err)}, status=422)
        return await self._account(request, {}, {}, saved=True)

    def _edit(self, token: str, values: dict[str, str], answers: dict[Channel, bool]) -> None:
        """The person's corrections (a customer's or a prospect's), then a customer's answers to
        marketing where they changed (one never asked stays unasked while the box is left empty)."""
        table, doc_id = self._holder(token)
        record = self.store.record(table, doc_id)
        changes = {k: v or None for k, v in values.items() if (record.get(k) or "") != v}
        with self.store.acting_for(SELF_SERVICE):
            if changes:
                (self.store.edit_customer if table == CUSTOMERS else self.store.edit_source)(doc_id, changes)
            if table != CUSTOMERS:
                return  # (a prospect holds no marketing answer of its own to change)
            for channel, allowed in answers.items():
                if bool(record.get(FIELDS_OF[channel])) != allowed:
                    self.store.set_marketing(doc_id, channel, allowed, source="the customer's account page")

    async def download(self, request: web.Request) -> web.Response:
        try:
            data = await self.site.in_store(self._data, request.match_info["token"])
        except (LinkRefused, NotFound) as err:
            return _failed(self.site, err)
        response = web.Response(text=json.dumps(data, ensure_ascii=False, indent=2, default=str),
                                content_type="application/json")
        response.headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
        response.headers["Cache-Control"] = "no-store"
        return response

    def _data(self, token: str) -> dict[str, Any]:
        self.site.catch_up()
        return self.store.own_data(*self._holder(token))

    async def erase(self, request: web.Request) -> web.Response:
        form = await self.site.posted(request, request.path.removesuffix("/erase"), self.limit)
        if isinstance(form, web.Response):
            return form
        try:
            await self.site.write(lambda: self.store.request_erasure(*self._holder(request.match_info["token"])))
        except (LinkRefused, NotFound) as err:
            return _failed(self.site, err)
        except StoreBusy:
            return self.site.message("Busy", "We are busy just now; please press the button again in a minute.",
                                     status=503, back=request.path.removesuffix("/erase"))
        return self.site.message("We have your request", "Our staff will erase your details and tell you when it is "
                                 "done. While an order, offer or ticket of yours is open we must keep them until it "
                                 "is closed.")

    async def _account(self, request: web.Request, values: dict[str, str], errors: dict[str, str], *,
                       status: int = 200, saved: bool = False) -> web.Response:
        token = request.match_info["token"]
        try:
            data = await self.site.in_store(self._data, token)
        except (LinkRefused, NotFound) as err:
            return _failed(self.site, err)
        record = data["record"]
        shown = {name: values[name] if name in values else record.get(name) or "" for name, *_ in FIELDS}
        return self._page("account.html", status=status, record=record, values=shown, errors=errors, saved=saved,
                          customer=data["kind"] == "customer", fields=FIELDS, labels=LABELS, path=request.path)

    def _holder(self, token: str) -> tuple[str, int]:
        table, doc_id = self.store.check_link("account", token)
        return table, int(doc_id)

    def _page(self, name: str, *, status: int = 200, **values: Any) -> web.Response:
        html = PAGES.get_template(name).render(shop=self.site.shop, csrf=self.site.token(), **values)
        response = web.Response(text=html, content_type="text/html", status=status)
        response.headers["Cache-Control"] = "no-store"  # (a person's data stays out of shared caches)
        return response


def _failed(site: SignUpPage, err: LinkRefused | NotFound) -> web.Response:
    return site.link_failed(err, advice="Ask for a new one.", gone="Nothing to show", back="/account")
