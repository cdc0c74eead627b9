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

    with Store(store_path) as store:
        store.add_customer("corporate", {"company": "Analytical Engines", "email": "ada@example.com"})
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "cli", "--db", str(store_path), "serve", "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "200"})
    try:
        app_url = _printed_app_url(server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"http://127.0.0.1:{port}/signup")
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
            forged = page.request.post(f"http://127.0.0.1:{port}/signup", form={"email": "forged@example.com"})
            assert forged.status == 403
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
