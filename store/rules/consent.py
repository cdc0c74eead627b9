"""Marketing consent per channel: a customer agreed (True), opted out (False) or was
never asked (None), and beside each answer when it was given and through what."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from store.base.errors import RuleViolation
from store.model import Channel

CHANNELS: tuple[Channel, ...] = ("email", "sms")
# The customer's field holding each channel's answer.
FIELDS: Mapping[Channel, str] = {"email": "email_marketing", "sms": "sms_marketing"}
# {"email": {"at": ISO time, "source": "form by ada"}, "sms": {…}}: written by the store, never by a file.
RECORD: Final = "marketing_consent"
_NAMES: Mapping[Channel, str] = {"email": "email", "sms": "SMS"}
SOURCE_LIMIT = 200
_TRAILING_PARENTHESIS = re.compile(r" [(](.*)[)]$")


def name(channel: Channel) -> str:
    """The channel's marketing as messages name it: "email marketing", "SMS marketing"."""
    return f"{_NAMES[channel]} marketing"


def opted_out(channel: Channel) -> str:
    """Why a campaign on `channel` skips a customer who said no (campaign summaries count by it)."""
    return f"opted out of {name(channel)}"


def channel_of(value: object) -> Channel:
    """`value` as a channel (RuleViolation naming the ones there are)."""
    for channel in CHANNELS:
        if value == channel:
            return channel
    raise RuleViolation(f"marketing channel must be {' or '.join(CHANNELS)}, not '{value}'")


def checked_source(source: object) -> str:
    """Where an answer came from, as the detail and the journal show it: one line of text."""
    text = source.strip() if isinstance(source, str) else ""
    if not text or len(text) > SOURCE_LIMIT or any(ch.isspace() and ch != " " for ch in text) or not text.isprintable():
        raise RuleViolation(f"a consent's source must be one printable line of 1-{SOURCE_LIMIT} characters")
    return text


def stamped(before: Mapping[str, Any], after: Mapping[str, Any], *, at: str, source: str) -> dict[str, Any] | None:
    """The consent record `after` is stored with: each channel whose answer differs from
    `before`'s gets `at` and `source`, the others keep theirs."""
    record = dict(before.get(RECORD) or {})
    for channel, field in FIELDS.items():
        if after.get(field) != before.get(field):
            record[channel] = {"at": at, "source": source}
    return record or None


def change_summary(number: str, channel: Channel, allowed: bool, source: str) -> str:
    """The journal's words: "Customer C-000001 opted out of email marketing (one-click
    unsubscribe, campaign #3)"; a source's own parenthesis joins the one around it."""
    verb = "agreed to" if allowed else "opted out of"
    said = _TRAILING_PARENTHESIS.sub(r", \1", source)
    return f"Customer {number} {verb} {name(channel)} ({said})"
