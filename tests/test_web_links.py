"""`custdesk serve`'s pages of signed links in mail (issue 29), over HTTP on 127.0.0.1: the
one-click unsubscribe (RFC 8058) and the double opt-in of a sign-up, and the stricter
checks of the public form; what the store holds after each."""
import email
import re
from email import policy
from pathlib import Path

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from helpers import csrf, custdesk

from outreach.transports import Outbox
from store.domain.self_service import SELF_SERVICE
from store.domain.signup import CONFIRMER
from web.mailer import Mailer
from web.server import CustdeskServer

ONE_CLICK = {"List-Unsubscribe": "One-Click"}
GOOD = {"kind": "private", "first_name": "Zeynep", "last_name": "Ünal", "email": "zeynep@example.com.tr",
        "country": "TR", "consent": "yes"}


async def _site(store_path, store, outbox: Path | None = None):
    mailer = Mailer(Outbox(outbox, create=True), f"the outbox {outbox}") if outbox else None
    server = CustdeskServer(store_path, store, mailer=mailer)
    test_server = TestServer(await server._make_app(), host="127.0.0.1")
    await test_server.start_server()
    return test_server


@pytest.fixture
async def client(store_path, store, tmp_path):
    """A browser without cookies on the server of `store`, mailing into tmp_path/outbox."""
    test_server = await _site(store_path, store, tmp_path / "outbox")
    try:
        async with ClientSession(str(test_server.make_url(""))) as session:
            yield session
    finally:
        await test_server.close()


def _campaign(store, channel: str = "email") -> tuple[int, int]:
    customer = store.add_customer("corporate", {"company": "Analytical Engines", "email": "ada@example.com",
                                                "phone": "+44 20 7946 0000"})
    store.save_template("news", channel, "News" if channel == "email" else None, "Hello {{ customer.company }}")
    return customer["id"], store.start_campaign("news", [customer["id"]])["id"]


@pytest.mark.parametrize("channel", ["email", "sms"])
async def test_a_one_click_post_opts_the_customer_out_of_the_campaigns_channel(client, store, channel):
    customer_id, campaign_id = _campaign(store, channel)
    token = store.sign_link("unsubscribe", customer_id, campaign_id)
    asked = await client.get(f"/unsubscribe/{token}")  # what a mail scanner does: nothing changes
    page = await asked.text()
    assert asked.status == 200 and f'action="/unsubscribe/{token}"' in page and 'method="post"' in page
    assert store.customer(customer_id).get(f"{channel}_marketing") is None
    done = await client.post(f"/unsubscribe/{token}", data=ONE_CLICK)  # as a mail provider posts it: no cookie, no form token
    assert done.status == 200 and "You are unsubscribed" in await done.text()
    store.refresh()
    customer = store.customer(customer_id)
    assert customer[f"{channel}_marketing"] is False
    assert customer["marketing_consent"][channel]["source"] == f"one-click unsubscribe (campaign #{campaign_id})"
    other = "sms" if channel == "email" else "email"
    assert customer.get(f"{other}_marketing") is None  # only the campaign's channel
    again = await client.post(f"/unsubscribe/{token}", data=ONE_CLICK)  # followed twice: the same answer
    assert again.status == 200
    assert [e["action"] for e in store.journal()].count("consent") == 1
    assert next(e for e in store.journal() if e["action"] == "consent")["user"] == SELF_SERVICE  # the customer's doing


async def test_a_link_not_ours_changed_or_for_something_else_is_a_400_in_plain_words(client, store):
    customer_id, campaign_id = _campaign(store)
    token = store.sign_link("unsubscribe", customer_id, campaign_id)
    confirm = store.sign_link("confirm", customer_id)
    for bad, words in [("nonsense", "not one of ours"), (token[:-3] + "AAA", "not one of ours"),
                       (confirm, "for something else")]:
        for method in ("GET", "POST"):
            answer = await client.request(method, f"/unsubscribe/{bad}", data=ONE_CLICK)
            page = await answer.text()
            assert answer.status == 400 and "This link cannot be used" in page and words in page, (bad, method)
    assert store.customer(customer_id).get("email_marketing") is None


async def test_a_link_to_a_customer_deleted_since_says_so(client, store):
    customer_id, campaign_id = _campaign(store)
    token = store.sign_link("unsubscribe", customer_id, campaign_id)
    store.delete(customer_id)
    answer = await client.post(f"/unsubscribe/{token}", data=ONE_CLICK)
    assert answer.status == 404 and "no longer holds" in await answer.text()


def _mailed_link(outbox: Path) -> tuple[str, email.message.EmailMessage]:
    (sent,) = outbox.glob("confirm-*.eml")
    message = email.message_from_bytes(sent.read_bytes(), policy=policy.default)
    found = re.search(r"https?://\S+(/confirm/\S+)", message.get_content())
    assert found, message.get_content()
    return found.group(1), message


async def test_a_sign_up_is_confirmed_only_by_the_mailed_links_button(client, store, tmp_path):
    answer = await client.post("/signup", data={**GOOD, "csrf": await csrf(client)})
    assert answer.status == 200 and "please confirm your address" in await answer.text()
    store.refresh()
    (prospect,) = store.sources()
    origin = prospect["origin"]
    assert "confirmed_at" not in origin and origin["consent_at"]
    assert origin["consent_text"] == "I agree that custdesk keeps these details to serve me as a customer."
    assert origin["consent_page"].endswith("/signup")
    path, message = _mailed_link(tmp_path / "outbox")
    assert message["To"] == "zeynep@example.com.tr" and "confirm" in message["Subject"]
    asked = await client.get(path)  # a scanner following the link confirms nothing
    assert asked.status == 200 and "Confirm my address" in await asked.text()
    store.refresh()
    assert "confirmed_at" not in store.source(prospect["id"])["origin"]
    done = await client.post(path)
    assert done.status == 200 and "confirmed" in await done.text()
    store.refresh()
    assert store.source(prospect["id"])["origin"]["confirmed_at"]
    entry = next(e for e in store.journal() if e["action"] == "confirm_sign_up")
    assert entry["user"] == CONFIRMER and f"Prospect #{prospect['id']} confirmed" in entry["summary"]
    assert (await client.post(path)).status == 200  # twice: still confirmed, journaled once
    assert [e["action"] for e in store.journal()].count("confirm_sign_up") == 1


