"""What stands between the internet and the handlers of `custdesk serve`.

One anonymous client must not stop the server: a connection gets `HEADER_TIMEOUT`
seconds to send its headers (aiohttp's keep-alive timer starts when the connection
is made and drops it if no whole request has arrived by then); the number of open
connections is capped well below the descriptors the process may hold, and so is
each client's share of them (`Admission`); a connection over either cap is answered
503 and closed; a failed accept() is logged in one line and retried by asyncio,
never the end of the process. The logs carry no
query string (a token in a URL stays out of the journal) and a malformed request
is one line, never a traceback.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import resource
from collections import Counter
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import ERROR

from store.base.text import printable

HEADER_TIMEOUT = 5.0  # also how long an idle keep-alive connection stays open
LINGER = 2.0  # how long a body nobody read is drained after the answer, before closing
MAX_CONNECTIONS = 4096
# Descriptors kept beyond the connections: the store's files, each browser's app process and its pipes.
SPARE_DESCRIPTORS = 256
# asyncio accepts up to its backlog of connections before the refused ones are closed: kept
# well below the spare descriptors, so a flood of connections cannot exhaust them.
ACCEPT_BATCH = 100
# The connections one client may hold open: a quarter of the cap, at most this many (a
# browser opens about six, the app's websocket one more; a shared office address a few browsers).
PER_ADDRESS = 64
# Connections from these are this host's own (a reverse proxy beside the server, a local
# tool) and count against the overall cap only: one address there is everyone behind it.
THIS_HOST = frozenset({"127.0.0.1", "::1"})
_TOO_MANY = b"Too many connections; please try again in a few seconds.\n"
_REFUSED = (b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: text/plain\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(_TOO_MANY), _TOO_MANY))
# On every answer: no address it came from is sent on, no software or version named.
PLAIN_HEADERS = {"Referrer-Policy": "no-referrer", "Server": "custdesk"}
log = logging.getLogger("custdesk.serve")


def connection_cap() -> int:
    """Raise the soft limit of open files to the hard one; the connections to allow beside it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass  # (a limit the system will not raise: the cap follows the soft one)
    return max(8, min(MAX_CONNECTIONS, (soft - SPARE_DESCRIPTORS) // 2))


def client_of(peername: Any) -> str:
    """The client a connection counts against: its address, an IPv6 one by its /64 (what one
    host is usually given), an IPv4 one mapped into IPv6 as itself."""
    try:
        address = ipaddress.ip_address(peername[0])
    except (TypeError, IndexError, ValueError):
        return ""  # (not an IP connection)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        if not address.is_loopback:
            return str(ipaddress.IPv6Network((address.packed, 64), strict=False))
    return str(address)


class Admission:
    """The connections open now: at most `cap` in all, and `per_address` from one client
    (`client_of`), except from `THIS_HOST`, or from anywhere `behind_proxy`: then every
    connection comes from the proxy, which only knows its clients (and can limit each)."""

    def __init__(self, cap: int, *, behind_proxy: bool = False) -> None:
        self.cap, self.per_address = cap, max(1, min(PER_ADDRESS, cap // 4))
        self.behind_proxy = behind_proxy
        self.open = 0
        self.by_client: Counter[str] = Counter()

    def _shared(self, client: str) -> bool:
        return self.behind_proxy or client in THIS_HOST

    def admit(self, client: str) -> bool:
        if self.open >= self.cap or (not self._shared(client) and self.by_client[client] >= self.per_address):
            return False
        self.open += 1
        if not self._shared(client):
            self.by_client[client] += 1
        return True

    def release(self, client: str) -> None:
        self.open -= 1
        if not self._shared(client):
            self.by_client[client] -= 1
            if not self.by_client[client]:
                del self.by_client[client]


class _Connection(web.RequestHandler):
    """aiohttp's connection, counted by an `Admission` from when it is made to when it is
    lost; one the admission refuses is told so and closed at once, never read."""

    def __init__(self, manager: web.Server, admission: Admission, **options: Any) -> None:
        super().__init__(manager, **options)
        self.admission, self.client, self.admitted = admission, "", False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.client = client_of(transport.get_extra_info("peername"))
        if not self.admission.admit(self.client):
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(_REFUSED)
            transport.close()
            return
        self.admitted = True
        super().connection_made(transport)

    def handle_error(self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """aiohttp's answer to a request it could not parse (or a handler's failure): no app's
        `on_response_prepare` runs for it, so its headers are set here."""
        response = super().handle_error(request, status, exc, message)
        response.headers.update(PLAIN_HEADERS)
        return response

    def connection_lost(self, exc: BaseException | None) -> None:
        if self.admitted:
            self.admitted = False
            self.admission.release(self.client)
            super().connection_lost(exc)


# What aiohttp's reason for a 400 quotes of the request, as bytes or text, to its end: the
# request line or a header line, which may carry the app's token (in a query, a Referer),
# its cookie, or a proxy's credentials.
_QUOTED = re.compile(r"""(?:(?<=[\s:(])|^)(?:bytearray\()?b?['"].*""", re.DOTALL)


def logged_path(request: web.BaseRequest) -> str:
    """The path a log line shows: a route with a variable part (a signed link's token, which
    opens a person's data for an hour; a download's key) as the route's pattern,
    `/account/{token}/data.json`, so the log says which page was asked for, never the secret
    (however the client spelled or encoded it); any other path as the client sent it."""
    info = request.match_info if isinstance(request, web.Request) else None
    if info is not None and info:
        return str(info.route.resource.canonical) if info.route.resource is not None else "?"
    return request.raw_path.partition("?")[0]


class AccessLog(AbstractAccessLogger):
    """One line a request: address, method, path without its query, status, size, time.
    A request aiohttp could not parse is the line saying why, without what it quotes of
    the request (its traceback is dropped)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if (request.method, request.version) == (ERROR.method, ERROR.version):  # (what aiohttp answers 400 for)
            reason = (response.text or "") if isinstance(response, web.Response) else ""
            self.logger.info("%s bad request (%d): %s", request.remote, response.status,
                             printable(" ".join(_QUOTED.sub("", reason).split()).rstrip(" :.")[:200]))
            return
        # (the path as the client sent it, encoded: a %0A in it cannot start a line of its own)
        self.logger.info('%s "%s %s" %d %d %.3fs', request.remote, printable(request.method),
                         printable(logged_path(request)), response.status,
                         response.body_length, time)


def _not_a_client_fault(record: logging.LogRecord) -> bool:
    """aiohttp logs a malformed request, or a body it cannot decode (drained after the answer
    when no handler read it), with its traceback; the access line already says it."""
    return not (record.exc_info and isinstance(record.exc_info[1], (HttpProcessingError, web.RequestPayloadError)))


class _Printable(logging.Formatter):
    """Log text as the command line prints it: control characters from requests made visible."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), keep_lines=True)


def setup_logging() -> None:
    """Plain lines on stderr (a journal under systemd), no tracebacks with local variables."""
    handler = logging.StreamHandler()
    handler.setFormatter(_Printable("%(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


class _LoopErrors:
    """An accept() that failed (descriptors, memory) is one line, at most one every
    `QUIET` seconds (asyncio retries it by itself, and logs each try of a burst)."""

    QUIET = 10.0

    def __init__(self) -> None:
        self.said = -self.QUIET

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if not isinstance(context.get("exception"), OSError):
            loop.default_exception_handler(context)
        elif loop.time() - self.said >= self.QUIET:
            self.said = loop.time()
            log.warning("%s: %s", context["message"], context["exception"])


class Listening:
    """The app served on host:port with the limits above, until `close()`."""

    def __init__(self, runner: web.AppRunner, server: asyncio.Server) -> None:
        self.runner, self.server = runner, server

    @property
    def port(self) -> int:
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        self.server.close()
        await self.runner.cleanup()


async def listen(app: web.Application, host: str, port: int, *, behind_proxy: bool = False) -> Listening:
    """`app` served on host:port with the limits above; `behind_proxy`: every connection
    comes from a reverse proxy (no share for each address, see `Admission`)."""
    server_log = logging.getLogger("aiohttp.server")
    if _not_a_client_fault not in server_log.filters:
        server_log.addFilter(_not_a_client_fault)
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_LoopErrors())
    # (given to the runner's server and to each connection made here: they are the same settings)
    options: dict[str, Any] = {"access_log_class": AccessLog, "keepalive_timeout": HEADER_TIMEOUT, "lingering_time": LINGER}
    runner = web.AppRunner(app, handler_cancellation=True, **options)
    await runner.setup()
    manager = runner.server
    assert manager is not None
    admission = Admission(connection_cap(), behind_proxy=behind_proxy)
    server = await loop.create_server(lambda: _Connection(manager, admission, loop=loop, **options), host, port,
                                      backlog=ACCEPT_BATCH, reuse_address=True)
    return Listening(runner, server)
