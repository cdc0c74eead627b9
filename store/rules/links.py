"""Signed links a customer follows without a password: unsubscribe, confirm a sign-up,
self-service. A link carries what it is for, the records it names and when it expires,
signed with the store's own secret (HMAC-SHA256), so the server that answers it keeps no
list of links: a changed byte, another purpose or a passed expiry is refused.

A token is `<payload>.<signature>`, both base64url without padding; the payload is
`purpose|part|…|expires` (expires 0: never, as an unsubscribe link in a mail must work
for as long as the mail is kept).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

from store.base.errors import RuleViolation

SIGNATURE_BYTES = 16  # 128 bits: forging one is out of reach, and the link stays short
MAX_TOKEN = 512  # characters: a longer token is not one of ours (read before any work)


class LinkRefused(RuleViolation):
    """A link that is not ours, was changed, is for something else, or has expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest()[:SIGNATURE_BYTES])


def sign(secret: bytes, purpose: str, parts: tuple[str | int, ...], *, ttl: float | None = None,
         now: float | None = None) -> str:
    """A token for `purpose` naming `parts` (ids: no '|' in them), valid `ttl` seconds (None: always)."""
    texts = [str(part) for part in (purpose, *parts)]
    if any("|" in text or not text.isascii() for text in texts):
        raise ValueError(f"a signed link's parts are ASCII without '|': {texts}")
    expires = 0 if ttl is None else int((time.time() if now is None else now) + ttl)
    payload = _b64("|".join([*texts, str(expires)]).encode("ascii"))
    return f"{payload}.{_signature(secret, payload)}"


def verify(secret: bytes, purpose: str, token: str, *, now: float | None = None) -> tuple[str, ...]:
    """The parts a token names, if it is ours, unchanged, for `purpose` and not expired;
    else LinkRefused saying which (the words a page can show)."""
    payload, dot, signature = token.partition(".")
    if not dot or len(token) > MAX_TOKEN or not token.isascii():
        raise LinkRefused("this link is not one of ours")
    if not hmac.compare_digest(signature.encode("ascii"), _signature(secret, payload).encode("ascii")):
        raise LinkRefused("this link is not one of ours, or it was cut short")
    try:
        fields = _unb64(payload).decode("ascii").split("|")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise LinkRefused("this link is not one of ours") from None
    if len(fields) < 2 or fields[0] != purpose or not fields[-1].isdigit():
        raise LinkRefused("this link is for something else")
    expires = int(fields[-1])
    if expires and (time.time() if now is None else now) > expires:
        raise LinkRefused("this link has expired")
    return tuple(fields[1:-1])
