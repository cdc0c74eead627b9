"""`custdesk serve` facing the internet (issue 24): secrets out of URLs, logs and Referers.
The token becomes a cookie (Secure behind https) and is never logged; a malformed
request, a secret sent back in any text or any path a client names is one log line and
a refusal, never a crash or a traceback; every answer says no-referrer, names no
software, lists no folder and loads nothing from elsewhere. At start the address with
its token is printed on a terminal only; as a service it goes to a file of the user."""
import asyncio
import http.client
import logging
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from helpers import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_client import _one_line_each, exchange, free_port, request, serving

from web import signup
from web.server import COOKIE, CustdeskServer
from web.transport import listen


async def test_the_token_becomes_a_cookie_and_a_redirect_and_is_never_logged(served, caplog):
    caplog.set_level(logging.INFO)
    server, port, _csrf = served
    status, headers, _body = await exchange(port, request("GET", f"/?token={server.token}&fontsize=20"))
    assert status == 303 and headers["location"] == "/"
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={server.token};") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # (http here: a browser would not send it back)
    status, _headers, page = await exchange(port, request("GET", "/", Cookie=f"{COOKIE}={server.token}"))
    assert status == 200 and "textual.js" in page
    assert server.token not in caplog.text and "fontsize" not in caplog.text  # no query string in the access log
    assert '"GET /" 303' in caplog.text and '"GET /" 200' in caplog.text
    caplog.clear()
    await exchange(port, request("GET", "/signup%0A127.0.0.1%20%22GET%20/forged%22%20200%1b[2J?token=x"))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert "\n" not in line and "\x1b" not in line and "token" not in line  # one line, as sent, no query


async def test_a_signed_links_token_is_never_logged_however_it_is_spelled(served, store, caplog):
    """A self-service link opens a person's data for an hour: the access log names the page, not the token."""
    caplog.set_level(logging.INFO)
    _server, port, _csrf = served
    ada = store.add_customer("private", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"})
    token = store.sign_link("account", "customers", ada["id"], ttl=3600)
    for path in (f"/account/{token}", f"/account/{token}/data.json", f"/acc%6Funt/{token}", f"/unsubscribe/{token}",
                 f"/confirm/{token}"):
        await exchange(port, request("GET", path))
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == 5 and not any(token in line or token[:20] in line for line in lines)
    assert '"GET /account/{token}" 200' in lines[0] and '"GET /account/{token}/data.json" 200' in lines[1]
    assert '"GET /account/{token}" 200' in lines[2]  # (an encoded path is the same page, logged the same)


async def test_a_malformed_request_carrying_the_token_or_cookie_logs_neither(served, caplog):
    caplog.set_level(logging.DEBUG)
    server, port, _csrf = served
    token = server.token.encode()
    for raw in (b"GET /?token=" + token + b"&x=\x7f HTTP/1.1\r\nHost: x\r\n\r\n",  # a byte the parser refuses
                b"GET /?token=" + token + b"&pad=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",  # too long
                b"GET /?token=" + token + b" x HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: x\r\nCookie: " + COOKIE.encode() + b"=" + token + b"\x01\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: x\r\nCookie: " + COOKIE.encode() + b"=" + token + b"a" * 9000 + b"\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: x\r\nReferer: http://x/?token=" + token + b"\x7f\r\n\r\n"):
        caplog.clear()
        status, _headers, _body = await exchange(port, raw)
        await asyncio.sleep(0.05)
        (line,) = _one_line_each(caplog)
        assert status == 400 and "bad request" in line, raw[:60]
        assert server.token not in caplog.text and server.token[:8] not in caplog.text, line


async def test_an_https_public_url_makes_the_cookie_secure(store, store_path):
    server = CustdeskServer(store_path, store, public_url="https://crm.example.com")
    listening = await listen(await server._make_app(), "127.0.0.1", 0)
    try:
        status, headers, _body = await exchange(listening.port, request("GET", f"/?token={server.token}"))
    finally:
        await listening.close()
    assert status == 303 and "Secure" in headers["set-cookie"].split("; ")


async def test_every_answer_says_no_referrer_names_no_software_lists_no_folder_and_loads_nothing_from_elsewhere(served):
    server, port, _csrf = served
    cookie = f"{COOKIE}={server.token}"
    for target, kwargs in [("/signup", {}), ("/", {}), ("/", {"Cookie": cookie}), ("/nowhere", {}),
                           ("/static/js/textual.js", {}), (f"/?token={server.token}", {})]:
        _status, headers, _body = await exchange(port, request("GET", target, **kwargs))
        assert headers["referrer-policy"] == "no-referrer" and headers["server"] == "custdesk", target
    for folder in ("/static/", "/static/js/", "/static/fonts/", "/static", "/static/.", "/static/js", "/static/fonts",
                   "/static/%2e", "/static/js/..", "/static/%2e%2e/static"):  # no listing of what is served
        status, _headers, body = await exchange(port, request("GET", folder))
        assert status in (403, 404) and "Index of" not in body and "textual.js" not in body, folder
    for raw in (b"GARBAGE / HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"y" * 9000 + b"\r\n\r\n"):
        status, headers, _body = await exchange(port, raw)  # (answered by aiohttp's parser, before any handler)
        assert status == 400 and headers["server"] == "custdesk" and headers["referrer-policy"] == "no-referrer"
    _status, _headers, page = await exchange(port, request("GET", "/", Cookie=cookie))
    fetched = re.findall(r'(?:href|src)="([^"]+)"|url\("?([^")]+)', page)
    assert fetched and all(url.startswith(f"{server.public_url}/static/") for pair in fetched for url in pair if url)
    assert "googleapis" not in page and "fonts/RobotoMono" in page  # the font comes from here


async def test_a_malformed_request_is_one_log_line_never_a_traceback(served, caplog):
    caplog.set_level(logging.INFO)
    _server, port, _csrf = served
    for raw in (b"GARBAGE\x1b[31m / HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"y" * 9000 + b"\r\n\r\n",
                request("POST", "/signup", b"", Transfer_Encoding="chunked") + b"zz\r\nabc\r\n0\r\n\r\n"):
        caplog.clear()
        status, _headers, _body = await exchange(port, raw)
        await asyncio.sleep(0.05)  # (the line is written as the connection closes)
        lines = [r for r in caplog.records if r.name.startswith("aiohttp")]
        assert status == 400 and len(lines) == 1, (raw[:40], caplog.text)
        assert "\n" not in lines[0].getMessage() and lines[0].exc_info is None and "bad request" in lines[0].getMessage()


async def test_a_secret_sent_back_in_any_text_is_refused_never_a_crash(served, caplog):
    caplog.set_level(logging.INFO)
    _server, port, _csrf = served
    for raw, expected in ((request("GET", "/?token=%C3%A9"), 403), (request("GET", "/?token=%ED%A0%80"), 403),
                          (b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: " + COOKIE.encode()
                           + b"=\xff\xfe\r\n\r\n", 403),
                          (request("POST", "/signup", b"csrf=1.%C3%A9"), 403),
                          (request("POST", "/signup", b"csrf=%C2%B2.%C3%A9"), 403)):
        caplog.clear()
        status, _headers, _body = await exchange(port, raw)
        await asyncio.sleep(0.05)
        assert status == expected, raw
        _one_line_each(caplog)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.binary(max_size=40), cookie=st.binary(max_size=40), csrf=st.binary(max_size=40))
async def test_no_token_cookie_or_form_signature_makes_the_server_fail(served, caplog, monkeypatch, token, cookie, csrf):
    monkeypatch.setattr(signup, "RATE_LIMIT", 10_000)
    caplog.set_level(logging.INFO)
    _server, port, _csrf = served
    quoted = "".join(f"%{byte:02X}" for byte in token)
    cookie_line = b"Cookie: " + COOKIE.encode() + b"=" + cookie.replace(b"\r", b"").replace(b"\n", b"")
    for raw in (request("GET", f"/?token={quoted}"),
                b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + cookie_line + b"\r\n\r\n",
                request("POST", "/signup", b"csrf=" + "".join(f"%{byte:02X}" for byte in csrf).encode())):
        caplog.clear()
        status, _headers, _body = await exchange(port, raw)
        await asyncio.sleep(0.02)
        assert status in (400, 403), raw
        _one_line_each(caplog)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(["/static/", "/static/js/", "/", "/signup/", "/download/"]),
       name=st.one_of(st.binary(max_size=30), st.builds(lambda n: b"a" * n, st.integers(250, 5000))))
