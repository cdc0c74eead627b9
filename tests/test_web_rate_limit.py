"""`custdesk serve` facing the internet (issue 24): the sign-up rate limit counts the
address the proxy's own hop appended (however the client fills X-Forwarded-For), and
its table stays bounded and forgets the stale."""
import time

from web_client import exchange, request

from web import signup
from web.server import CustdeskServer
from web.transport import listen


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
