"""`custdesk serve` facing the internet (issue 24): slow and malformed clients, bodies
in pieces, secrets kept out of logs and Referers, the proxy's address, a bounded
rate-limit table, settings changed elsewhere, another process holding the lock.

In-process tests run the production stack (`web.transport.listen`) on 127.0.0.1;
the ones about descriptors and slow clients run a real `custdesk serve` process
(`bench/serve_slow_clients.py` starts it, as the bench does)."""
import asyncio
import http.client
import itertools
import logging
import os
import pty
import re
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from helpers import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import Store
from web import signup, transport
from web.server import COOKIE, CustdeskServer
from web.transport import listen

sys.path.insert(0, str(ROOT / "bench"))
from serve_slow_clients import PARTIAL, free_port, get, serving

FORM = {"kind": "corporate", "company": "Café Ünal Ltd", "first_name": "Zeynep", "last_name": "Ünal",
        "phone": "", "street": "İstiklal Cd. 1", "postcode": "34430", "city": "İstanbul", "country": "TR",
        "vat_id": "", "consent": "yes"}
_emails = itertools.count(1)


@pytest.fixture
async def served(store, store_path):
    """(server, port, csrf) of the app served in this process as `custdesk serve` serves it."""
    server = CustdeskServer(store_path, store)
    listening = await listen(await server._make_app(), "127.0.0.1", 0)
    page = (await exchange(listening.port, request("GET", "/signup")))[2]
    yield server, listening.port, re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    await listening.close()


