"""A client of `custdesk serve` for the tests of web/ (issue 24): requests written byte
by byte, sent in as many TCP segments as a test wants, from any address of 127/8, and
the app served in this process on 127.0.0.1 by the production stack (`web.transport.listen`),
for the `served` fixture; a real `custdesk serve` process is started as the bench starts it
(`bench/serve_slow_clients.py`)."""
import asyncio
import itertools
import re
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

from helpers import ROOT

from store import Store
from web.server import CustdeskServer
from web.transport import listen

sys.path.insert(0, str(ROOT / "bench"))
from serve_slow_clients import PARTIAL, free_port, get, serving

__all__ = ["PARTIAL", "assert_whole", "chunked", "exchange", "form", "free_port", "get", "request", "serve_in_process",
           "serving", "signed_up", "split"]

FORM = {"kind": "corporate", "company": "Café Ünal Ltd", "first_name": "Zeynep", "last_name": "Ünal",
        "phone": "", "street": "İstiklal Cd. 1", "postcode": "34430", "city": "İstanbul", "country": "TR",
        "vat_id": "", "consent": "yes"}
_emails = itertools.count(1)


@asynccontextmanager
async def serve_in_process(store: Store, store_path: Path | str) -> AsyncIterator[tuple[CustdeskServer, int, str]]:
    """(server, port, csrf) of the app served in this process as `custdesk serve` serves it."""
    server = CustdeskServer(store_path, store)
    listening = await listen(await server._make_app(), "127.0.0.1", 0)
    try:
        page = (await exchange(listening.port, request("GET", "/signup")))[2]
        yield server, listening.port, re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    finally:
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


def _one_line_each(caplog) -> list[str]:
    """The log lines of one request: one, and no traceback."""
    lines = [r for r in caplog.records if r.name.startswith("aiohttp")]
    assert len(lines) == 1 and lines[0].exc_info is None and "Traceback" not in caplog.text, caplog.text
    return [r.getMessage() for r in lines]
