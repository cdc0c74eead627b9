"""Secrets a client sends back (the app's token and cookie, the sign-up form's signature)."""
from __future__ import annotations

import hmac


def matches(given: str, expected: str) -> bool:
    """Whether `given`, as a client sent it, is `expected`, in constant time. Compared as
    bytes: hmac refuses text with non-ASCII characters, and a client's text may hold any
    (`?token=%C3%A9`, or a cookie of raw bytes, which aiohttp decodes to lone surrogates)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))