def request(method: str, target: str, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
             *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items())]
    if body and "Transfer_Encoding" not in headers:
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    elif body:
        lines.append("Content-Type: application/x-www-form-urlencoded")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def exchange(port: int, *segments: bytes, pause: float = 0.0, source: str = "127.0.0.1") -> tuple[int, dict[str, str], str]:
    """(status, headers, body) of what the server answers to `segments`, each sent as its own
    TCP segment `pause` seconds after the one before, from the address `source` (of 127/8)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        async with asyncio.timeout(30):
            for i, segment in enumerate(segments):
                if i and pause:
                    await asyncio.sleep(pause)
                writer.write(segment)
                await writer.drain()
            answer = await reader.read()
    finally:
        writer.close()
    head, _, body = answer.decode("utf-8", "replace").partition("\r\n\r\n")
    status_line, *header_lines = head.split("\r\n")
    headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def form(csrf: str, **changes: str) -> tuple[bytes, str]:
    email = f"z{next(_emails)}@cafe-unal.com.tr"
    return urlencode({"csrf": csrf, **FORM, "email": email, **changes}).encode(), email


def chunked(body: bytes, cuts: list[int]) -> list[bytes]:
    """`body` in chunked transfer encoding, a chunk between each two cuts, its end last."""
    bounds = [0, *sorted(set(cuts) - {0, len(body)}), len(body)]
    return [b"%x\r\n%s\r\n" % (end - start, body[start:end]) for start, end in itertools.pairwise(bounds)] + [b"0\r\n\r\n"]


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(set(cuts) - {0, len(data)}), len(data)]
    return [data[start:end] for start, end in itertools.pairwise(bounds)]


def signed_up(store: Store, email: str) -> dict:
    (prospect,) = [s for s in store.sources() if s.get("email") == email]
    return prospect


def assert_whole(store: Store, email: str) -> None:
    prospect = signed_up(store, email)
    assert (prospect["company"], prospect["city"], prospect["postcode"], prospect["country"]) == (
        "Café Ünal Ltd", "İstanbul", "34430", "TR")
    assert prospect["origin"]["consent_at"]  # (the last field of the form)


# -- bodies read whole up to the limit, whatever the transfer encoding ------------------------
async def test_a_form_in_two_tcp_segments_keeps_its_later_fields(served, store):
    _server, port, csrf = served
    body, email = form(csrf)
    whole = request("POST", "/signup", body)
    status, _headers, page = await exchange(port, whole[:-len(body) + 40], whole[-len(body) + 40:], pause=0.3)
    assert status == 200 and "Thank you" in page
    assert_whole(store, email)


async def test_a_chunked_body_is_read_whole_and_over_the_limit_refused(served, store):
    _server, port, csrf = served
    body, email = form(csrf)
    head = request("POST", "/signup", b"", Transfer_Encoding="chunked")
    status, _headers, _page = await exchange(port, head, *chunked(body, [7, 50, 51]), pause=0.1)
    assert status == 200
    assert_whole(store, email)
    huge, huge_email = form(csrf, notes="x" * signup.MAX_BODY)
    status, headers, _page = await exchange(port, head, *chunked(huge, list(range(0, len(huge), 1000))))
    assert status == 413 and headers["connection"] == "close"
    declared = request("POST", "/signup", b"", Content_Length=str(signup.MAX_BODY + 1))
    assert (await exchange(port, declared))[0] == 413  # refused before a byte of it is read
    assert not [s for s in store.sources() if s.get("email") == huge_email]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(0, 400), max_size=8), encoding=st.sampled_from(["length", "chunked"]), data=st.data())
async def test_a_sign_up_split_anywhere_arrives_whole(served, store, monkeypatch, cuts, encoding, data):
    monkeypatch.setattr(signup, "RATE_LIMIT", 10_000)
    _server, port, csrf = served
    body, email = form(csrf)
    if encoding == "length":
        segments = split(request("POST", "/signup", body), cuts)
    else:
        segments = [request("POST", "/signup", b"", Transfer_Encoding="chunked"),
                    *split(b"".join(chunked(body, data.draw(st.lists(st.integers(0, len(body)), max_size=6)))), cuts)]
    status, _headers, page = await exchange(port, *segments, pause=0.01)
    assert status == 200, page
    assert_whole(store, email)


async def test_a_body_that_never_ends_is_answered_408_and_the_server_goes_on(served, store, monkeypatch):
    monkeypatch.setattr(signup, "BODY_TIMEOUT", 0.5)
    _server, port, csrf = served
    body, email = form(csrf)
    started = time.monotonic()
    status, _headers, _page = await exchange(port, request("POST", "/signup", body)[:-10])  # 10 bytes never come
    assert status == 408 and time.monotonic() - started < 5
    assert not [s for s in store.sources() if s.get("email") == email]
    assert (await exchange(port, request("GET", "/signup")))[0] == 200


async def test_a_body_its_content_encoding_cannot_decode_is_400_in_one_line_wherever_it_is_sent(served, caplog):
    caplog.set_level(logging.INFO)
    _server, port, _csrf = served
    for encoding, body in (("gzip", b"\x1f\x8b" + b"\x00" * 18), ("deflate", b"hello"), ("gzip", b"not gzip at all")):
        for target, expected in (("/signup", 400), ("/nowhere", 404), ("/", 403)):  # (the last two never read it)
            caplog.clear()
            status, _headers, _page = await exchange(port, request("POST", target, body, Content_Encoding=encoding))
            await asyncio.sleep(0.1)  # (what was not read is drained after the answer)
            assert status == expected, (encoding, target)
            _one_line_each(caplog)


# -- secrets out of URLs, logs and Referers ----------------------------------------------------
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


def _one_line_each(caplog) -> list[str]:
    """The log lines of one request: one, and no traceback."""
    lines = [r for r in caplog.records if r.name.startswith("aiohttp")]
    assert len(lines) == 1 and lines[0].exc_info is None and "Traceback" not in caplog.text, caplog.text
    return [r.getMessage() for r in lines]


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


# -- the rate limit: the proxy's own hop, a bounded table -----------------------------------------
async def test_behind_a_proxy_the_limit_counts_the_address_the_proxy_appended(store, store_path, monkeypatch):
    monkeypatch.setattr(signup, "RATE_LIMIT", 2)
    server = CustdeskServer(store_path, store, behind_proxy=True)
    listening = await listen(await server._make_app(), "127.0.0.1", 0)
    try:
        async def post(forwarded: str) -> int:
            return (await exchange(listening.port, request("POST", "/signup", b"x=1", X_Forwarded_For=forwarded)))[0]

        async def post_lines(*forwarded: str) -> int:  # (HAProxy adds its entry as a header line of its own)
            lines = "".join(f"X-Forwarded-For: {entry}\r\n" for entry in forwarded).encode()
            return (await exchange(listening.port, request("POST", "/signup", b"x=1").replace(b"\r\n", b"\r\n" + lines, 1)))[0]

        spoofed = [await post(f"10.9.{n}.1, 203.0.113.7") for n in range(3)]  # a new first entry each time
        other = await post("10.9.0.1, 198.51.100.2")
        in_lines = [await post_lines(f"10.9.{n}.1", "192.0.2.8") for n in range(3)]
        mixed = [await post_lines(f"10.8.{n}.1, 10.7.0.1", "192.0.2.9") for n in range(2)] + [await post("192.0.2.9")]
    finally:
        await listening.close()
    assert spoofed == [403, 403, 429] and other == 403  # (403: no form token; 429: limited)
    assert in_lines == [403, 403, 429] and mixed == [403, 403, 429]


def test_the_rate_limit_table_stays_bounded_and_forgets_the_stale(monkeypatch):
    monkeypatch.setattr(signup, "MAX_TRACKED", 50)
    monkeypatch.setattr(signup, "RATE_LIMIT", 2)
    limit = signup.RateLimit()
    assert all(limit.allow(f"198.51.{n // 256}.{n % 256}") for n in range(5_000))
    assert len(limit.posts) == 50
    assert [limit.allow("203.0.113.7") for _ in range(3)] == [True, True, False]  # still limits
    monkeypatch.setattr(signup, "RATE_WINDOW", 0.05)
    time.sleep(0.1)
    assert limit.allow("192.0.2.1") and list(limit.posts) == ["192.0.2.1"]  # the stale ones forgotten


# -- the store off the event loop: settings per request, the lock held elsewhere ----------------------
async def test_settings_changed_by_another_process_show_on_the_next_page(served, store_path):
    _server, port, _csrf = served
    assert "myself (private)" in (await exchange(port, request("GET", "/signup")))[2]
    with Store(store_path) as other:
        other.update_settings(allow_private_customers=False, shop_name="Kahve Evi")
    page = (await exchange(port, request("GET", "/signup")))[2]
    assert "Sign up with Kahve Evi" in page and "myself (private)" not in page


HOLD = """
import sys, time
from store import Store
with Store(sys.argv[1]) as store, store.reserved():
    store.update_settings(shop_name="Renamed While Busy")
    print("held", flush=True)
    sys.stdin.readline()
