"""`custdesk serve` keeps answering while 1,000 slow clients hang on it and another
process holds the store's lock (issue 24).

Starts a real `custdesk serve` on a temporary store on a free port of 127.0.0.1,
times `GET /signup` alone (the reference), then again while a second process holds
the store's lock (after committing a change the server cannot catch up with) and a
third keeps `--clients` connections sending a request's headers a byte at a time
(each one the server drops is opened again, so that many stay connected), and a
sign-up posted meanwhile waits for the lock (answered "busy" after its bounded wait).
Every loop is bounded in count and time; the script stops by itself.

    .venv/bin/python bench/serve_slow_clients.py [--clients 1000] [--requests 100]
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import multiprocessing
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path

from common import ROOT, median

GOAL = 0.2  # seconds for GET /signup under load (issue 24)
PARTIAL = b"GET /signup HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(db: Path, *, nofile: int | None = None, seconds: float = 30) -> Iterator[tuple[int, Path]]:
    """A real `custdesk serve` on the store `db` (port, the file its output goes to);
    `nofile` lowers its open-files limit, soft and hard."""
    port, output = free_port(), db.with_name(f"serve-{db.stem}.log")
    limit = f"resource.setrlimit(resource.RLIMIT_NOFILE, ({nofile}, {nofile}))" if nofile else "pass"
    run = f"import resource, runpy; {limit}; runpy.run_module('cli', run_name='__main__')"
    with output.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-c", run, "--db", str(db), "serve", "--port", str(port)],
                                   cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        end = time.monotonic() + seconds
        while "sign-up page at" not in output.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"custdesk serve did not start: {output.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        yield port, output
    finally:
        process.terminate()
        process.wait(timeout=20)


def get(port: int, path: str = "/signup", timeout: float = 10) -> tuple[int, float, str]:
    """(status, seconds, body) of one request on a new connection."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    return response.status, time.perf_counter() - start, body


def post_sign_up(port: int) -> tuple[int, float]:
    """(status, seconds) of one valid sign-up."""
    csrf = re.search(r'name="csrf" value="([^"]+)"', get(port)[2])
    assert csrf is not None
    form = f"csrf={csrf.group(1)}&kind=private&first_name=Ada&email=ada%40example.com&consent=yes"
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/signup", form, {"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    return response.status, time.perf_counter() - start


# -- the other processes ---------------------------------------------------------------
def hold_lock(db: str, held: Event, release: Event, seconds: float) -> None:
    """Commit a change, then hold the store's lock (as an import does) until told or `seconds` pass."""
    sys.path.insert(0, str(ROOT))
    from store import Store

    with Store(db) as store, store.reserved():
        store.update_settings(shop_name="Renamed While Busy")
        held.set()
        release.wait(seconds)


def slow_clients(port: int, count: int, connected: Synchronized, stop: Event, seconds: float) -> None:
    asyncio.run(_slow_clients(port, count, connected, stop, seconds))


async def _slow_clients(port: int, count: int, connected: Synchronized, stop: Event, seconds: float) -> None:
    end = asyncio.get_running_loop().time() + seconds

    async def one() -> None:
        while not stop.is_set() and asyncio.get_running_loop().time() < end:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.5)
                continue
            with connected.get_lock():
                connected.value += 1
            try:
                writer.write(PARTIAL)
                while not stop.is_set() and asyncio.get_running_loop().time() < end:
                    try:  # a byte of the header now and then, until the server hangs up
                        if await asyncio.wait_for(reader.read(1), 1.0) == b"" or reader.at_eof():
                            break
                    except TimeoutError:
                        writer.write(b"x")
            except OSError:
                pass
            finally:
                with connected.get_lock():
                    connected.value -= 1
                writer.close()

    await asyncio.gather(*(one() for _ in range(count)))


# -- the measurement ---------------------------------------------------------------------
def timed_gets(port: int, requests: int) -> list[float]:
    times = []
    for _ in range(requests):
        status, seconds, _body = get(port)
        assert status == 200, status
        times.append(seconds)
        time.sleep(0.05)
    return times


def figures(times: list[float]) -> str:
    return f"median {median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    spawn = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "custdesk.json"  # (created by serve)
        with serving(db) as (port, _output):
            reference = timed_gets(port, args.requests)
            held, release, stop = spawn.Event(), spawn.Event(), spawn.Event()
            connected = spawn.Value("i", 0)
            holder = spawn.Process(target=hold_lock, args=(str(db), held, release, 120))
            clients = spawn.Process(target=slow_clients, args=(port, args.clients, connected, stop, 120))
            holder.start()
            clients.start()
            try:
                held.wait(30)
                end = time.monotonic() + 30
                while connected.value < args.clients and time.monotonic() < end:
                    time.sleep(0.1)
                before = connected.value
                with ThreadPoolExecutor(1) as pool:  # a sign-up waiting for the lock meanwhile
                    waiting = pool.submit(post_sign_up, port)
                    loaded = timed_gets(port, args.requests)
                    busy_status, busy_seconds = waiting.result(timeout=60)
                after = connected.value
                shop = "Renamed While Busy" in get(port)[2]
            finally:
                stop.set()
                release.set()
                holder.join(30)
                clients.join(30)
    print(f"GET /signup alone (reference):           {figures(reference)} ({args.requests} requests)")
    print(f"GET /signup, {before:,}→{after:,} slow clients connected, another process holding the lock: "
          f"{figures(loaded)} (goal ≤ {GOAL * 1000:.0f} ms; the page showed the last known settings: {not shop})")
    print(f"POST /signup meanwhile (waiting for the lock): {busy_status} after {busy_seconds:.2f} s")
    print("goal met" if max(loaded) <= GOAL else "GOAL MISSED")


if __name__ == "__main__":
    main()
