"""`custdesk serve` facing the internet (issue 24): one anonymous client cannot stop the
server. Clients that never finish their headers are dropped while others are served; running
out of descriptors never stops it (a real `custdesk serve` process, started as the bench
starts it); connections over the cap, or over one address's share of it, are refused at
once and the server goes on."""
import asyncio
import socket
import time

import pytest
from web_client import PARTIAL, exchange, get, request, serving

from web import transport
from web.server import CustdeskServer
from web.transport import listen


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