async def test_no_path_a_client_names_makes_the_server_fail(served, caplog, prefix, name):
    caplog.set_level(logging.INFO)
    _server, port, _csrf = served
    caplog.clear()
    status, _headers, _body = await exchange(port, request("GET", prefix + "".join(f"%{byte:02X}" for byte in name)))
    await asyncio.sleep(0.02)
    assert status in (200, 400, 403, 404), (prefix, name[:40])
    _one_line_each(caplog)


# -- the token at start: on a terminal only --------------------------------------------------------
def test_as_a_service_the_token_goes_to_a_file_of_the_user_not_to_stdout(tmp_path):
    with serving(tmp_path / "custdesk.json") as (port, output):  # (its output to a file, as under systemd)
        printed = output.read_text()
        found = re.search(r"the app at (http://\S+/) \(the address with its token is in (\S+), readable only by its owner\)",
                          printed)
        assert found and "?token=" not in printed, printed
        kept = Path(found.group(2))
        assert kept.stat().st_mode & 0o777 == 0o600 and kept.parent == Path(os.environ["CUSTDESK_DATA_DIR"])
        url = kept.read_text()
        assert url.startswith(f"{found.group(1)}?token=") and url.endswith("\n")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", url.strip().removeprefix(f"http://127.0.0.1:{port}"))
        response = connection.getresponse()
        assert response.status == 303 and COOKIE in response.getheader("Set-Cookie")  # the address works
        connection.close()
    assert not kept.exists()  # (its token died with the server)


def test_on_a_terminal_the_address_with_its_token_is_printed(tmp_path):
    controller, terminal = pty.openpty()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "cli", "--db", str(tmp_path / "custdesk.json"), "serve", "--port",
                               str(port)], cwd=ROOT, stdout=terminal, stderr=subprocess.DEVNULL)
    seen = b""
    try:
        os.close(terminal)
        end = time.monotonic() + 30
        while b"sign-up page at" not in seen and time.monotonic() < end:
            if select.select([controller], [], [], 0.5)[0]:
                seen += os.read(controller, 4096)
    finally:
        server.terminate()
        server.wait(timeout=20)
        os.close(controller)
    assert re.search(rb"the app at http://127\.0\.0\.1:%d/\?token=[\w-]{32}\s" % port, seen), seen
    assert not list(Path(os.environ["CUSTDESK_DATA_DIR"]).glob("serve-*.url"))  # nothing kept where it was seen
