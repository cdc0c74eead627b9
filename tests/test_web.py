"""`custdesk serve`: the sign-up page (its rules and its safety) over HTTP on 127.0.0.1,
the token that guards the app, and a real browser (Playwright driving Debian's
Chromium) signing up and driving the app."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, csrf, signup_site
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import Store, StoreError
from web import signup
from web.server import COOKIE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENS = ROOT / "docs" / "screens"  # README's pictures of the sign-up page, written when CUSTDESK_WRITE_SCREENSHOTS=1
GOOD = {"kind": "corporate", "company": "Café Ünal Ltd", "first_name": "Zeynep", "last_name": "Ünal",
        "email": "zeynep@cafe-unal.com.tr", "phone": "0212 555 12 34", "country": "TR", "consent": "yes"}


@pytest.fixture
async def site(store, store_path):
    async with signup_site(store_path, store) as pair:
        yield pair


async def test_a_sign_up_lands_in_the_source_list_under_the_stores_rules(site, store):
    _server, client = site
    response = await client.post("/signup", data={**GOOD, "csrf": await csrf(client)})
    assert response.status == 200 and "Thank you" in await response.text()
    (prospect,) = store.sources()
    assert (prospect["company"], prospect["phone"], prospect["origin"]["profile"]) == ("Café Ünal Ltd", "+902125551234", "sign-up")
    again = await client.post("/signup", data={**GOOD, "csrf": await csrf(client)})
    assert "Thank you" in await again.text()  # the same words: the page tells nobody who is registered
    (prospect,) = store.sources()  # not created twice
    assert prospect["origin"]["signed_up_again"]
    from tui.app import CustdeskApp

    app = CustdeskApp(store)
    async with app.run_test(size=(120, 30)) as pilot:  # what staff see
        await pilot.press("p")
        row = app.screen.query_one("RecordTable").render_line(1).text
        assert "Café Ünal Ltd" in row and "unconfirmed sign" in row


async def test_errors_show_beside_their_fields_with_the_values_escaped(site, store):
    _server, client = site
    store.update_settings(allow_private_customers=False, shop_name="  <b>Ünal</b>   Kahve ")
    assert "<h1>Sign up with &lt;b&gt;Ünal&lt;/b&gt; Kahve</h1>" in await (await client.get("/signup")).text()
    with pytest.raises(StoreError, match="80 characters"):
        store.update_settings(shop_name="x" * 81)
    bad = {**GOOD, "company": "", "email": "not-an-email", "first_name": "<script>alert(1)</script>", "consent": ""}
    response = await client.post("/signup", data={**bad, "csrf": await csrf(client)})
    page = await response.text()
    assert response.status == 422
    assert 'id="company-error"' in page and 'id="email-error"' in page and 'id="consent-error"' in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'value="private"' not in page  # no private account offered while the store allows none
    assert list(store.sources()) == []


async def test_forged_trapped_flooded_and_oversized_posts_store_nothing(site, store, monkeypatch):
    _server, client = site
    assert (await client.post("/signup", data=GOOD)).status == 403  # no anti-forgery token
    assert (await client.post("/signup", data={**GOOD, "csrf": "1700000000.00"})).status == 403
    trapped = await client.post("/signup", data={**GOOD, "website": "http://spam.example", "csrf": await csrf(client)})
    assert trapped.status == 200 and "Thank you" in await trapped.text()
    huge = await client.post("/signup", data={**GOOD, "notes": "x" * (signup.MAX_BODY + 1)})
    assert huge.status == 413
    monkeypatch.setattr(signup, "RATE_LIMIT", 3)
    statuses = [(await client.post("/signup", data=GOOD)).status for _ in range(4)]
    assert statuses[-1] == 429
    assert list(store.sources()) == []


async def test_the_app_needs_the_printed_token_swapped_for_a_cookie_at_once(site):
    server, client = site
    assert (await client.get("/")).status == 403
    assert (await client.get("/?token=wrong")).status == 403
    assert (await client.get("/ws")).status == 403
    swapped = await client.get(f"/?token={server.token}", allow_redirects=False)
    assert swapped.status == 303 and swapped.headers["Location"] == "/"  # the token leaves the address bar at once
    cookie = swapped.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]  # (http here)
    opened = await client.get("/")  # the cookie now stands for the token
    assert opened.status == 200 and "textual.js" in await opened.text()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make test installs it as root)")
def test_a_browser_signs_up_and_drives_the_app(store_path, tmp_path):
    from playwright.sync_api import sync_playwright

    ada, unsubscribe, one_click = _customer_with_two_campaigns(store_path)
    port, outbox = _free_port(), tmp_path / "outbox"
    server = subprocess.Popen([sys.executable, "-m", "cli", "--db", str(store_path), "serve", "--port", str(port),
                               "--outbox", str(outbox)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "200"})
    site = f"http://127.0.0.1:{port}"
    try:
        app_url = _printed_app_url(server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            fetched: list[str] = []
            page.on("request", lambda request: fetched.append(request.url))
            _errors_take_the_focus(page, site)
            signed = _signs_up_and_confirms(page, site, outbox, store_path, tmp_path)
            _unsubscribes(page, site, unsubscribe, one_click, store_path, ada)
            _corrects_and_asks_to_be_erased(page, site, outbox, store_path, ada)
            assert all(url.startswith(site) for url in fetched), [u for u in fetched if not u.startswith(site)]
            page.goto(app_url)
            page.wait_for_timeout(5000)  # the app starts in its own process behind the websocket
            page.mouse.click(640, 400)  # the terminal takes the keyboard, as a person's first click gives it
            page.keyboard.press("d")  # the key a person presses: deactivate the customer under the cursor
            _until(lambda: _inactive(store_path), 20)
            shot = tmp_path / "app-after-d.png"
            page.screenshot(path=shot)
            browser.close()
        print(f"\nscreenshots: {signed} {shot}")
        assert signed.stat().st_size > 5000 and shot.stat().st_size > 5000
    finally:
        server.terminate()
        server.wait(timeout=20)
    with Store(store_path) as store:
        assert [(s["first_name"], s["origin"]["profile"]) for s in store.sources()] == [("Zeynep", "sign-up")]
        assert "forged@example.com" not in str(list(store.sources()))


def _customer_with_two_campaigns(store_path) -> tuple[int, str, str]:
    """A customer, and the unsubscribe links of an email and an SMS campaign sent to them."""
    with Store(store_path) as store:
        ada = store.add_customer("corporate", {"company": "Analytical Engines", "email": "ada@example.com",
                                               "city": "London", "country": "GB"})["id"]
        links = []
        for name, channel, subject in (("news", "email", "News"), ("texts", "sms", None)):
            store.save_template(name, channel, subject, "Hello {{ customer.company }}")
            links.append(store.sign_link("unsubscribe", ada, store.start_campaign(name, [ada])["id"]))
    return ada, links[0], links[1]


def _signs_up_and_confirms(page, site: str, outbox: Path, store_path, tmp_path) -> Path:
    """A sign-up, unconfirmed until the mailed link's button is pressed; the thanks page's picture."""
    page.goto(f"{site}/signup")
    page.get_by_label("myself (private)").check()
    page.get_by_label("First name").fill("Zeynep")
    page.get_by_label("Last name").fill("Ünal")
    page.get_by_label("Email").fill("zeynep@example.com.tr")
    page.get_by_label("I agree").check()
    page.screenshot(path=tmp_path / "signup-form.png")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    signed = tmp_path / "signup-thanks.png"
    page.screenshot(path=signed)
    forged = page.request.post(f"{site}/signup", form={"email": "forged@example.com"})
    assert forged.status == 403
    assert not _confirmed(store_path)  # (double opt-in: not until the mailed link is followed)
    page.goto(site + _mailed_path(outbox, "confirm-*.eml", "/confirm/"))
    page.get_by_role("button", name="Confirm my address").click()
    page.get_by_role("heading", name="your address is confirmed").wait_for()
    assert _confirmed(store_path)
    return signed


def _errors_take_the_focus(page, site: str) -> None:
    """A refused sign-up: 'Error: ' in the title, the error summary focused with a link to
    each field, the consent's error beside its checkbox; README's pictures of it when asked."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{site}/signup")
    page.get_by_label("Email").fill("zeynep@example")
    page.get_by_role("button", name="Sign up").click()  # (one post: the sign-ups' rate limit counts them)
    page.get_by_role("heading", name="problems").wait_for()
    assert page.title().startswith("Error: ")
    assert page.evaluate("document.activeElement.classList.contains('summary')")
    assert page.get_by_role("link", name="Email:").get_attribute("href") == "#email"
    assert page.locator("#consent-error").is_visible()
    assert page.locator("#consent").get_attribute("aria-describedby") == "consent-error"
    for width, name in ((1280, "web_signup_desktop.png"), (390, "web_signup_phone.png")):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # one column: nothing wider
        if os.environ.get("CUSTDESK_WRITE_SCREENSHOTS") == "1":
            page.screenshot(path=SCREENS / name, full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def _unsubscribes(page, site: str, unsubscribe: str, one_click: str, store_path, customer_id: int) -> None:
    """The campaign's link: its page changes nothing, its button opts out; a mail provider's
    one-click POST (no cookie, no form token) opts out of the other campaign's channel."""
    page.goto(f"{site}/unsubscribe/{unsubscribe}")
    assert _marketing(store_path, customer_id) == (None, None)
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    assert _marketing(store_path, customer_id) == (False, None)
    answer = page.request.post(f"{site}/unsubscribe/{one_click}", form={"List-Unsubscribe": "One-Click"})
    assert answer.status == 200 and _marketing(store_path, customer_id) == (False, False)


def _corrects_and_asks_to_be_erased(page, site: str, outbox: Path, store_path, customer_id: int) -> None:
    page.goto(f"{site}/account")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_role("button", name="Mail me a link").click()
    page.get_by_role("heading", name="Please check your inbox").wait_for()
    page.goto(site + _mailed_path(outbox, "account-*.eml", "/account/"))
    page.get_by_label("City").fill("Cambridge")
    page.get_by_role("button", name="Save my changes").click()
    page.get_by_text("Your changes are saved").wait_for()
    page.get_by_role("button", name="Ask to erase my data").click()
    page.get_by_role("heading", name="We have your request").wait_for()
    with Store(store_path) as store:
        assert store.customer(customer_id)["city"] == "Cambridge"
        assert [(r["id"], r["done"]) for r in store.erasure_requests()] == [(customer_id, False)]


def _mailed_path(outbox: Path, pattern: str, prefix: str) -> str:
    import email
    from email import policy

    (sent,) = outbox.glob(pattern)
    text = email.message_from_bytes(sent.read_bytes(), policy=policy.default).get_content()
    found = re.search(rf"https?://[^/\s]+({prefix}\S+)", text)
    assert found, text
    return found.group(1)


def _confirmed(store_path) -> bool:
    with Store(store_path) as store:
        return any((s["origin"] or {}).get("confirmed_at") for s in store.sources())


def _marketing(store_path, customer_id: int) -> tuple:
    with Store(store_path) as store:
        customer = store.customer(customer_id)
        return customer.get("email_marketing"), customer.get("sms_marketing")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _printed_app_url(server: subprocess.Popen) -> str:
    import threading

    for line in server.stdout:
        found = re.search(r"the address with its token is in (\S+),", line)  # (its output is no terminal)
        if found:
            # (the server goes on logging: read it away, or a full pipe would stop it)
            threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
            return Path(found.group(1)).read_text().strip()
    raise AssertionError("custdesk serve printed no address")


def _inactive(store_path) -> bool:
    with Store(store_path) as store:
        return not next(store.customers())["active"]


def _until(condition, seconds: float) -> None:
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("the app did not act on the key in time")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.fixed_dictionaries({name: st.text(max_size=40) for name, *_ in signup.FIELDS}),
       kind=st.sampled_from(["corporate", "private", "", "admin"]), consent=st.booleans())
def test_any_form_values_are_a_sign_up_or_field_errors_never_a_crash(store, values, kind, consent):
    from store.base.errors import ValidationFailed

    try:
        outcome, _ = store.sign_up(kind, {**values, "consent": consent})
    except ValidationFailed as failed:
        assert failed.issues and all(issue.field for issue in failed.issues)
    else:
        assert consent and kind in ("corporate", "private") and outcome in ("new", "prospect-again", "customer-again")


async def test_a_form_that_is_not_utf8_is_refused_not_garbled(site, store):
    _server, client = site
    body = f"csrf={await csrf(client)}&kind=private&first_name=J%FCrgen&email=j%40example.de&consent=yes"  # Latin-1 ü
    response = await client.post("/signup", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 400 and list(store.sources()) == []