"""


async def test_while_another_process_holds_the_lock_pages_stay_fast_and_a_sign_up_is_told_busy(
        served, store, store_path, monkeypatch):
    monkeypatch.setattr(signup, "STORE_WAIT", 1.0)
    _server, port, csrf = served
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store_path)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        started = time.monotonic()
        status, _headers, page = await exchange(port, request("GET", "/signup"))
        assert status == 200 and time.monotonic() - started < 0.5
        assert "Sign up with custdesk" in page  # the settings as last known: the new ones are behind the lock
        body, email = form(csrf)
        started = time.monotonic()
        status, headers, page = await exchange(port, request("POST", "/signup", body))
        waited = time.monotonic() - started
        assert status == 503 and headers["retry-after"] == str(signup.RETRY_AFTER) and 1.0 <= waited < 3
        assert "busy" in page and 'value="İstanbul"' in page  # the values kept for the next press
        assert (await exchange(port, request("GET", "/signup")))[0] == 200  # the worker is free again
    finally:
        holder.communicate("\n", timeout=20)
    status, _headers, page = await exchange(port, request("POST", "/signup", body))
    assert status == 200 and "Renamed While Busy" in page
    assert_whole(store, email)


# -- one anonymous client cannot stop the server (a real `custdesk serve` process) ---------------------
def _partial_headers(port: int, count: int) -> list[socket.socket]:
    """Up to `count` connections that sent part of a request's headers (a connect the full
    backlog of a server out of descriptors leaves unanswered is not retried)."""
    clients = []
    for _ in range(count):
        try:
            client = socket.create_connection(("127.0.0.1", port), timeout=2)
        except TimeoutError:
            continue
        client.sendall(PARTIAL)
        clients.append(client)
    return clients


def _dropped(client: socket.socket) -> bool:
    try:
        return client.recv(1) == b""
    except (TimeoutError, OSError) as err:
        return not isinstance(err, TimeoutError)


def test_clients_that_never_finish_their_headers_are_dropped_and_the_server_answers_meanwhile(tmp_path):
    with serving(tmp_path / "custdesk.json") as (port, output):
        clients = _partial_headers(port, 300)
        try:
            assert len(clients) == 300
            status, seconds, _body = get(port)
            assert status == 200 and seconds < 1
            time.sleep(transport.HEADER_TIMEOUT + 1)
            for client in clients:
                client.settimeout(2)
            assert all(_dropped(client) for client in clients)
        finally:
            for client in clients:
                client.close()
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        raw.sendall(b"GARBAGE\x1b[2J / HTTP/1.1\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.0 400")
        raw.close()
        time.sleep(0.3)
        log = output.read_text()
    assert len([line for line in log.splitlines() if "bad request" in line]) == 1
    assert "Traceback" not in log and "\x1b" not in log


def test_running_out_of_descriptors_never_stops_the_server(tmp_path):
    # (100 descriptors: the connections are capped at a few, and a burst of accepts can still fail)
    with serving(tmp_path / "custdesk.json", nofile=100) as (port, output):
        clients = _partial_headers(port, 400)
        assert len(clients) > 100 and get(port)[0] in (200, 503)  # answered (503: over the cap), never left hanging
        for client in clients:
            client.close()
        time.sleep(1.5)  # (asyncio retries a failed accept after a second)
        status, _seconds, body = get(port)
        assert status == 200 and "Sign up" in body
        log = output.read_text()
    assert "Traceback" not in log and log.count("out of system resource") <= 2


async def test_connections_over_the_cap_are_refused_at_once_and_the_server_goes_on(store, store_path, monkeypatch):
    monkeypatch.setattr(transport, "connection_cap", lambda: 3)
    server = CustdeskServer(store_path, store)
    listening = await listen(await server._make_app(), "127.0.0.1", 0)
    try:
        held = [await asyncio.open_connection("127.0.0.1", listening.port) for _ in range(3)]
        for _reader, writer in held:
            writer.write(PARTIAL)
        await asyncio.sleep(0.1)
        status, headers, body = await exchange(listening.port, request("GET", "/signup"))
        assert status == 503 and headers["retry-after"] == "5" and "Too many connections" in body
        held.pop()[1].close()
        await asyncio.sleep(0.1)
        assert (await exchange(listening.port, request("GET", "/signup")))[0] == 200
    finally:
        for _reader, writer in held:
            writer.close()
        await listening.close()


@pytest.mark.parametrize("behind_proxy", [False, True])
async def test_one_address_cannot_hold_every_connection(store, store_path, monkeypatch, behind_proxy):
    monkeypatch.setattr(transport, "connection_cap", lambda: 8)  # (so 2 from one address)
    server = CustdeskServer(store_path, store, behind_proxy=behind_proxy)
    listening = await listen(await server._make_app(), "127.0.0.1", 0, behind_proxy=behind_proxy)
    port = listening.port
    held = []

    async def hold(source: str) -> None:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        writer.write(PARTIAL)
        held.append(writer)

    try:
        for _ in range(2):
            await hold("127.0.0.2")
        await asyncio.sleep(0.1)
        status, _headers, body = await exchange(port, request("GET", "/signup"), source="127.0.0.2")
        if behind_proxy:  # (every connection comes from the proxy: the proxy limits each client)
            assert status == 200
        else:
            assert status == 503 and "Too many connections" in body
        assert (await exchange(port, request("GET", "/signup"), source="127.0.0.3"))[0] == 200  # everyone else is served
        for _ in range(4):  # this host's own address (a proxy beside the server): the overall cap only
            await hold("127.0.0.1")
        await asyncio.sleep(0.1)
        assert (await exchange(port, request("GET", "/signup")))[0] == 200
        held.pop(0).close()
        await asyncio.sleep(0.1)
        assert (await exchange(port, request("GET", "/signup"), source="127.0.0.2"))[0] == 200  # its share again
    finally:
        for writer in held:
            writer.close()
        await listening.close()