async def test_an_expired_confirmation_link_is_refused(client, store):
    prospect_id = store.sign_up("private", {**GOOD, "consent": True})[1]
    expired = store.sign_link("confirm", prospect_id, ttl=-1)
    answer = await client.post(f"/confirm/{expired}")
    assert answer.status == 400 and "expired" in await answer.text()
    assert "confirmed_at" not in store.source(prospect_id)["origin"]


async def test_signing_up_again_unconfirmed_mails_the_link_again_and_a_customer_gets_none(client, store, tmp_path):
    store.add_customer("private", {"first_name": "Ada", "email": "ada@example.com"})
    for data in (GOOD, GOOD, {**GOOD, "first_name": "Ada", "email": "ada@example.com"}):
        answer = await client.post("/signup", data={**data, "csrf": await csrf(client)})
        assert "please confirm your address" in await answer.text()  # the same words to everyone
    mailed = sorted(p.read_bytes() for p in (tmp_path / "outbox").glob("*.eml"))
    assert len(mailed) == 1 or all(b"zeynep@example.com.tr" in m for m in mailed)
    assert not any(b"ada@example.com" in m for m in mailed)


async def test_without_a_transport_a_sign_up_stays_unconfirmed_and_is_told_nothing_of_mail(store_path, store):
    test_server = await _site(store_path, store)
    try:
        async with ClientSession(str(test_server.make_url(""))) as client:
            answer = await client.post("/signup", data={**GOOD, "csrf": await csrf(client)})
            assert "We have your details" in await answer.text()
    finally:
        await test_server.close()
    store.refresh()
    (prospect,) = store.sources()
    assert "confirmed_at" not in prospect["origin"]


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"email": "", "phone": "12"}, "phone", "not a phone number we can reach"),
    ({"email": "zeynep@example"}, "email", "not a valid email address"),
    ({"email": "", "phone": ""}, "email", "an email or a phone number is required"),
    ({"kind": "corporate", "company": "Ünal Ltd", "vat_id": "DE"}, "vat_id", "country code alone"),
])
async def test_the_public_form_refuses_what_cannot_reach_the_person(client, store, changes, field, words):
    answer = await client.post("/signup", data={**GOOD, **changes, "csrf": await csrf(client)})
    page = await answer.text()
    assert answer.status == 422 and f'id="{field}-error"' in page and words in page
    assert list(store.sources()) == []


def test_staff_may_keep_a_phone_the_public_form_refuses(store):
    customer = store.add_customer("private", {"first_name": "Ada", "email": "ada@example.com", "phone": "12"})
    assert customer["phone"] == "12"  # (a warning for staff: kept as typed)


def test_serve_takes_one_way_out_for_mail(store_path, store, tmp_path):
    result = custdesk("--db", store_path, "serve", "--smtp", "localhost:25", "--outbox", tmp_path / "out")
    assert result.returncode != 0 and "choose one way out" in result.stderr


async def test_news_by_email_is_agreed_only_once_the_address_is_confirmed(client, store, tmp_path):
    page = await (await client.get("/signup")).text()
    assert 'name="email_marketing"' in page  # (offered: this server can mail the confirmation)
    await client.post("/signup", data={**GOOD, "email_marketing": "yes", "csrf": await csrf(client)})
    store.refresh()
    (prospect,) = store.sources()
    assert prospect.get("email_marketing") is None and prospect["origin"]["email_marketing_asked"]
    path, _message = _mailed_link(tmp_path / "outbox")
    await client.post(path)
    store.refresh()
    confirmed = store.source(prospect["id"])
    assert confirmed["email_marketing"] is True and confirmed["origin"]["email_marketing_at"]
    entry = next(e for e in store.journal() if e["action"] == "confirm_sign_up")
    assert entry["summary"].endswith("agreeing to news and offers by email")


async def test_without_asking_for_news_a_confirmed_sign_up_has_no_answer(client, store, tmp_path):
    await client.post("/signup", data={**GOOD, "csrf": await csrf(client)})
    path, _message = _mailed_link(tmp_path / "outbox")
    await client.post(path)
    store.refresh()
    (prospect,) = store.sources()
    assert prospect["origin"]["confirmed_at"] and prospect.get("email_marketing") is None


HOSTILE = ["x", ".", "a.b", "%00", "%C3%A9.%C3%A9", "A" * 600, "..%2F..%2Fetc", "%E2%80%AE.x", "eyJ9.", ".AAAA"]


@pytest.mark.parametrize("token", HOSTILE)
@pytest.mark.parametrize(("method", "path"), [("GET", "/unsubscribe/{}"), ("POST", "/unsubscribe/{}"),
                                              ("GET", "/confirm/{}"), ("POST", "/confirm/{}"),
                                              ("GET", "/account/{}"), ("GET", "/account/{}/data.json")])
async def test_any_token_is_a_plain_refusal_never_a_crash(client, store, token, method, path):
    answer = await client.request(method, path.format(token), data=ONE_CLICK if method == "POST" else None)
    assert answer.status in (400, 404) and "Traceback" not in await answer.text()
    assert list(store.journal()) == []
